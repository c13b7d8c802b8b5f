"""The package's shape: one package per stage, imports pointing one way, no cycle, small parts.

The stages, in the order data flows through them (DESIGN.md, README's Development section):

    sensors -> recording -> store -> rules -> advice -> files -> daemon | views -> cli

A module may import its own stage and the stages before it, never a later one (``daemon``
and ``views`` are siblings: neither imports the other); the modules at the top of ``agent/``
(settings, units, errors, models, clocks, safe writes) are the base every stage may import,
and they import no stage. Every import counts, inside functions and ``TYPE_CHECKING`` blocks
too: a cycle that only type checking sees is still two modules that cannot be read apart.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

AGENT = Path(__file__).resolve().parents[1] / "agent"

STAGES = (
    "sensors",
    "recording",
    "store",
    "rules",
    "advice",
    "files",
    ("daemon", "views"),
    "cli",
)
BASE = {
    "config",
    "config_bounds",
    "config_load",
    "config_cache",
    "config_edit",
    "units",
    "errors",
    "models",
    "clock",
    "safe_write",
}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def stage_rank() -> dict[str, int]:
    ranks: dict[str, int] = {}
    for rank, stage in enumerate(STAGES, start=1):
        for name in (stage,) if isinstance(stage, str) else stage:
            ranks[name] = rank
    return ranks


def module_name(path: Path) -> str:
    parts = path.relative_to(AGENT.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(AGENT.rglob("*.py"))}


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Each module of ``agent`` that ``name`` imports, with the line; a package imported
    for a submodule (``import agent.a.b`` runs ``agent.a``) counts as imported too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("agent") and target != name:
                yield target, node.lineno


def stage_of(name: str) -> str | None:
    """The stage a module belongs to; None for the base (and ``agent`` itself)."""
    parts = name.split(".")
    if len(parts) == 1 or parts[1] in BASE:
        return None
    if parts[1] == "__main__":
        return "cli"
    return parts[1]


def test_every_module_is_in_a_stage_or_the_base() -> None:
    ranks = stage_rank()
    for name in modules():
        stage = stage_of(name)
        assert stage is None or stage in ranks, f"{name}: not in a stage of {STAGES}"


def test_imports_point_one_way() -> None:
    ranks = stage_rank()
    known = modules()
    wrong: set[str] = set()
    for name, path in known.items():
        mine = stage_of(name)
        for target, line in imported(name, path, known):
            theirs = stage_of(target)
            if theirs is None or theirs == mine:
                continue
            if mine is None or ranks[theirs] >= ranks[mine]:
                wrong.add(f"{path.relative_to(AGENT.parent)}:{line}: {name} -> {target}")
    assert not wrong, "imports against sensors -> ... -> cli:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    known = modules()
    graph = {name: {t for t, _ in imported(name, path, known)} for name, path in known.items()}
    cycles = []
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_modules_and_functions_are_small() -> None:
    too_long = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = text.count("\n")
        reason = "over 400 lines" in (ast.get_docstring(tree) or "").lower()
        if lines > MAX_MODULE_LINES and not reason:
            too_long.append(f"{name}: {lines} lines and no reason at its top")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []


def test_the_checker_sees_a_cycle_and_a_backward_import(tmp_path: Path) -> None:
    """The walk itself: a relative import, a package import and a local import all count."""
    pkg = tmp_path / "agent"
    (pkg / "rules").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "rules" / "__init__.py").write_text("")
    (pkg / "rules" / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "rules" / "b.py").write_text("from agent.rules.a import f\nimport agent.cli\n")
    (pkg / "cli.py").write_text("")
    known = {module_name_in(p, tmp_path): p for p in sorted(pkg.rglob("*.py"))}
    a = {t for t, _ in imported("agent.rules.a", known["agent.rules.a"], known)}
    b = {t for t, _ in imported("agent.rules.b", known["agent.rules.b"], known)}
    assert "agent.rules.b" in a
    assert {"agent.rules.a", "agent.cli"} <= b


def module_name_in(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
