"""The import rules of docs/architecture.md, checked over every module of app/, workflows/ and panels/.

Every import counts, a function's own included: a rule kept only at the top of a file is not kept.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The feature packages of app/, lowest first: each may import core, the engine and the features before it.
FEATURES = ("web", "auth", "notifications", "cases", "actions", "meetings", "measures", "api", "admin")
#: What a panel may import of the shared code: its contract and its kit, nothing else.
PANEL_SURFACE = ("panels.base", "panels.kit")
#: The longest a module may grow (lines) before it is split by concern.
MAX_LINES = 420


def modules() -> dict[str, Path]:
    found = {}
    for top in ("app", "workflows", "panels"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """Every module this one imports, absolute, at any depth of the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from app import notifications" imports app.notifications; "from app.core import audit", app.core.
            found |= {f"{base}.{alias.name}" for alias in node.names} if "." not in base else {base}
    return found


def layer(module: str) -> str:
    """The part of the system a module belongs to: core, a feature, the factory, the engine, or a panel."""
    parts = module.split(".")
    if parts[0] == "app":
        return "factory" if len(parts) == 1 else parts[1]
    if parts[0] == "panels":
        return "panels" if len(parts) == 1 or parts[1] in ("base", "kit") else f"panel:{parts[1]}"
    return parts[0]


def allowed(importer: str, imported: str) -> str | None:
    """Why the import breaks a rule, or None when it keeps them."""
    if imported.split(".")[0] not in ("app", "workflows", "panels"):
        return None
    src, dst = layer(importer), layer(imported)
    if src == dst:
        return None
    if imported == "app.create_app":
        return "only the wsgi entry point and the tests call the factory"
    if src.startswith("panel:"):
        if any(imported == s or imported.startswith(s + ".") for s in PANEL_SURFACE):
            return None
        return "a panel reaches shared code only through panels.kit (and its contract in panels.base)"
    if src == "core":
        return "core imports no feature, no panel and not the engine"
    if src == "workflows":
        return None if dst == "core" else "the engine imports only core"
    if dst.startswith("panel:") or dst == "panels":
        return None if src in ("factory", "panels") else "only the panel registry and the factory import a panel"
    if src == "panels":  # the registry, the contract and the kit: anything below the panels
        return None
    if src in FEATURES:
        if dst in ("core", "workflows"):
            return None
        if dst in FEATURES and FEATURES.index(dst) < FEATURES.index(src):
            return None
        return f"feature {src!r} may import only core, the engine and the features before it {FEATURES}"
    return None  # the factory wires everything


def test_every_import_keeps_the_layering():
    found = modules()
    broken = sorted(f"{name} imports {imported}: {why}"
                    for name, path in found.items() for imported in imports(name, path)
                    if (why := allowed(name, imported)))
    assert not broken, "\n".join(broken)


def test_the_rules_catch_what_they_forbid():
    """The checker itself: each rule refuses the import it names."""
    assert allowed("app.core.access", "app.meetings.models")
    assert allowed("workflows.engine", "app.measures.rollup")
    assert allowed("app.cases.views", "app.meetings.agenda")
    assert allowed("app.meetings.views", "panels.marac")
    assert allowed("panels.marac.workflow", "app.core.timeutil")
    assert allowed("panels.marac.views", "workflows")
    assert not allowed("panels.marac.workflow", "panels.kit")
    assert not allowed("app.meetings.views", "app.cases.services")
    assert not allowed("panels", "panels.marac")
    assert not allowed("app", "panels")


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_too_long_to_read(name):
    lines = len(modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by concern"
