"""Content-addressed cache of fleet results: a stack's plan and its check, by what they depend on.

The key of a stack is the SHA-256 of everything its plan and verdict depend on:

- the program digest (:func:`program_digest`): every source file of the program and of
  ``cmkctl`` (the recorder and its fake Azure answers among them) and of the pack, the
  project file ``Pulumi.yaml``, every installed distribution with its version, and the
  Python version;
- the policy configuration file (``--config``), when one is given;
- the stack's name and the bytes of its ``Pulumi.<stack>.yaml``.

A stack that reads other stacks (stack references) depends on their files too. Which ones is
known once the stack has run (the same key reads the same stacks), so the entry lists every
stack file the run read with its digest, and is used only while they all still match.

An entry is two files under ``DIR/<key[:2]>/``: ``<key>.plan.json`` (the plan file's bytes)
and ``<key>.json`` (stack, the plan's digest, references, verdict, and the plan's review
against itself, which a base plan of the same bytes gets without a diff). Each is written to a
temporary file and renamed into place, so a reader sees a whole file or none, and fleets
sharing ``DIR`` write the same bytes for the same key. Anything unreadable or inconsistent
(a cut file, a plan whose digest differs, another format) is a miss; the stack then runs
and its entry is rewritten. The verdict may be absent (base plans, built by the base's own
code, have none): such an entry serves a base plan but not a stack's result.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from cmkctl.atomic_file import write_atomically
from cmkctl.stacks.stack_file import StackFileError, regular_file_bytes

FORMAT: Final = 1
"""Bumped when the entry layout changes; older entries are then misses."""
PROGRAM_DIRS: Final = ("components", "cmkctl", "policies")
PROGRAM_FILES: Final = ("__main__.py", "Pulumi.yaml")
SOURCE_SUFFIXES: Final = (".py", ".json", ".yaml")
STACK_REFERENCE: Final = "pulumi:pulumi:StackReference"


def _files(root: Path) -> Iterable[Path]:
    for name in PROGRAM_FILES:
        if (root / name).is_file():
            yield root / name
    for directory in PROGRAM_DIRS:
        yield from (path for path in (root / directory).rglob("*")
                    if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts
                    and path.is_file())


@cache
def installed_versions() -> tuple[str, ...]:
    """``name==version`` of every installed distribution, sorted: the SDKs among them."""
    return tuple(sorted({f"{(d.metadata['Name'] or '').lower()}=={d.version}"
                   for d in importlib.metadata.distributions()}))


def program_digest(root: Path, versions: Iterable[str] | None = None) -> str:
    """Digest of the program at ``root``, the installed distributions and Python."""
    digest = hashlib.sha256(f"cmkctl-plan-cache {FORMAT}\n".encode())
    for path in sorted(_files(root)):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for version in installed_versions() if versions is None else versions:
        digest.update(f"{version}\n".encode())
    digest.update(f"python {platform.python_implementation()} {platform.python_version()}"
                  .encode())
    return digest.hexdigest()


def stack_file(stack_dir: Path, stack: str) -> Path:
    return stack_dir / f"Pulumi.{stack}.yaml"


def _file_digest(path: Path) -> str | None:
    """Digest of a stack file, read as the stack reader reads it (a regular file in its
    directory: never a link elsewhere, never a FIFO that would hang); None when refused."""
    try:
        return hashlib.sha256(regular_file_bytes(path)).hexdigest()
    except (OSError, StackFileError):
        return None


def stack_key(program: str, policy_config: str | None, stack_dir: Path, stack: str) -> str | None:
    """The key of ``stack``; None when its stack file cannot be read (the run reports it)."""
    own = _file_digest(stack_file(stack_dir, stack))
    if own is None:
        return None
    try:
        config = "" if policy_config is None else \
            hashlib.sha256(Path(policy_config).read_bytes()).hexdigest()
    except OSError:
        return None
    text = "\n".join((f"format {FORMAT}", program, f"config {config}", f"stack {stack}", own))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A cached stack: its plan file and, when it was checked, its verdict."""

    plan_text: str
    verdict: dict[str, Any] | None
    unchanged: dict[str, Any] | None = None
    """The plan against itself (:func:`cmkctl.fleet.against_base.against`): what a base with
    the same bytes gives, without parsing either."""


def _paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    folder = cache_dir / key[:2]
    return folder / f"{key}.json", folder / f"{key}.plan.json"


def load(cache_dir: Path, key: str, stack: str, stack_dir: Path) -> Entry | None:
    """The entry of ``key``, or None (absent, unreadable, inconsistent, or a stack it read
    has changed since)."""
    meta_path, plan_path = _paths(cache_dir, key)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        plan_bytes = plan_path.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key \
            or meta.get("stack") != stack \
            or meta.get("planSha256") != hashlib.sha256(plan_bytes).hexdigest():
        return None
    references = meta.get("references")
    verdict, unchanged = meta.get("verdict"), meta.get("unchanged")
    if not isinstance(references, dict) or not all(
            value is None or isinstance(value, dict) for value in (verdict, unchanged)):
        return None
    for name, digest in references.items():
        if not isinstance(name, str) or _file_digest(stack_file(stack_dir, name)) != digest:
            return None
    try:
        return Entry(plan_bytes.decode("utf-8"), verdict, unchanged)
    except UnicodeDecodeError:
        return None


def store(cache_dir: Path, key: str, stack: str, stack_dir: Path, plan_text: str,
          references: Iterable[str], verdict: dict[str, Any] | None,
          unchanged: dict[str, Any] | None = None) -> None:
    """Record an entry (plan first, then what vouches for it); never raises: a cache that
    cannot be written costs time, not results."""
    meta_path, plan_path = _paths(cache_dir, key)
    plan_bytes = plan_text.encode("utf-8")
    meta = {
        "format": FORMAT, "key": key, "stack": stack,
        "planSha256": hashlib.sha256(plan_bytes).hexdigest(),
        "references": {name: _file_digest(stack_file(stack_dir, name))
                       for name in sorted(set(references))},
        "verdict": verdict,
        "unchanged": unchanged,
    }
    with contextlib.suppress(OSError):
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        for path, data in ((plan_path, plan_bytes),
                           (meta_path, (json.dumps(meta, indent=1) + "\n").encode())):
            write_atomically(path, data, 0o644, replace=True, durable=False)


@dataclass(frozen=True)
class PlanSet:
    """Plans ``out_dir/<stack>.json`` of the stacks in ``stack_dir``, as a fleet's base."""

    cache_dir: Path
    program: str
    policy_config: str | None
    stack_dir: Path
    out_dir: Path

    def _key(self, stack: str) -> str | None:
        return stack_key(self.program, self.policy_config, self.stack_dir, stack)

    def serve(self, stacks: Iterable[str]) -> list[str]:
        """Write the plan of every stack the cache holds; returns the stacks it does not."""
        missing = []
        for stack in stacks:
            key = self._key(stack)
            entry = None if key is None else load(self.cache_dir, key, stack, self.stack_dir)
            if entry is None:
                missing.append(stack)
            else:
                (self.out_dir / f"{stack}.json").write_text(entry.plan_text, encoding="utf-8")
        return missing

    def record(self, stacks: Iterable[str]) -> None:
        """Keep the written plans of ``stacks`` as entries without a verdict. Only plans with
        no stack reference: which stack files such a plan read is not known here."""
        for stack in stacks:
            key = self._key(stack)
            try:
                text = (self.out_dir / f"{stack}.json").read_text(encoding="utf-8")
                steps = json.loads(text)["steps"]
                reads_stacks = any((step.get("newState") or {}).get("type") == STACK_REFERENCE
                                   for step in steps)
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
            if key is not None and not reads_stacks:
                store(self.cache_dir, key, stack, self.stack_dir, text, (), None)
