"""The two rules of the code base: the core never imports Qt or the screens, and the screens
never reach the database except through the services.

Every import counts, also one inside a function or under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "clinicdesk": ("PySide6", "shiboken6", "ui"),
    "ui": ("sqlalchemy", "sqlcipher3", "alembic", "clinicdesk.store"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # "from clinicdesk import store" names the store as well
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def breaches(package: str) -> list[str]:
    bad: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in FORBIDDEN[package]):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_keep_to_their_imports(package: str) -> None:
    assert breaches(package) == []


def test_the_check_sees_a_breach(tmp_path: Path) -> None:
    """A lazy import inside a function is found, and so is a 'from package import module'."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from clinicdesk import store\n    import sqlalchemy.orm\n", encoding="utf-8"
    )
    modules = [m for _line, m in imported_modules(sample)]
    assert "clinicdesk.store" in modules
    assert "sqlalchemy.orm" in modules
