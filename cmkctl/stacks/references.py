"""Stack references resolved offline: each referenced stack recorded at most once per run.

A ``pulumi.StackReference("org/project/<stack>")`` reads the outputs of the local
``Pulumi.<stack>.yaml``, recorded with the same program. Two stacks that read each other
(``providerStack`` in one, ``customerStack`` in the other) are a legitimate set-up; a
reference that leads back into the chain being recorded gets unknown outputs, as a first
real preview does before the other stack has any. A stack reading itself, or a chain
deeper than ``MAX_DEPTH``, is an error naming the chain. A referenced stack that cannot be
read, is invalid, or lacks an output is reported once, as that stack's problem.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from cmkctl.stacks.stack_file import StackFileError, read_stack_config
from components.config.problems import PROJECT, ConfigError
from components.config.stack import load

MAX_DEPTH = 4
"""Stacks in one chain of references. The documented set-ups need two (a split pair)."""

REFERENCE_KEYS = ("providerStack", "customerStack")
"""Config keys that name a referenced stack; errors say which one led there."""


class StackReferenceError(Exception):
    """A stack reference that cannot be resolved offline; the message names the chain."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable
        """True when a stack file could not be read (exit 2), else invalid content (exit 1)."""


Outcome = dict[str, Any] | StackReferenceError
Recorder = Callable[[str, dict[str, str], "StackReferences"], dict[str, Any]]
"""Records ``stack`` with ``config`` under these references; returns its stack outputs."""


@dataclass
class StackReferences:
    """The references of one top-level run: the chain being recorded and what is known."""

    root: Path
    stack_dir: Path
    chain: tuple[str, ...]
    configs: dict[str, dict[str, str]]
    """Config of every stack in the chain, to name the key a reference came from."""
    resolved: dict[str, Outcome] = field(default_factory=dict)
    """Shared by the whole run: each referenced stack is recorded (or refused) once."""
    failure: StackReferenceError | None = None
    """The first reference of this stack's run that failed; raised once the run is over, so
    the SDK never sees (and logs) the error mid-run."""

    @classmethod
    def start(cls, root: Path, stack_dir: Path, stack: str,
              config: dict[str, str]) -> StackReferences:
        return cls(root, stack_dir, (stack,), {stack: config})

    def outputs(self, name: str, recorder: Recorder) -> Any:
        """The referenced stack's outputs, or ``rpc.UNKNOWN`` for a reference back into the
        chain or one that failed (kept in ``failure``)."""
        try:
            return self._outputs(name, recorder)
        except StackReferenceError as error:
            self.failure = self.failure or error
            return rpc.UNKNOWN

    def _outputs(self, name: str, recorder: Recorder) -> Any:
        stack = name.rsplit("/", 1)[-1]
        via = self._via(name)
        if stack == self.chain[-1]:
            raise StackReferenceError(f"{via} names stack {stack!r} itself; a stack cannot "
                                      "read its own outputs: name the other party's stack")
        if stack in self.chain:
            return rpc.UNKNOWN  # the stack already being recorded: no outputs yet
        if len(self.chain) >= MAX_DEPTH:
            raise StackReferenceError(
                f"{via}: the chain {' -> '.join((*self.chain, stack))} is deeper than "
                f"{MAX_DEPTH} stacks; reference the stack that holds the values directly")
        if stack not in self.resolved:
            self.resolved[stack] = self._record(stack, via, recorder)
        outcome = self.resolved[stack]
        if isinstance(outcome, StackReferenceError):
            raise outcome
        return outcome

    def _via(self, name: str) -> str:
        current = self.chain[-1]
        config = self.configs.get(current, {})
        keys = [k for k in REFERENCE_KEYS if config.get(f"{PROJECT}:{k}") == name]
        path = " -> ".join(self.chain)
        return f"stack {current!r} ({path}): {keys[0] if keys else 'stack reference'} {name}"

    def _record(self, stack: str, via: str, recorder: Recorder) -> Outcome:
        try:
            config = read_stack_config(self.root, stack, self.stack_dir)
        except StackFileError as error:
            return StackReferenceError(f"{via}: {error}", unreadable=True)
        prefix = f"{PROJECT}:"
        try:
            load({k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)})
        except ConfigError as error:
            return StackReferenceError(f"{via}: referenced stack {stack!r}: {error.render()}")
        child = StackReferences(self.root, self.stack_dir, (*self.chain, stack),
                                {**self.configs, stack: config}, self.resolved)
        found: list[dict[str, Any]] = []
        failed: list[BaseException] = []

        def run() -> None:
            try:
                found.append(recorder(stack, config, child))
            except BaseException as error:  # reported on the caller's thread
                failed.append(error)

        # A thread of its own, so the two runs never share an event loop.
        worker = threading.Thread(target=run, name=f"stack-reference-{stack}")
        worker.start()
        worker.join()
        if failed:
            if isinstance(failed[0], StackReferenceError):
                return failed[0]
            return StackReferenceError(f"{via}: referenced stack {stack!r} failed: {failed[0]}")
        return found[0]
