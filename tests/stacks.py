"""Shared helpers: run the real program offline with a stack file's config plus overrides."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import yaml

from cmkctl.plan.recorder import PROJECT, ROOT, Recording, record, stack_config
from components.config.keys import KEYS, Mode

PREFIX = f"{PROJECT}:"
EXAMPLE_STACKS = ("byovault", "credstore", "customer", "dev", "govcustomer", "govprovider", "org",
                  "provider", "snowflake")
"""The stack files this repository ships. Users add their own ``Pulumi.<stack>.yaml`` beside
them (where ``pulumi stack init`` puts them): tests name these, never glob the root."""


def example(stack: str, mode: Mode, **overrides: object) -> dict[str, object]:
    """An example stack file's own config as written (YAML values, not the strings the program
    receives), keys of ``mode`` only, with short-key overrides (None removes): the content of
    a stack file a test writes."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    config = {k: v for k, v in config.items() if mode in KEYS[k.removeprefix(PREFIX)].modes}
    for key, value in overrides.items():
        config.pop(PREFIX + key, None)
        if value is not None:
            config[PREFIX + key] = value
    return config


def committed_project(repo: Path, files: Mapping[str, str] | None = None) -> Path:
    """This project, with ``files`` (name: text) added, committed to a new git repository at
    ``repo``: a base for ``--base-ref`` to build from."""
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".venv", ".git", "out", "tests", "plans", "bench", "*.pyc", "__pycache__"))
    for name, text in (files or {}).items():
        (repo / name).write_text(text)
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm",
                  "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def config_of(stack: str, **overrides: str | None) -> dict[str, str]:
    """``Pulumi.<stack>.yaml`` config with short-key overrides (a key with a namespace, such
    as ``cmkctl:existing``, as it is); None removes a key.

    The stack's own keys that would have no effect after the overrides (another mode, a
    binding removed) are left out, as a user changing the mode would remove them; the
    overrides themselves are always kept, so tests can set a misplaced key on purpose.
    """
    config = stack_config(stack)
    for key, value in overrides.items():
        full = key if ":" in key else PREFIX + key
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    short = {k[len(PREFIX) :]: v for k, v in config.items() if k.startswith(PREFIX)}
    try:
        mode = Mode(short.get("mode", Mode.BOTH.value))
    except ValueError:
        return config  # an invalid mode is the test's subject

    def applies(key: str) -> bool:
        scope = KEYS.get(key)
        if key in overrides or scope is None:
            return True
        return mode in scope.modes and (scope.needs is None or scope.needs.met(short))

    others = {k: v for k, v in config.items() if not k.startswith(PREFIX)}
    return {**others, **{PREFIX + k: v for k, v in short.items() if applies(k)}}


def run_stack(
    stack: str = "dev", *, invokes: Mapping[str, object] | None = None, **overrides: str | None
) -> Recording:
    """Record ``stack`` with overrides, each run in its own runtime context."""
    return record(stack, config_of(stack, **overrides), invokes=invokes)  # type: ignore[arg-type]
