"""``cmkctl diff`` and ``cmkctl graph``: read plans, review them, render, choose the exit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, TextIO

from cmkctl.plan.reader import PlanError, PlanResource, load_digest, parse_plan
from cmkctl.review.diff import Review, compare, from_preview
from cmkctl.review.diff_render import as_json, as_markdown, as_text
from cmkctl.review.graph import mermaid
from cmkctl.stacks.project import INSTALLED

PICTURE: Final = "a picture of the stack"

EXIT_OK: Final = 0
EXIT_DESTRUCTIVE: Final = 1
EXIT_UNUSABLE: Final = 2


def _load(paths: Sequence[str]) -> list[Any]:
    if not 1 <= len(paths) <= 2:
        raise PlanError(f"expected BASE.json HEAD.json or PREVIEW.json, got {len(paths)} files")
    digests = []
    for path in paths:
        try:
            digests.append(load_digest(path))
        except PlanError as error:
            raise PlanError(f"plan {path}: {error}") from None
    return digests


def review_digests(digests: Sequence[Any], names: Sequence[str]) -> Review:
    """Two digests: BASE and HEAD compared; one: a real preview against state."""
    if len(digests) == 2:
        return compare(*digests)
    try:
        return from_preview(digests[0])
    except PlanError as error:
        raise PlanError(f"plan {names[0]}: {error}") from None


def picture(digests: Sequence[Any], review: Review | None, all_edges: bool = False) -> str:
    """Mermaid of the last digest's resulting stack, styled by ``review``; resources the
    review deletes are drawn from the base plan (or the preview's old states). Refuses a
    plan that does not list every resource (the picture would leave them out silently)."""
    plans = [parse_plan(d).require_judgeable().require_complete(PICTURE) for d in digests]
    head = plans[-1]
    gone = {r.urn for r in (review.resources if review else ())
            if r.op in ("delete", "read-replacement")}
    olds: list[PlanResource] = []
    if len(plans) == 2:
        olds = plans[0].resources_after()
    else:
        olds = [s.old_state for s in head.steps if s.old_state is not None]
    deleted = [r for r in olds if r.urn in gone]
    ops = {r.urn: r.op for r in review.resources} if review else {}
    risks = {r.urn: r.risk.value for r in review.resources if r.risk} if review else {}
    return mermaid(head.resources_after(), ops, deleted, risks=risks, all_edges=all_edges)


def _sections(digests: Sequence[Any], review: Review) -> list[tuple[str, str]]:
    from cmkctl.review import risks  # noqa: PLC0415 - the policy pack loads only for Markdown
    from cmkctl.review.risks_run import assess_plan  # noqa: PLC0415

    head = parse_plan(digests[-1])
    if head.partial is None:
        chart = f"```mermaid\n{picture(digests, review)}\n```"
    else:
        chart = f"_Not drawn: {head.partial}._"
    return [("Picture of the plan", chart),
            ("Data-loss view", risks.as_markdown_table(assess_plan(head)))]


def run(paths: list[str], fmt: str, allow_destructive: bool, out: str | None,
        stdout: TextIO, stderr: TextIO) -> int:
    """Exit 0 when nothing is destructive, 1 when something is (unless allowed), 2 when the
    input cannot be used (one line on stderr)."""
    try:
        digests = _load(paths)
        review = review_digests(digests, paths)
        if fmt == "json":
            text = as_json(review)
        elif fmt == "markdown":
            text = as_markdown(review, sections=_sections(digests, review))
        else:
            text = as_text(review)
    except PlanError as error:
        print(f"cmkctl diff: {error}", file=stderr)
        return EXIT_UNUSABLE
    print(text, file=stdout)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    if review.destructive and not allow_destructive:
        return EXIT_DESTRUCTIVE
    return EXIT_OK


def run_graph(stack: str | None, plan: str | None, base: str | None, fmt: str,
              stdout: TextIO, stderr: TextIO, all_edges: bool = False,
              root: Path = INSTALLED) -> int:
    """Exit 0 with the chart; 1 when the stack's config is invalid; 2 when unusable."""
    from cmkctl.plan.preview import PreviewError, build_plan  # noqa: PLC0415
    from components.config.problems import ConfigError  # noqa: PLC0415

    try:
        head = build_plan(stack, root) if stack else _load([str(plan)])[0]
        digests = [*(_load([base]) if base else []), head]
        review = compare(*digests) if base else None
        chart = picture(digests, review, all_edges)
    except ConfigError as error:
        print(f"stack {stack!r}: {error.render()}", file=stderr)
        return 1
    except (PreviewError, PlanError) as error:
        print(f"cmkctl graph: {error}", file=stderr)
        return EXIT_UNUSABLE
    print(f"```mermaid\n{chart}\n```" if fmt == "markdown" else chart, file=stdout)
    return EXIT_OK
