"""Shared helpers: run the real program offline with a stack file's config plus overrides."""

from __future__ import annotations

from collections.abc import Mapping

from cmkctl.recorder import PROJECT, Recording, record, stack_config


def config_of(stack: str, **overrides: str | None) -> dict[str, str]:
    """``Pulumi.<stack>.yaml`` config with short-key overrides; None removes a key."""
    config = stack_config(stack)
    for key, value in overrides.items():
        full = f"{PROJECT}:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    return config


def run_stack(
    stack: str = "dev", *, invokes: Mapping[str, object] | None = None, **overrides: str | None
) -> Recording:
    """Record ``stack`` with overrides, each run in its own runtime context."""
    return record(stack, config_of(stack, **overrides), invokes=invokes)  # type: ignore[arg-type]
