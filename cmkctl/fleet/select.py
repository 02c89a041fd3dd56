"""Which stacks a fleet run covers: stack files by glob, and a stable share for one shard."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import yaml

from cmkctl.stacks.names import StackNameError, check_stack_name

_STACK_FILE = re.compile(r"Pulumi\.(?P<stack>.+)\.yaml", re.DOTALL)


class SelectionError(Exception):
    """The arguments select no usable stacks; the message says which and how to fix it."""


def project_stack_dir(root: Path) -> Path:
    """Where the project keeps its stack files: ``stackConfigDir`` of ``Pulumi.yaml``
    (relative to the project), else next to ``Pulumi.yaml``."""
    project = root / "Pulumi.yaml"
    try:
        document = yaml.safe_load(project.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SelectionError(f"{project}: cannot read the project file ({error})") from None
    configured = document.get("stackConfigDir") if isinstance(document, dict) else None
    if configured is None:
        return root
    if not isinstance(configured, str) or not configured.strip():
        raise SelectionError(f"{project}: stackConfigDir must be a directory path, "
                             f"not {configured!r}")
    return root / configured


def select(stack_dir: Path, patterns: list[str] | None) -> list[str]:
    """Stack names of ``Pulumi.<stack>.yaml`` entries in ``stack_dir`` matching any glob
    (default: all), sorted. Every entry that is not a directory counts, so a link or a FIFO
    is reported as that stack's failure instead of silently left out; a name the Pulumi CLI
    would refuse stops the run."""
    if not stack_dir.is_dir():
        raise SelectionError(f"--stack-dir {stack_dir}: no such directory")
    stacks = sorted(m["stack"] for f in stack_dir.iterdir()
                    if (m := _STACK_FILE.fullmatch(f.name)) and not _is_dir(f))
    for stack in stacks:
        try:
            check_stack_name(stack)
        except StackNameError as error:
            raise SelectionError(f"{stack_dir}: {'Pulumi.' + stack + '.yaml'!a}: {error}; "
                                 "rename the file (Pulumi.<stack>.yaml)") from None
    chosen = [s for s in stacks if not patterns or any(fnmatch.fnmatchcase(s, p)
                                                        for p in patterns)]
    if not chosen:
        which = f" matching {' '.join(patterns)}" if patterns else ""
        raise SelectionError(f"no Pulumi.<stack>.yaml files{which} in {stack_dir}; "
                             "check --stack-dir and --stacks")
    return chosen


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` (1 <= I <= N) as ``(I, N)``."""
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise SelectionError(f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def shard(stacks: list[str], index: int, count: int) -> list[str]:
    """Shard ``index`` of ``count``: every ``count``-th stack of the sorted list, so shards
    are disjoint, cover the fleet, differ in size by at most one, and the same inputs
    always give the same shares."""
    return sorted(stacks)[index - 1 :: count]
