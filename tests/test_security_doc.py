"""docs/security.md names the tests that prove each requirement: every file and test it names must exist."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test")}


def test_every_test_the_security_document_names_exists():
    text = DOC.read_text()
    current = None
    named = 0
    for match in re.finditer(r"`([\w/]+\.py)(?:::(\w+))?`|`::(\w+)`", text):
        file, test, continued = match.groups()
        if file and not Path(file).name.startswith("test_"):
            continue  # a product file the row mentions, not a test
        if file:
            current = ROOT / "tests" / file
            assert current.is_file(), f"docs/security.md names tests/{file}, which does not exist"
        name = test or continued
        if name:
            assert current is not None
            assert name in _tests_in(current), f"docs/security.md names {current.name}::{name}, which does not exist"
            named += 1
    assert named >= 50
