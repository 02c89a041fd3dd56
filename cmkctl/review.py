"""``cmkctl diff``: read the plans, review them, render, and choose the exit status."""

from __future__ import annotations

from pathlib import Path
from typing import Final, TextIO

from cmkctl.diff import Review, compare, from_preview
from cmkctl.diff_render import as_json, as_markdown, as_text
from cmkctl.plan_reader import PlanError, load_digest

EXIT_OK: Final = 0
EXIT_DESTRUCTIVE: Final = 1
EXIT_UNUSABLE: Final = 2


def review_files(paths: list[str]) -> Review:
    """Two files: BASE and HEAD compared; one file: a real preview against state."""
    if not 1 <= len(paths) <= 2:
        raise PlanError(f"expected BASE.json HEAD.json or PREVIEW.json, got {len(paths)} files")
    digests = []
    for path in paths:
        try:
            digests.append(load_digest(path))
        except PlanError as error:
            raise PlanError(f"plan {path}: {error}") from None
    if len(digests) == 2:
        return compare(*digests)
    try:
        return from_preview(digests[0])
    except PlanError as error:
        raise PlanError(f"plan {paths[0]}: {error}") from None


def render(review: Review, fmt: str, title: str = "cmkctl diff") -> str:
    if fmt == "json":
        return as_json(review)
    if fmt == "markdown":
        return as_markdown(review, title)
    return as_text(review)


def run(paths: list[str], fmt: str, allow_destructive: bool, out: str | None,
        stdout: TextIO, stderr: TextIO) -> int:
    """Exit 0 when nothing is destructive, 1 when something is (unless allowed), 2 when the
    input cannot be used (one line on stderr)."""
    try:
        review = review_files(paths)
    except PlanError as error:
        print(f"cmkctl diff: {error}", file=stderr)
        return EXIT_UNUSABLE
    text = render(review, fmt)
    print(text, file=stdout)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    if review.destructive and not allow_destructive:
        return EXIT_DESTRUCTIVE
    return EXIT_OK
