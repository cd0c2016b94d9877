"""Audit the project's installed virtual environment for known vulnerabilities with pip-audit.

Runs `.venv/bin/pip-audit` over the installed environment (no `-r`, so transitive dependencies are covered) and
judges its JSON report with `assess()`, a pure function:

- a vulnerability with a fix available fails the audit (exit 1): patch it;
- a vulnerability with no fix available is printed as a warning (exit 0);
- distributions pip-audit skipped are listed with the reason;
- when no distribution could be audited at all (no advisory source reachable, e.g. a closed network where
  pip-audit reports every distribution as "not found on PyPI") the audit was NOT performed: that is said loudly
  and exits 0, or 2 when `DEPENDENCY_AUDIT=required` (for CI that has network access).

Exit status: 0 pass (or not performed and not required), 1 fixable vulnerabilities, 2 audit not performed
while required, or a setup error. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

EXIT_PASS = 0
EXIT_FIXABLE_VULNERABILITIES = 1
EXIT_NOT_PERFORMED = 2

ENVIRONMENT_VARIABLE = "DEPENDENCY_AUDIT"
PIP_AUDIT_TIMEOUT_SECONDS = 600
PROJECT_ROOT = Path(__file__).resolve().parent.parent
BANNER = "=" * 78


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    id: str
    fix_versions: tuple[str, ...]
    aliases: tuple[str, ...]

    def describe(self) -> str:
        ids = self.id + (f" ({', '.join(self.aliases)})" if self.aliases else "")
        fix = f"fixed in {', '.join(self.fix_versions)}" if self.fix_versions else "no fix released"
        return f"{self.package} {self.version}: {ids}; {fix}"


@dataclass(frozen=True)
class SkippedDistribution:
    package: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    exit_status: int
    performed: bool
    audited: int
    fixable: tuple[Vulnerability, ...]
    unfixable: tuple[Vulnerability, ...]
    skipped: tuple[SkippedDistribution, ...]
    report: tuple[str, ...]


def assess(pip_audit_report: dict, *, required: bool) -> Verdict:
    """Judge a pip-audit `--format json` report. Raises ValueError when it is not such a report."""
    dependencies = pip_audit_report.get("dependencies") if isinstance(pip_audit_report, dict) else None
    if not isinstance(dependencies, list):
        raise ValueError("not a pip-audit JSON report: no 'dependencies' list")

    audited = 0
    fixable: list[Vulnerability] = []
    unfixable: list[Vulnerability] = []
    skipped: list[SkippedDistribution] = []
    for dependency in dependencies:
        if not isinstance(dependency, dict) or "name" not in dependency:
            raise ValueError(f"not a pip-audit JSON report: unexpected dependency entry {dependency!r}")
        if "skip_reason" in dependency:
            skipped.append(SkippedDistribution(dependency["name"], str(dependency["skip_reason"])))
            continue
        audited += 1
        for vuln in dependency.get("vulns") or []:
            if not isinstance(vuln, dict):
                raise ValueError(f"not a pip-audit JSON report: unexpected vulnerability entry {vuln!r}")
            found = Vulnerability(
                package=dependency["name"],
                version=str(dependency.get("version", "?")),
                id=str(vuln.get("id", "?")),
                fix_versions=tuple(str(v) for v in vuln.get("fix_versions") or ()),
                aliases=tuple(str(a) for a in vuln.get("aliases") or ()),
            )
            (fixable if found.fix_versions else unfixable).append(found)

    if audited == 0:
        if not skipped:
            return _not_performed(["pip-audit listed no installed distributions at all."], required=required)
        return _not_performed(
            [
                "No vulnerability advisory source was reachable: pip-audit skipped all "
                f"{len(skipped)} installed distributions, so none was checked against any advisory.",
                "Skip reasons:",
                *(f"  {count} x {reason}" for reason, count in _skip_reasons(skipped).most_common()),
                "(pip-audit reads advisories from PyPI's per-release JSON, pypi.org/pypi/<name>/<version>/json; "
                "where that is unreachable or answers 404, every distribution is 'not found on PyPI'.)",
            ],
            required=required,
            skipped=tuple(skipped),
        )

    report: list[str] = []
    if fixable:
        report.append(f"FAIL: {_count(len(fixable), 'known vulnerability', 'known vulnerabilities')} "
                      "with a fix available. Upgrade these (critical/high within 14 days):")
        report += [f"  {v.describe()}" for v in fixable]
    if unfixable:
        report.append(f"WARNING: {_count(len(unfixable), 'known vulnerability', 'known vulnerabilities')} "
                      "with no fix available yet. Review them; upgrading cannot fix them today:")
        report += [f"  {v.describe()}" for v in unfixable]
    if skipped:
        report.append(f"WARNING: {len(skipped)} of {len(dependencies)} installed distributions were NOT audited "
                      "(skipped by pip-audit):")
        report += [f"  {s.package}: {s.reason}" for s in skipped]
    exit_status = EXIT_FIXABLE_VULNERABILITIES if fixable else EXIT_PASS
    outcome = "FAILED" if fixable else "passed"
    report.append(
        f"Dependency audit {outcome}: {_count(audited, 'distribution', 'distributions')} audited, "
        f"{len(fixable)} fixable and {len(unfixable)} unfixable vulnerabilities, {len(skipped)} skipped."
    )
    return Verdict(exit_status, True, audited, tuple(fixable), tuple(unfixable), tuple(skipped), tuple(report))


def pip_audit_failed(returncode: int, stderr: str, *, required: bool) -> Verdict:
    """The verdict when pip-audit ran but gave no JSON report (it exits 1 when it cannot reach its service)."""
    tail = [line for line in stderr.strip().splitlines() if line.strip()][-5:]
    return _not_performed(
        [f"pip-audit exited with status {returncode} without a report (it does so when it cannot reach its "
         "advisory source). The end of what it said:",
         *(f"  {line}" for line in tail or ["(nothing)"])],
        required=required,
    )


def _not_performed(explanation: list[str], *, required: bool, skipped: tuple[SkippedDistribution, ...] = ()) -> Verdict:
    if required:
        consequence = f"Failing (exit {EXIT_NOT_PERFORMED}) because {ENVIRONMENT_VARIABLE}=required."
    else:
        consequence = (f"Exit status 0 only because {ENVIRONMENT_VARIABLE} is not 'required'; set "
                       f"{ENVIRONMENT_VARIABLE}=required where the network reaches PyPI to make this fail.")
    report = (
        BANNER,
        "DEPENDENCY AUDIT COULD NOT BE PERFORMED: no dependency was checked for known vulnerabilities.",
        "This is NOT a clean result: the vulnerability status of the installed dependencies is UNKNOWN.",
        *explanation,
        consequence,
        BANNER,
    )
    return Verdict(EXIT_NOT_PERFORMED if required else EXIT_PASS, False, 0, (), (), skipped, report)


def _skip_reasons(skipped: list[SkippedDistribution]) -> Counter[str]:
    """Skip reasons without their per-distribution tail ('...could not be audited: alembic (1.20.1)')."""
    return Counter(s.reason.split(": ", 1)[0] for s in skipped)


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def audit_required(environ: dict[str, str]) -> bool:
    value = environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if value not in ("", "optional", "required"):
        raise ValueError(f"{ENVIRONMENT_VARIABLE} must be 'required', 'optional' or unset, not {value!r}")
    return value == "required"


def run_pip_audit(venv: Path) -> subprocess.CompletedProcess[str]:
    """pip-audit over the environment at `venv`, with its JSON report on stdout."""
    environment = {**os.environ, "PIPAPI_PYTHON_LOCATION": str(venv / "bin" / "python")}
    return subprocess.run(
        [str(venv / "bin" / "pip-audit"), "--format", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True, text=True, env=environment, timeout=PIP_AUDIT_TIMEOUT_SECONDS, check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=PROJECT_ROOT / ".venv", help="environment to audit (.venv)")
    args = parser.parse_args(argv)
    try:
        required = audit_required(os.environ)
    except ValueError as error:
        print(f"Dependency audit: {error}", file=sys.stderr)
        return EXIT_NOT_PERFORMED
    if not (args.venv / "bin" / "pip-audit").exists():
        print(f"Dependency audit: {args.venv / 'bin' / 'pip-audit'} does not exist; run `make install`.",
              file=sys.stderr)
        return EXIT_NOT_PERFORMED

    print(f"Dependency audit of {args.venv} with pip-audit ...", flush=True)
    try:
        completed = run_pip_audit(args.venv)
    except subprocess.TimeoutExpired:
        verdict = pip_audit_failed(-1, f"timed out after {PIP_AUDIT_TIMEOUT_SECONDS} s", required=required)
    else:
        try:
            verdict = assess(json.loads(completed.stdout), required=required)
        except ValueError:  # json.JSONDecodeError is a ValueError: no (or no usable) report
            verdict = pip_audit_failed(completed.returncode, completed.stderr, required=required)
    print("\n".join(verdict.report))
    return verdict.exit_status


if __name__ == "__main__":
    sys.exit(main())
