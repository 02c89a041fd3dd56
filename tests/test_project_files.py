"""The project files stay true to the code: every config key is typed, described, documented."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from cmkctl.plan.recorder import stack_config
from cmkctl.stacks.stack_file import project_schema
from components.config.keys import KNOWN_KEYS, default_of
from components.config.problems import PROJECT
from components.config.stack import load
from tests.stacks import EXAMPLE_STACKS

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def test_every_key_the_program_reads_is_in_the_schema_and_nothing_else() -> None:
    assert set(SCHEMA) == KNOWN_KEYS


def test_every_schema_entry_is_typed_and_described() -> None:
    for key, entry in SCHEMA.items():
        assert entry["type"] in {"string", "integer", "boolean", "array"}, key
        assert len(entry["description"]) > 20, key
        if entry["type"] == "array":
            assert entry["items"] == {"type": "string"}, key


def test_every_key_is_explained_in_the_configuration_reference() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    assert [k for k in sorted(KNOWN_KEYS) if f"`{k}`" not in reference] == []


def test_schema_defaults_are_valid_values() -> None:
    for key, entry in SCHEMA.items():
        kind = {"string": str, "integer": int, "boolean": bool, "array": list}[entry["type"]]
        assert isinstance(entry["default"], kind), key


def test_every_key_has_a_default_so_the_cli_does_not_require_it() -> None:
    """The Pulumi CLI refuses a stack that leaves out a key declared without a default
    (pkg/workspace/config.go, "is missing configuration value"); optional keys default to ""."""
    assert [k for k, e in SCHEMA.items() if "default" not in e] == []


def test_the_key_table_knows_each_default_the_cli_passes() -> None:
    _, schema = project_schema(ROOT)
    assert {k: e.default for k, e in schema.items()} == {k: default_of(k) for k in KNOWN_KEYS}


def test_example_stacks_are_valid_configs() -> None:
    prefix = f"{PROJECT}:"
    for stack in EXAMPLE_STACKS:
        config = stack_config(stack, ROOT)
        assert load({k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}), stack


def test_no_test_discovers_stacks_by_globbing_the_project_root() -> None:
    """Users' own stack files sit beside the examples; tests name the examples instead."""
    pattern = re.compile(r"(ROOT|REPO)\.r?glob\(\"" + "Pulumi")
    offenders = [p.name for p in (ROOT / "tests").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == [], "use tests.stacks.EXAMPLE_STACKS"
