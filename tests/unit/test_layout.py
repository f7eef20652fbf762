"""The folders' import arrows point one way (ARCHITECTURE.md, Layout), read from the source.

Every import counts, including one inside a function: hiding an import there does not make an
arrow go away.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Most specific first: a module belongs to the first folder whose name prefixes it.
FOLDERS = (
    "app.core",
    "app.api",
    "app.inspection",
    "app.devserver",
    "app.ui",
    "worker.pruning.contract",
    "worker.pruning",
    "worker",
    "app",
)
# folder -> the folders it may import (besides itself).
ALLOWED = {
    "app.core": set(),
    "app.inspection": {"worker.pruning.contract"},
    "app.api": {"app.core", "app.inspection", "app.ui", "worker.pruning.contract"},
    "app.devserver": {"app.core"},
    "app.ui": set(),
    # app/admin.py, the operator's command line; devserver only to find `make run`'s database.
    "app": {"app.core", "app.devserver"},
    "worker": {"app.core", "app.inspection"},
    "worker.pruning": {"worker.pruning.contract"},
    "worker.pruning.contract": set(),
}
# What worker/ may take from app/inspection: the archive-safety checks, nothing else.
WORKER_INSPECTION_MODULES = {
    "app.inspection.archive_members",
    "app.inspection.archives",
    "app.inspection.errors",
}
MAX_LINES = 300


def folder_of(module: str) -> str | None:
    return next((f for f in FOLDERS if module == f or module.startswith(f + ".")), None)


def modules() -> Iterator[tuple[str, Path]]:
    for package in ("app", "worker"):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def arrows() -> set[tuple[str, str, str, str]]:
    """(source folder, target folder, source module, imported module) across folders."""
    found = set()
    for module, path in modules():
        source = folder_of(module)
        for imported in imports(path):
            target = folder_of(imported)
            if source and target and target != source:
                found.add((source, target, module, imported))
    return found


def test_every_arrow_is_allowed() -> None:
    wrong = sorted(a for a in arrows() if a[1] not in ALLOWED[a[0]])
    assert not wrong, "\n".join(f"{m} imports {i} ({s} -> {t})" for s, t, m, i in wrong)


def test_the_worker_takes_only_archive_safety_from_inspection() -> None:
    taken = {i for s, t, _m, i in arrows() if (s, t) == ("worker", "app.inspection")}
    other = {i for i in taken if {i, i.rsplit(".", 1)[0]}.isdisjoint(WORKER_INSPECTION_MODULES)}
    assert not other, sorted(other)


def test_nothing_imports_the_api_but_its_entry_point() -> None:
    users = {m for _s, t, m, _i in arrows() if t == "app.api"}
    assert not users, sorted(users)


@pytest.mark.parametrize("package", ["app", "worker", "shears_client"])
def test_no_module_is_over_the_size_of_one_idea(package: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long
