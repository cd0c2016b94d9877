"""The dependency audit's verdict on pip-audit `--format json` reports (scripts/audit_dependencies.py).

The documents have the shape pip-audit 2.10 prints for an installed environment: audited distributions carry
`version` and `vulns`, skipped ones only `skip_reason`. pip-audit itself is never run here (it needs the network).
"""
from __future__ import annotations

import json

import pytest
from packaging.version import Version
from pip_audit._format import JsonFormat
from pip_audit._service import ResolvedDependency, SkippedDependency, VulnerabilityResult

from scripts.audit_dependencies import (
    EXIT_FIXABLE_VULNERABILITIES,
    EXIT_NOT_PERFORMED,
    EXIT_PASS,
    assess,
    audit_required,
    pip_audit_failed,
)


def audited(name: str, version: str, *vulns: dict) -> dict:
    return {"name": name, "version": version, "vulns": list(vulns)}


def skipped(name: str, version: str) -> dict:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} ({version})"}


def vuln(id_: str, fix_versions: list[str], alias: str) -> dict:
    return {"id": id_, "fix_versions": fix_versions, "aliases": [alias], "description": "Synthetic description."}


JINJA_SANDBOX_ESCAPE = vuln("GHSA-h5c8-rqwp-cp95", ["3.1.3"], "CVE-2024-22195")
ECDSA_TIMING_NO_FIX = vuln("GHSA-wj6h-64fc-37mp", [], "CVE-2024-23342")


def report(*dependencies: dict) -> dict:
    return {"dependencies": list(dependencies), "fixes": []}


def text(verdict) -> str:
    return "\n".join(verdict.report)


def test_clean_environment_passes():
    verdict = assess(report(audited("flask", "3.1.3"), audited("wtforms", "3.3.2")), required=True)
    assert verdict.exit_status == EXIT_PASS and verdict.performed and verdict.audited == 2
    assert "Dependency audit passed: 2 distributions audited" in text(verdict)


def test_vulnerability_with_a_fix_fails_and_names_package_version_id_and_fix():
    verdict = assess(report(audited("flask", "3.1.3"), audited("jinja2", "3.1.2", JINJA_SANDBOX_ESCAPE)),
                     required=False)
    assert verdict.exit_status == EXIT_FIXABLE_VULNERABILITIES
    assert [(v.package, v.version, v.id, v.fix_versions) for v in verdict.fixable] == [
        ("jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95", ("3.1.3",))]
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (CVE-2024-22195); fixed in 3.1.3" in text(verdict)
    assert "Dependency audit FAILED" in text(verdict)


def test_vulnerability_without_a_fix_passes_with_a_warning():
    verdict = assess(report(audited("ecdsa", "0.19.1", ECDSA_TIMING_NO_FIX), audited("flask", "3.1.3")),
                     required=True)
    assert verdict.exit_status == EXIT_PASS and verdict.performed
    assert verdict.fixable == () and [v.id for v in verdict.unfixable] == ["GHSA-wj6h-64fc-37mp"]
    assert "WARNING: 1 known vulnerability with no fix available" in text(verdict)
    assert "ecdsa 0.19.1: GHSA-wj6h-64fc-37mp (CVE-2024-23342); no fix released" in text(verdict)


ALL_SKIPPED = report(skipped("alembic", "1.20.1"), skipped("flask", "3.1.3"), skipped("jinja2", "3.1.6"))


def test_everything_skipped_is_not_performed_and_passes_by_default():
    verdict = assess(ALL_SKIPPED, required=False)
    assert verdict.exit_status == EXIT_PASS and not verdict.performed and verdict.audited == 0
    assert len(verdict.skipped) == 3
    out = text(verdict)
    assert "DEPENDENCY AUDIT COULD NOT BE PERFORMED" in out and "NOT a clean result" in out
    assert "No vulnerability advisory source was reachable" in out
    assert "3 x Dependency not found on PyPI and could not be audited" in out
    assert "DEPENDENCY_AUDIT=required" in out
    assert "passed" not in out and "No known vulnerabilities" not in out


def test_everything_skipped_fails_when_the_audit_is_required():
    verdict = assess(ALL_SKIPPED, required=True)
    assert verdict.exit_status == EXIT_NOT_PERFORMED and not verdict.performed
    assert "COULD NOT BE PERFORMED" in text(verdict) and "Failing (exit 2)" in text(verdict)


def test_no_distributions_at_all_is_not_performed():
    assert assess(report(), required=True).exit_status == EXIT_NOT_PERFORMED
    assert assess(report(), required=False).exit_status == EXIT_PASS


def test_partial_skip_passes_and_lists_the_skipped_distributions():
    verdict = assess(report(audited("flask", "3.1.3"), skipped("govuk-frontend-jinja", "4.1.0")), required=True)
    assert verdict.exit_status == EXIT_PASS and verdict.performed
    out = text(verdict)
    assert "WARNING: 1 of 2 installed distributions were NOT audited" in out
    assert "govuk-frontend-jinja: Dependency not found on PyPI and could not be audited: govuk-frontend-jinja" in out
    assert "1 distribution audited" in out and "1 skipped" in out


def test_mixed_report_fails_on_the_fixable_one_and_reports_everything_else():
    verdict = assess(
        report(
            audited("jinja2", "3.1.2", JINJA_SANDBOX_ESCAPE),
            audited("ecdsa", "0.19.1", ECDSA_TIMING_NO_FIX),
            audited("flask", "3.1.3"),
            skipped("govuk-frontend-wtf", "3.2.0"),
        ),
        required=False,
    )
    assert verdict.exit_status == EXIT_FIXABLE_VULNERABILITIES
    assert (len(verdict.fixable), len(verdict.unfixable), len(verdict.skipped), verdict.audited) == (1, 1, 1, 3)
    out = text(verdict)
    for expected in ("FAIL: 1 known vulnerability with a fix available", "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95",
                     "ecdsa 0.19.1: GHSA-wj6h-64fc-37mp", "govuk-frontend-wtf: Dependency not found on PyPI",
                     "3 distributions audited, 1 fixable and 1 unfixable vulnerabilities, 1 skipped"):
        assert expected in out


def test_a_distribution_with_several_vulnerabilities_fails_if_any_has_a_fix():
    verdict = assess(report(audited("jinja2", "3.1.2", ECDSA_TIMING_NO_FIX, JINJA_SANDBOX_ESCAPE)), required=False)
    assert verdict.exit_status == EXIT_FIXABLE_VULNERABILITIES
    assert [v.id for v in verdict.fixable] == ["GHSA-h5c8-rqwp-cp95"]
    assert [v.id for v in verdict.unfixable] == ["GHSA-wj6h-64fc-37mp"]


def test_the_document_pip_audit_itself_formats_is_understood():
    """Builds the report with the pinned pip-audit's own JSON formatter, so a change of its shape is caught."""
    fixable = VulnerabilityResult(id="GHSA-h5c8-rqwp-cp95", description="Synthetic description.",
                                  fix_versions=[Version("3.1.3")], aliases={"CVE-2024-22195"})
    unfixable = VulnerabilityResult(id="GHSA-wj6h-64fc-37mp", description="Synthetic description.",
                                    fix_versions=[], aliases={"CVE-2024-23342"})
    results = {
        ResolvedDependency(name="Jinja2", version=Version("3.1.2")): [fixable],
        ResolvedDependency(name="ecdsa", version=Version("0.19.1")): [unfixable],
        ResolvedDependency(name="Flask", version=Version("3.1.3")): [],
        SkippedDependency(name="alembic", skip_reason="Dependency not found on PyPI and could not be audited: "
                                                      "alembic (1.20.1)"): [],
    }
    document = json.loads(JsonFormat(output_desc=True, output_aliases=True).format(results, []))

    verdict = assess(document, required=False)

    assert verdict.exit_status == EXIT_FIXABLE_VULNERABILITIES
    assert [(v.package, v.version, v.fix_versions, v.aliases) for v in verdict.fixable] == [
        ("jinja2", "3.1.2", ("3.1.3",), ("CVE-2024-22195",))]
    assert [(v.package, v.fix_versions) for v in verdict.unfixable] == [("ecdsa", ())]
    assert [s.package for s in verdict.skipped] == ["alembic"] and verdict.audited == 3


@pytest.mark.parametrize("document", [[], {}, {"dependencies": "none"}, {"dependencies": [{"version": "1.0"}]},
                                      {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": ["x"]}]}])
def test_a_document_that_is_not_a_pip_audit_report_is_rejected(document):
    with pytest.raises(ValueError, match="not a pip-audit JSON report"):
        assess(document, required=False)


def test_pip_audit_failing_without_a_report_is_not_performed():
    stderr = "Traceback (most recent call last):\n  ...\nrequests.exceptions.ConnectionError: pypi.org unreachable\n"
    verdict = pip_audit_failed(1, stderr, required=False)
    assert verdict.exit_status == EXIT_PASS and not verdict.performed
    assert "COULD NOT BE PERFORMED" in text(verdict) and "pypi.org unreachable" in text(verdict)
    assert pip_audit_failed(1, stderr, required=True).exit_status == EXIT_NOT_PERFORMED


@pytest.mark.parametrize(("value", "required"), [(None, False), ("", False), ("optional", False),
                                                 ("required", True), (" Required ", True)])
def test_dependency_audit_variable(value, required):
    assert audit_required({} if value is None else {"DEPENDENCY_AUDIT": value}) is required


def test_a_misspelt_dependency_audit_variable_is_an_error():
    with pytest.raises(ValueError, match="DEPENDENCY_AUDIT"):
        audit_required({"DEPENDENCY_AUDIT": "require"})
