"""``cmkctl preview``: run a stack offline and write what ``pulumi preview --json`` would."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from cmkctl.plan.digest import plan_text, preview_digest
from cmkctl.plan.recorder import (
    PROJECT,
    ROOT,
    ExistingDescriptionError,
    Recording,
    existing_description,
    record,
    stack_config,
)
from cmkctl.plan.tree import render_tree
from cmkctl.stacks.references import StackReferenceError
from cmkctl.stacks.stack_file import StackFileError
from components.config.problems import ConfigError
from components.config.stack import load
from components.program import StackOutputError


class PreviewError(Exception):
    """The stack cannot be previewed; the message says why and what to do."""


class InvalidReferenceError(PreviewError):
    """A referenced stack is invalid or lacks an output: a config problem (exit 1)."""


def build_plan(stack: str, root: Path = ROOT, stack_dir: Path | None = None) -> dict[str, Any]:
    """Validate ``Pulumi.<stack>.yaml`` (in ``stack_dir``, default ``root``), run the program
    in ``root`` and return the preview JSON."""
    return plan_and_references(stack, root, stack_dir)[0]


def plan_and_references(stack: str, root: Path = ROOT,
                        stack_dir: Path | None = None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """:func:`build_plan`, and the stacks whose files it read through stack references."""
    recording = _record(stack, root, stack_dir or root)
    return preview_digest(recording), recording.referenced


def _record(stack: str, root: Path, stack_dir: Path) -> Recording:
    stack_file = stack_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists() and not stack_file.is_symlink():  # others: the reader decides
        raise PreviewError(
            f"no stack file {stack_file.name} in {stack_dir}; "
            f"create it with `pulumi stack init {stack}` and `pulumi config set`"
        )
    try:
        config = stack_config(stack, stack_dir, root)
    except (StackFileError, OSError) as error:
        raise PreviewError(str(error)) from None
    prefix = f"{PROJECT}:"
    load({k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)})
    try:
        existing_description(config)
    except ExistingDescriptionError as error:
        raise PreviewError(f"{stack_file.name}: {error}") from None
    try:
        recording = record(stack, config, root=root, stack_dir=stack_dir)
    except StackReferenceError as error:
        raise (PreviewError if error.unreadable else InvalidReferenceError)(str(error)) from None
    except StackOutputError as error:
        raise InvalidReferenceError(str(error)) from None
    return recording


def run(
    stack: str,
    out: str | None,
    as_json: bool,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    root: Path = ROOT,
) -> int:
    """Exit 0 with a plan; 1 when the config is invalid (no plan written); 2 when unreadable."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        recording = _record(stack, root, root)
    except ConfigError as error:
        print(f"stack {stack!r}: {error.render()}", file=stderr)
        return 1
    except InvalidReferenceError as error:
        print(f"cmkctl preview: {error}", file=stderr)
        return 1
    except PreviewError as error:
        print(f"cmkctl preview: {error}", file=stderr)
        return 2
    document = plan_text(preview_digest(recording))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(document, encoding="utf-8")
    if as_json:
        stdout.write(document)  # stdout carries the plan alone; the file holds the same bytes
        return 0
    print(render_tree(recording), file=stdout)
    if out:
        print(f"plan written to {out}", file=stdout)
    return 0
