"""A spinner with the current step on stderr while a live command waits on Azure.

Credentials, retries and slow networks can keep a command waiting for many seconds; on a
terminal the user sees what it is doing. Off a terminal (CI logs, pipes, tests) it is silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Step = Callable[[str], None]


@contextmanager
def progress(stream: TextIO) -> Iterator[Step]:
    """Yields ``step(text)``, which shows ``text`` beside a spinner until the next step."""
    if not stream.isatty():
        yield lambda text: None
        return
    from rich.console import Console  # noqa: PLC0415 - only on a terminal

    with Console(file=stream, stderr=True).status("starting") as status:
        yield status.update
