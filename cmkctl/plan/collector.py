"""Garbage-collector settings for processes that run the program on the mock runtime.

Such a process imports SDK modules of hundreds of thousands of objects that live until it
exits, then runs the program, which allocates many short-lived ones. With the default
thresholds (700, 10, 10) the collector runs a full collection over all of them several
times while they load: measured on the ``dev`` stack, a fifth of a one-stack preview. Rarer
young collections (``THRESHOLDS``) collect the same garbage with far fewer full passes; and a
worker that has imported everything freezes those objects (``gc.freeze``), so later full
collections skip them and leave their pages shared with the process it was forked from. A
worker that serves many stacks collects after each one (:func:`between_runs`).
"""

from __future__ import annotations

import gc
from typing import Final

THRESHOLDS: Final = (10_000, 10, 10)
"""Allocations before a young collection, and how many of each generation before the next."""


def for_program_runs() -> None:
    """Thresholds for a process that imports the SDKs and runs programs."""
    gc.set_threshold(*THRESHOLDS)


def worker_ready() -> None:
    """A forked worker whose imports are done: keep what it inherited out of collections."""
    for_program_runs()
    gc.freeze()


def between_runs() -> None:
    """A worker's program run is over: collect its garbage now. A run leaves reference cycles
    (tasks, futures, outputs) that the rare full collections of :data:`THRESHOLDS` would let
    pile up over many stacks; collected after each one, over the unfrozen objects only, a
    worker stayed at 32-34 MiB over 100 stacks instead of growing from 37 to 45, and used less
    CPU, not more (``docs/benchmark.md``)."""
    gc.collect()
