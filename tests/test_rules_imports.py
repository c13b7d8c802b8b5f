"""The rules import one another in one direction only (issue 18): no module of agent/rules
imports, even for type checking only, a module that imports it back, and the package's
``__init__`` is a docstring, so importing one rule never loads the others."""

from __future__ import annotations

import ast
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "agent" / "rules"
PACKAGE = "agent.rules"


def module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def imports(path: Path) -> set[str]:
    """The agent.rules modules ``path`` imports, anywhere in it (TYPE_CHECKING blocks and
    function bodies too): ``from agent.rules import pain`` is the package and its ``pain``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            parts = name.split(".")
            # Every package on the way is imported too (its __init__ runs first).
            found |= {".".join(parts[:n]) for n in range(2, len(parts) + 1)}
    modules = {module_name(p) for p in RULES.glob("*.py")}
    return (found & modules) - {module_name(path)}


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports(path) for path in sorted(RULES.glob("*.py"))}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every module from which an import chain leads back to it, with one such chain."""
    found = []
    for start in edges:
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    found.append([*path, start])
                    stack.clear()
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def test_no_module_of_the_rules_imports_in_a_cycle() -> None:
    edges = graph()
    assert {"agent.rules.load", "agent.rules.allowance", "agent.rules.evaluate"} <= set(edges)
    assert cycles(edges) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(chain[0] for chain in cycles(edges)) == ["a", "b", "c"]


def test_the_rules_package_is_a_docstring() -> None:
    tree = ast.parse((RULES / "__init__.py").read_text(encoding="utf-8"))
    assert len(tree.body) == 1
    assert isinstance(tree.body[0], ast.Expr)
    assert isinstance(tree.body[0].value, ast.Constant)
    assert graph()[PACKAGE] == set()


def test_old_imports_still_work() -> None:
    from agent.models import Plan, PlanWeek
    from agent.rules import plan
    from agent.rules.evaluate import evaluate, rank

    assert (plan.Plan, plan.PlanWeek) == (Plan, PlanWeek)
    assert callable(evaluate)
    assert callable(rank)
