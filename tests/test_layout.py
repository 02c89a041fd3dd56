"""The layout's promises: dependencies point one way and no module imports itself in a circle.

Imports are read with ``ast`` (every ``import`` statement, at module level or inside a function,
so a lazy import that hides a cycle is still caught).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cmkctl", "components", "policies")

ALLOWED: dict[str, tuple[str, ...]] = {
    # importer prefix -> project prefixes it may import (besides itself)
    "policies": (),
    "components": (),
    "cmkctl": (),
    "components.config": ("policies.key_compatibility", "policies.clouds"),
    "components.customer": ("components.config", "components.providers",
                            "components.resource_group"),
    "components.provider": ("components.config", "components.providers",
                            "components.resource_group", "components.role_propagation"),
    "components.setups": ("components.config", "components.customer", "components.providers",
                          "components.resource_group"),
    "components.providers": ("components.config",),
    "components.resource_group": ("components.config",),
    "components.role_propagation": (),
    "components.program": ("components",),
    "cmkctl.stacks": ("components.config",),
    "cmkctl.plan": ("cmkctl.stacks", "components", "policies.clouds"),
    "cmkctl.check": ("cmkctl.plan", "cmkctl.review.destructive", "policies"),
    "cmkctl.review": ("cmkctl.stacks", "cmkctl.plan", "cmkctl.check", "components.config",
                      "policies"),
    "cmkctl.fleet": ("cmkctl.stacks", "cmkctl.plan", "cmkctl.check", "cmkctl.review",
                     "cmkctl.atomic_file", "components.config", "components.program", "policies"),
    # The fork server's preload: the components a fleet's workers use and the project file
    # they read, loaded before forking.
    "cmkctl.fleet.preload": ("cmkctl.fleet", "cmkctl.stacks", "components"),
    "cmkctl.live": ("cmkctl.stacks", "cmkctl.plan", "cmkctl.atomic_file", "components.config",
                    "policies.clouds"),
    "cmkctl.cert": ("cmkctl.atomic_file", "components.config"),
    "cmkctl.cli": ("cmkctl",),
    "cmkctl.__main__": ("cmkctl.cli",),
}
"""Each module is judged by the longest prefix that names it."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }


def _imports(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Project modules ``name`` imports (``from a import b`` counts ``a.b`` when it is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        yield from (target for target in targets if target in known)


def _graph() -> dict[str, set[str]]:
    modules = _project_modules()
    known = set(modules)
    return {name: set(_imports(name, path, known)) - {name} for name, path in modules.items()}


def _rule(module: str) -> tuple[str, tuple[str, ...]]:
    matches = [p for p in ALLOWED if module == p or module.startswith(p + ".")]
    assert matches, f"{module} has no import rule in ALLOWED; add one"
    prefix = max(matches, key=len)
    return prefix, ALLOWED[prefix]


def _within(target: str, prefixes: tuple[str, ...]) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def _parents(module: str) -> tuple[str, ...]:
    """A package's ``__init__`` runs before any of its modules: importing them is allowed."""
    parts = module.split(".")
    return tuple(".".join(parts[:i]) for i in range(1, len(parts)))


def _wrong_way(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in sorted(graph.items()):
        own, allowed = _rule(module)
        for target in sorted(targets):
            if not _within(target, (own, *allowed)) and target not in _parents(module):
                wrong.append(f"{module} imports {target} (allowed: {own}, {', '.join(allowed)})")
    return wrong


def test_every_import_points_the_allowed_way() -> None:
    assert _wrong_way(_graph()) == []


def test_an_import_against_the_direction_is_named() -> None:
    graph = {"components.config.stack": {"components.customer.vault", "components.config.reader"},
             "policies.pack": {"cmkctl.cli"}}
    assert _wrong_way(graph) == [
        "components.config.stack imports components.customer.vault "
        "(allowed: components.config, policies.key_compatibility, policies.clouds)",
        "policies.pack imports cmkctl.cli (allowed: policies, )",
    ]


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every cycle a depth-first walk meets, as ``a -> b -> a``."""
    cycles: list[str] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return cycles


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_a_cycle_through_three_modules_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == ["a -> b -> c -> a"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from cmkctl.plan import reader", {"cmkctl.plan.reader"}),
        ("from cmkctl.plan.reader import PlanError", {"cmkctl.plan.reader"}),
        ("def f():\n    import components.program", {"components.program"}),
        ("from . import reader", {"cmkctl.plan.reader"}),
        ("import json", set()),
    ],
)
def test_imports_are_read_at_any_depth_and_any_spelling(
    tmp_path: Path, source: str, expected: set[str]
) -> None:
    module = tmp_path / "tree.py"
    module.write_text(source)
    known = {"cmkctl.plan", "cmkctl.plan.reader", "components.program"}
    assert set(_imports("cmkctl.plan.tree", module, known)) == expected
