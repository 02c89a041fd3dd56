"""Progress of a fleet run: a live bar on a terminal, one plain line per stack elsewhere (CI
logs keep every line and have no cursor to move)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cmkctl.fleet.pool import Done
from cmkctl.fleet.report import first_problem
from cmkctl.review.safe_text import one_line


def outcome(result: dict[str, Any]) -> str:
    """A few words on one finished stack."""
    if result["error"]:
        return "FAILED: " + one_line(first_problem(result))
    return (f"{result['resources']} resources, {result['mandatory']} mandatory, "
            f"{result['advisory']} advisory, {result['undecided']} undecided")


@contextmanager
def progress(total: int, out: TextIO, terminal: bool) -> Iterator[Done]:
    """A callback to hand each finished stack to, for as long as the run lasts."""
    if not terminal:
        seen = 0
        width = len(str(total))

        def line(result: dict[str, Any]) -> None:
            nonlocal seen
            seen += 1
            print(f"[{seen:>{width}}/{total}] {result['stack']}: {outcome(result)}", file=out,
                  flush=True)

        yield line
        return
    columns = (TextColumn("fleet"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[last]}"))
    with Progress(*columns, console=Console(file=out), transient=False) as bar:
        task = bar.add_task("stacks", total=total, last="")

        def advance(result: dict[str, Any]) -> None:
            if result["error"]:
                # Escaped: an error quoting "[/x]" from a stack file is text, not rich markup.
                bar.console.print(f"[red]{escape(result['stack'])}[/red]: "
                                  f"{escape(outcome(result))}")
            bar.update(task, advance=1, last=escape(result["stack"]))

        yield advance
