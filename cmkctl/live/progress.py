"""A progress line on stderr while a live command waits on Azure.

Credentials, retries and slow networks can keep a command waiting for many seconds; on a
terminal the user sees which step it is in (one line, rewritten in place and cleared at the
end). Off a terminal (CI logs, pipes, tests) it writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Step = Callable[[str], None]
CLEAR = "\r\x1b[K"
"""Carriage return and erase-to-end-of-line (ECMA-48 EL): the line is rewritten in place."""


@contextmanager
def progress(stream: TextIO) -> Iterator[Step]:
    """Yields ``step(text)``, which shows ``text`` until the next step or the end."""
    if not stream.isatty():
        yield lambda text: None
        return

    def step(text: str) -> None:
        stream.write(f"{CLEAR}cmkctl: {text}...")
        stream.flush()

    try:
        yield step
    finally:
        stream.write(CLEAR)
        stream.flush()
