"""``summary.json`` of a fleet run: per-stack verdicts, totals, and merging shards.

Shape: ``{"stacks": [{"stack", "ok", "resources", "mandatory", "advisory", "undecided",
"undecidedMandatory", "destructive", "error", "violations", ["changes", "findings",
"newStack"]}], "totals": {...},
"options": {"strict", "allowDestructive", "base"},
"shard": {"index", "count"}, "selection": {"patterns", "stacks", "digest"}}``.
``shard`` says which share of the fleet this run covered (1/1 for a whole fleet) and
``selection`` which fleet: the ``--stacks`` globs, how many stacks they selected before
sharding and the SHA-256 of those names, so a merge can prove the shards form exactly one
fleet, with nothing missing, doubled or swapped. ``changes`` (op counts against the base)
and ``findings`` (destructive changes) are there only when the fleet was diffed against a
base. A stack is ``ok`` when it ran, has no mandatory violation and no destructive change
(unless allowed), and, with ``strict``, no mandatory rule left undecided either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cmkctl.stacks.names import is_stack_name

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


def fleet_digest(stacks: Iterable[str]) -> str:
    """SHA-256 of the sorted stack names, one per line (names hold no line break)."""
    return hashlib.sha256("\n".join(sorted(stacks)).encode()).hexdigest()


@dataclass(frozen=True)
class Part:
    """Which share of which fleet one run covers."""

    index: int
    count: int
    patterns: tuple[str, ...] | None
    """The ``--stacks`` globs; None: every stack file."""
    fleet: tuple[str, ...]
    """Every stack the globs selected, before sharding."""

    @classmethod
    def whole(cls, stacks: Sequence[str], patterns: Sequence[str] | None = None) -> Part:
        return cls(1, 1, tuple(patterns) if patterns else None, tuple(sorted(stacks)))

    def document(self) -> dict[str, Any]:
        return {"shard": {"index": self.index, "count": self.count},
                "selection": {"patterns": list(self.patterns) if self.patterns else None,
                              "stacks": len(self.fleet), "digest": fleet_digest(self.fleet)}}


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


def summarise(stacks: Iterable[dict[str, Any]], rules: Rules, base: str | None,
              part: dict[str, Any]) -> dict[str, Any]:
    """The summary document of ``stacks`` (sorted by name), judged by ``rules``; ``part`` is
    :meth:`Part.document` (or a merged summary's ``shard`` and ``selection``)."""
    entries = sorted(({**s, "ok": passes(s, rules)} for s in stacks), key=lambda s: s["stack"])
    totals: dict[str, Any] = {
        "stacks": len(entries),
        "ok": sum(s["ok"] for s in entries),
        "failed": sum(not s["ok"] for s in entries),
        "errors": sum(bool(s["error"]) for s in entries),
        "stopped": sum(bool(s.get("stopped")) for s in entries),
        **{count: sum(s[count] for s in entries) for count in COUNTS},
    }
    if base is not None:
        totals["changed"] = sum(changed(s) for s in entries)
        totals["unchanged"] = sum(not changed(s) and not s["error"] for s in entries)
    options = {"strict": rules.strict, "allowDestructive": rules.allow_destructive, "base": base}
    return {"stacks": entries, "totals": totals, "options": options, **part}


def exit_code(summary: dict[str, Any]) -> int:
    return EXIT_OK if summary["totals"]["failed"] == 0 else EXIT_FAILED


def write_summary(summary: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / SUMMARY_FILE
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path


def read_summary(directory: Path) -> dict[str, Any]:
    """A shard's ``summary.json``, checked enough that merging cannot misread it: every
    stack name is one the Pulumi CLI accepts (so it is safe as a file name and in a
    comment), and the shard and selection are there."""
    path = directory / SUMMARY_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SummaryError(f"{path}: {error.strerror or error}; the shard's `cmkctl fleet "
                           f"--out-dir {directory}` did not finish (or wrote elsewhere)") from None
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
        if not is_stack_name(stack["stack"]):
            raise SummaryError(f"{path}: stacks[{index}].stack {stack['stack']!a} is not a "
                               "stack name the Pulumi CLI accepts; refusing the summary")
    options = document.get("options")
    if not isinstance(options, dict) or "base" not in options:
        raise SummaryError(f"{path}: no options.base; not a cmkctl fleet summary")
    _check_part(path, document)
    return dict(document)


def _check_part(path: Path, document: dict[str, Any]) -> None:
    shard = document.get("shard")
    selection = document.get("selection")
    if not (isinstance(shard, dict) and _whole_numbers(shard, "index", "count")
            and 1 <= shard["index"] <= shard["count"]):
        raise SummaryError(f"{path}: no valid shard {{index, count}}; written by an older "
                           "cmkctl or not by cmkctl fleet: rerun the shard")
    if not (isinstance(selection, dict) and _whole_numbers(selection, "stacks")
            and isinstance(selection.get("digest"), str)):
        raise SummaryError(f"{path}: no valid selection {{patterns, stacks, digest}}; written by "
                           "an older cmkctl or not by cmkctl fleet: rerun the shard")


def _whole_numbers(mapping: dict[str, Any], *keys: str) -> bool:
    return all(type(mapping.get(k)) is int for k in keys)


def merge(directories: Iterable[Path], rules: Rules) -> tuple[dict[str, Any], dict[str, Path]]:
    """One summary of several shards, as if the fleet had run at once, and which shard
    directory each stack came from. The shards must be exactly one complete set: the same
    selection and shard count, every index from 1 to N once, and together exactly the
    selected stacks, each in the share ``--shard`` gives it."""
    from cmkctl.fleet.select import shard as share  # noqa: PLC0415 - select reads YAML

    documents = [(directory, read_summary(directory)) for directory in directories]
    selections = {json.dumps(d["selection"], sort_keys=True) for _, d in documents}
    if len(selections) > 1:
        raise SummaryError("the shards come from different fleets (their selections differ: "
                           f"{'; '.join(sorted(selections))}); merge shards of one run only")
    counts = {d["shard"]["count"] for _, d in documents}
    if len(counts) > 1:
        raise SummaryError(f"the shards were cut differently (N = {sorted(counts)}); every shard "
                           "of one run uses the same --shard I/N")
    count = counts.pop()
    given: dict[int, Path] = {}
    for directory, document in documents:
        index = document["shard"]["index"]
        if index in given:
            raise SummaryError(f"shard {index}/{count} is given twice ({given[index]} and "
                               f"{directory}); give each shard's directory once")
        given[index] = directory
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in given]
    if missing:
        raise SummaryError(f"shard {', '.join(missing)} missing (have "
                           f"{', '.join(f'{i}/{count}' for i in sorted(given))}); a shard that "
                           "crashed or was not downloaded cannot be counted as passing")
    stacks: dict[str, dict[str, Any]] = {}
    bases: set[str | None] = set()
    where: dict[str, Path] = {}
    for directory, document in documents:
        bases.add(document["options"]["base"])
        for stack in document["stacks"]:
            name = stack["stack"]
            if name in stacks:
                raise SummaryError(f"stack {name!r} is in both {where[name]} and {directory}; "
                                   "shards must partition the fleet (same --shard N for all)")
            stacks[name], where[name] = stack, directory
    if len(bases) > 1:
        raise SummaryError(f"shards were diffed against different bases {sorted(map(str, bases))}")
    selection = documents[0][1]["selection"]
    if len(stacks) != selection["stacks"] or fleet_digest(stacks) != selection["digest"]:
        raise SummaryError(f"the shards hold {len(stacks)} stacks, not the {selection['stacks']} "
                           "stacks their selection names (digest differs); a summary was "
                           "edited or comes from another fleet")
    everything = sorted(stacks)
    for directory, document in documents:
        expected = share(everything, document["shard"]["index"], count)
        if sorted(s["stack"] for s in document["stacks"]) != expected:
            raise SummaryError(f"{directory / SUMMARY_FILE}: shard {document['shard']['index']}/"
                               f"{count} does not hold the stacks --shard gives it; a summary "
                               "was edited")
    part = {"shard": {"index": 1, "count": 1}, "selection": selection}
    base = bases.pop() if bases else None
    return summarise(stacks.values(), rules, base, part), where
