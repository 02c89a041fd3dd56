"""``summary.json`` of a fleet run: per-stack verdicts, totals, and merging shards.

Shape: ``{"stacks": [{"stack", "ok", "resources", "mandatory", "advisory", "undecided",
"undecidedMandatory", "destructive", "error", "violations", ["changes", "findings",
"newStack"]}], "totals": {...},
"options": {"strict", "allowDestructive", "base"}}``. ``changes`` (op counts against the base)
and ``findings`` (destructive changes) are there only when the fleet was diffed against a
base. A stack is ``ok`` when it ran, has no mandatory violation and no destructive change
(unless allowed), and, with ``strict``, no mandatory rule left undecided either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

SUMMARY_FILE: Final = "summary.json"
COUNTS: Final = ("resources", "mandatory", "advisory", "undecided", "undecidedMandatory",
                 "destructive")
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2


class SummaryError(Exception):
    """A ``summary.json`` cannot be read or merged; the message names the file and field."""


@dataclass(frozen=True)
class Rules:
    """What makes a stack fail, beyond errors and mandatory violations."""

    strict: bool = False
    """As ``cmkctl check --strict``: a mandatory rule that cannot decide (a value is secret
    or unknown until apply) fails the stack too."""
    allow_destructive: bool = False
    """Destructive changes against the base are reported but do not fail."""


def passes(stack: dict[str, Any], rules: Rules) -> bool:
    """Whether one stack entry passes under ``rules``."""
    if stack["error"] or stack["mandatory"]:
        return False
    if stack["destructive"] and not rules.allow_destructive:
        return False
    return not (rules.strict and stack["undecidedMandatory"])


def changed(stack: dict[str, Any]) -> bool:
    """Whether the stack's plan differs from its base (False when there was no base)."""
    changes = stack.get("changes") or {}
    return any(count for op, count in changes.items() if op != "same")


def summarise(stacks: Iterable[dict[str, Any]], rules: Rules, base: str | None) -> dict[str, Any]:
    """The summary document of ``stacks`` (sorted by name), judged by ``rules``."""
    entries = sorted(({**s, "ok": passes(s, rules)} for s in stacks), key=lambda s: s["stack"])
    totals: dict[str, Any] = {
        "stacks": len(entries),
        "ok": sum(s["ok"] for s in entries),
        "failed": sum(not s["ok"] for s in entries),
        "errors": sum(bool(s["error"]) for s in entries),
        **{count: sum(s[count] for s in entries) for count in COUNTS},
    }
    if base is not None:
        totals["changed"] = sum(changed(s) for s in entries)
        totals["unchanged"] = sum(not changed(s) and not s["error"] for s in entries)
    options = {"strict": rules.strict, "allowDestructive": rules.allow_destructive, "base": base}
    return {"stacks": entries, "totals": totals, "options": options}


def exit_code(summary: dict[str, Any]) -> int:
    return EXIT_OK if summary["totals"]["failed"] == 0 else EXIT_FAILED


def write_summary(summary: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / SUMMARY_FILE
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path


def read_summary(directory: Path) -> dict[str, Any]:
    """A shard's ``summary.json``, checked enough that merging cannot misread it."""
    path = directory / SUMMARY_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SummaryError(f"{path}: {error.strerror or error}; run `cmkctl fleet "
                           f"--out-dir {directory}` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SummaryError(f"{path}: not valid JSON ({error})") from None
    stacks = document.get("stacks") if isinstance(document, dict) else None
    if not isinstance(stacks, list):
        raise SummaryError(f"{path}: no stacks list; not a cmkctl fleet summary")
    for index, stack in enumerate(stacks):
        missing = [k for k in ("stack", "error", "violations", *COUNTS)
                   if not isinstance(stack, dict) or k not in stack]
        if missing:
            raise SummaryError(f"{path}: stacks[{index}] lacks {', '.join(missing)}")
    options = document.get("options")
    if not isinstance(options, dict) or "base" not in options:
        raise SummaryError(f"{path}: no options.base; not a cmkctl fleet summary")
    return dict(document)


def merge(directories: Iterable[Path], rules: Rules) -> tuple[dict[str, Any], dict[str, Path]]:
    """One summary of several shards, as if the fleet had run at once, and which shard
    directory each stack came from."""
    stacks: dict[str, dict[str, Any]] = {}
    bases: set[str | None] = set()
    where: dict[str, Path] = {}
    for directory in directories:
        document = read_summary(directory)
        bases.add(document["options"]["base"])
        for stack in document["stacks"]:
            name = stack["stack"]
            if name in stacks:
                raise SummaryError(f"stack {name!r} is in both {where[name]} and {directory}; "
                                   "shards must partition the fleet (same --shard N for all)")
            stacks[name], where[name] = stack, directory
    if len(bases) > 1:
        raise SummaryError(f"shards were diffed against different bases {sorted(map(str, bases))}")
    return summarise(stacks.values(), rules, bases.pop() if bases else None), where
