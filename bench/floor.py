"""The import floor of one stack: the SDK modules that define the resource types its plan holds.

Each provider SDK lists, in its ``__init__.py``, which module defines which resource type
(``_utilities.register(resource_modules=..., resource_packages=...)``, the table the Pulumi
runtime itself uses to rehydrate resources). Read from the installed files, without
importing them, that table maps a plan's types to exactly the modules a stack cannot do
without: ``azure-native:keyvault:Vault`` to ``pulumi_azure_native.keyvault``,
``pulumi:providers:azuread`` to ``pulumi_azuread``. Types of no SDK (components, the root
stack, stack references) need ``pulumi`` alone.

The SDKs import sub-modules lazily: ``import pulumi_azure_native.compute`` only creates a
placeholder, and the module runs at its first attribute access. A floor that merely imports
would therefore not load them at all; :data:`FLOOR_SCRIPT` touches every class the plan
registers, which is what the program does too.
"""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import re
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from types import ModuleType

SDK_PREFIXES = ("pulumi_", "pulumiverse_")
"""Top-level names of Pulumi provider SDK packages."""
_TABLE = re.compile(r'(resource_modules|resource_packages)="""(.*?)"""', re.DOTALL)

FLOOR_SCRIPT = """
import importlib, sys
import pulumi
for spec in sys.argv[1:]:
    name, _, classes = spec.partition(":")
    module = importlib.import_module(name)
    for cls in filter(None, classes.split(",")):
        getattr(module, cls)
"""
"""Run as ``python -c FLOOR_SCRIPT module:Class,Class ...``: ``pulumi`` and those classes."""


@cache
def _registered() -> Mapping[str, tuple[str, str]]:
    """Resource or provider type token -> (defining module, class name), over installed SDKs."""
    where: dict[str, tuple[str, str]] = {}
    for package in pkgutil.iter_modules():
        if not package.name.startswith(SDK_PREFIXES):
            continue
        spec = importlib.util.find_spec(package.name)  # a top-level name: nothing is run
        if spec is None or spec.origin is None or not spec.origin.endswith("__init__.py"):
            continue
        source = Path(spec.origin).read_text(encoding="utf-8")
        for kind, table in _TABLE.findall(source):
            for entry in json.loads(table):
                if kind == "resource_packages":
                    where[entry["token"]] = (entry["fqn"], entry["class"])
                else:
                    where.update({token: (entry["fqn"], cls)
                                  for token, cls in entry["classes"].items()})
    return where


def floor_of(types: Iterable[str]) -> dict[str, list[str]]:
    """Defining module -> the classes of ``types`` it defines, for every type an SDK defines."""
    found: dict[str, set[str]] = {}
    for type_ in types:
        if type_ in _registered():
            module, cls = _registered()[type_]
            found.setdefault(module, set()).add(cls)
    return {module: sorted(classes) for module, classes in sorted(found.items())}


def plan_types(plan: Mapping[str, object]) -> set[str]:
    """Resource types a ``pulumi preview --json`` document registers or reads."""
    steps = plan.get("steps")
    assert isinstance(steps, list), "not a preview document: no steps list"
    return {step["newState"]["type"] for step in steps if step.get("newState")}


def floor_arguments(floor: Mapping[str, list[str]]) -> list[str]:
    """:data:`FLOOR_SCRIPT`'s arguments for ``floor``."""
    return [f"{module}:{','.join(classes)}" for module, classes in floor.items()]


def loaded_sdk_modules(modules: Mapping[str, ModuleType] | None = None) -> set[str]:
    """SDK modules that have run in this process (placeholders of lazy imports excluded) and
    that define resource types: what a preview actually paid to load."""
    modules = sys.modules if modules is None else modules
    defining = {module for module, _ in _registered().values()}
    return {name for name, module in list(modules.items())
            if name in defining and type(module).__name__ != "_LazyModule"}
