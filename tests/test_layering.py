"""DESIGN.md §2: imports run one way. workflows may use bidrag, arenden, notifications;
bidrag may use arenden and notifications; arenden may use notifications; notifications
uses none of them; only config imports workflows."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAY_NOT = {
    "bidrag": {"workflows", "config", "konton"},
    "arenden": {"workflows", "bidrag", "config", "konton"},
    "notifications": {"workflows", "bidrag", "arenden", "config", "konton"},
}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(MAY_NOT))
def test_imports_run_one_way(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported(path) & MAY_NOT[app])
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and imported(path) & MAY_NOT[app]
    }
    assert not wrong, f"{app} imports what it may not: {wrong}"
