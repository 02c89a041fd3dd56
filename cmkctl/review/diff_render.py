"""A :class:`cmkctl.review.diff.Review` as text, Markdown (a pull-request comment) or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from cmkctl.review.destructive import Finding
from cmkctl.review.diff import ResourceReview, Review

COMMENT_LIMIT: Final = 65_536
"""GitHub's maximum comment length in characters."""
_SIGNS: Final = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " ",
                 "read": ">", "import": "="}
_VALUE_WIDTH: Final = 120


def as_json(review: Review) -> str:
    """The documented shape: resources with op, changes, risk and why; the summary."""
    document = {
        "resources": [{
            "urn": r.urn, "type": r.type, "op": r.op,
            "changes": [{"path": c.path, "old": c.old, "new": c.new, "replaces": c.replaces}
                        for c in r.changes],
            "risk": r.risk.value if r.risk else None,
            "why": r.why,
        } for r in review.resources],
        "summary": review.summary,
    }
    return json.dumps(document, indent=2)


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def verdict(review: Review) -> str:
    """One line: how many destructive resources and of which risk, or none."""
    destructive = review.destructive
    if not destructive:
        return "No destructive changes."
    risks = [r.risk.value for r in destructive if r.risk]
    parts = [f"{risks.count(k)} {k}" for k in ("data-loss", "access-loss") if k in risks]
    return (f"{len(destructive)} destructive change(s) ({', '.join(parts)}): "
            "read them before merging; `cmkctl diff` exits 1 unless --allow-destructive.")


def _summary_line(review: Review) -> str:
    summary = review.summary
    parts = [f"{summary[op]} to {op}" if op not in ("same", "read") else
             f"{summary[op]} {'unchanged' if op == 'same' else 'to read'}"
             for op in ("create", "update", "replace", "delete", "import", "read", "same")
             if summary[op]]
    return "Resources: " + (", ".join(parts) or "none")


def _finding_lines(finding: Finding, indent: str) -> list[str]:
    risk = finding.risk.value if finding.risk else "notice"
    return [f"{indent}! {risk}: {finding.title}", f"{indent}  what happens: {finding.what}",
            f"{indent}  safe way: {finding.safe}"]


def as_text(review: Review) -> str:
    lines: list[str] = []
    for resource in review.resources:
        if resource.op == "same" and not resource.changes:
            continue
        lines.append(f"{_SIGNS[resource.op]:>2} {resource.op:<8} {resource.type}  "
                     f"{resource.name}")
        for change in resource.changes:
            mark = "  (forces replacement)" if change.replaces else ""
            lines.append(f"      {change.path}: {_value(change.old)} => {_value(change.new)}"
                         + mark)
        for finding in resource.findings:
            lines.extend(_finding_lines(finding, "      "))
        lines.extend(f"      note: {note}" for note in resource.notes)
    lines.append(_summary_line(review))
    lines.append(verdict(review))
    return "\n".join(lines)


# --- Markdown ---------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    text = _value(value).replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return f"`{text}`"


def _summary_table(review: Review) -> list[str]:
    summary = review.summary
    keys = [*summary]
    return ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys),
            "| " + " | ".join(str(summary[k]) for k in keys) + " |"]


def _destructive_section(review: Review) -> list[str]:
    flagged = [r for r in review.resources if r.findings]
    if not flagged:
        return []
    lines = ["### Destructive changes", ""]
    for resource in flagged:
        for finding in resource.findings:
            risk = finding.risk.value if finding.risk else "notice"
            where = f" (`{finding.path}`)" if finding.path else ""
            lines += [f"- **{risk}** · `{resource.type}` **{resource.name}** "
                      f"({resource.op}): {finding.title}{where}",
                      f"  - What happens in Azure: {finding.what}",
                      f"  - Safe way: {finding.safe}"]
    return [*lines, ""]


def _details(resource: ResourceReview) -> list[str]:
    count = len(resource.changes)
    summary = (f"<code>{_SIGNS[resource.op].strip() or '='} {resource.op}</code> "
               f"{resource.type} <b>{resource.name}</b>"
               + (f" ({count} change{'s' if count != 1 else ''})" if count else ""))
    lines = ["<details>", f"<summary>{summary}</summary>", "", f"URN: `{resource.urn}`", ""]
    if resource.changes:
        lines += ["| property | old | new | forces replacement |", "|---|---|---|---|"]
        lines += [f"| `{c.path}` | {_cell(c.old)} | {_cell(c.new)} | "
                  f"{'yes' if c.replaces else ''} |" for c in resource.changes]
        lines.append("")
    lines += [f"> {note}" for note in resource.notes]
    return [*lines, "</details>", ""]


def _folded_list(resources: Sequence[ResourceReview]) -> list[str]:
    return [f"- `{r.op}` {r.type} **{r.name}** ({len(r.changes)} changes)" for r in resources]


def as_markdown(review: Review, title: str = "cmkctl diff",
                sections: Sequence[tuple[str, str]] = ()) -> str:
    """A pull-request comment: verdict, summary table, destructive changes, extra
    ``sections`` (heading, Markdown body), then per-resource details folded in ``<details>``.
    Stays under :data:`COMMENT_LIMIT` by folding details into one line each, then by
    leaving them out, and says so."""
    head = [f"## {title}", "", f"**{verdict(review)}**", "", *_summary_table(review), "",
            *_destructive_section(review)]
    budget = COMMENT_LIMIT - len("\n".join(head)) - 2_000
    for heading, body in sections:
        shown = body if len(body) <= budget else (
            f"_Left out: {len(body):,} characters would pass GitHub's 65,536-character "
            "comment limit; run `cmkctl graph` / `cmkctl risks` for it._")
        budget -= len(shown)
        head += [f"### {heading}", "", shown, ""]
    changed = [r for r in review.resources if r.op != "same" or r.changes]
    tail_heading = ["### Changes per resource", ""]
    full = [*head, *tail_heading, *[line for r in changed for line in _details(r)]]
    text = "\n".join(full)
    if len(text) < COMMENT_LIMIT:
        return text
    note = ("_Details folded to stay under GitHub's 65,536-character comment limit; "
            "run `cmkctl diff` with `--format text` for every property._")
    folded = "\n".join([*head, *tail_heading, note, "", *_folded_list(changed)])
    if len(folded) < COMMENT_LIMIT:
        return folded
    note = ("_Per-resource details left out to stay under GitHub's 65,536-character comment "
            f"limit ({len(changed)} resources change); run `cmkctl diff` with `--format text`._")
    return "\n".join([*head, *tail_heading, note])[: COMMENT_LIMIT - 1]
