"""A :class:`cmkctl.review.diff.Review` as text, Markdown (a pull-request comment) or JSON.

Every name, URN, type, path, value and finding text comes from the plan, which the pull
request controls: the Markdown writes them only through :mod:`cmkctl.review.safe_text`, and
the text format only on one line each. Findings come first, grouped by class (data-loss,
access-loss, weakening, notice) and by what they are, with the safe procedure stated once
per group; they are never inside a ``<details>`` fold and never left out: when the comment
budget is short, names and values are shortened and the per-resource details folded or left
out, and the comment says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Final

from cmkctl.review import safe_text as st
from cmkctl.review.destructive import RISK_ORDER, Finding
from cmkctl.review.diff import ResourceReview, Review

COMMENT_LIMIT: Final = 65_536
"""GitHub's maximum comment length in characters."""
_SIGNS: Final = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " ",
                 "read": ">", "import": "=", "read-replacement": ">-"}
_VALUE_WIDTH: Final = 120
_CLASSES: Final = (*(r.value for r in RISK_ORDER), "notice")
_HEADINGS: Final = {
    "data-loss": "Data loss",
    "access-loss": "Access loss",
    "weakening": "Weakened protection (not destructive; the policy pack judges it)",
    "notice": "Notices",
}


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


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _pair(old: Any, new: Any, width: int) -> tuple[str, str]:
    """Old and new shortened so that the part where they differ shows."""
    return st.differing(st.one_line(_plain(old)), st.one_line(_plain(new)), width)


def verdict(review: Review) -> str:
    """One line: how many destructive resources and of which risk, or none; weakenings."""
    destructive = review.destructive
    weakened = (f" {len(review.weakening)} change(s) weaken protection: read them."
                if review.weakening else "")
    if not destructive:
        return "No destructive changes." + weakened
    risks = [r.risk.value for r in destructive if r.risk]
    parts = [f"{risks.count(k)} {k}" for k in ("data-loss", "access-loss") if k in risks]
    return (f"{len(destructive)} destructive change(s) ({', '.join(parts)}): "
            "read them before merging; `cmkctl diff` exits 1 unless --allow-destructive."
            + weakened)


def _summary_line(review: Review) -> str:
    summary = review.summary
    parts = [f"{summary[op]} to {op}" if op not in ("same", "read") else
             f"{summary[op]} {'unchanged' if op == 'same' else 'to read'}"
             for op in ("create", "update", "replace", "delete", "import", "read", "same")
             if summary[op]]
    return "Resources: " + (", ".join(parts) or "none")


def as_text(review: Review) -> str:
    """For a terminal: findings first (worst first), then every change; one line per value."""
    lines: list[str] = []
    groups = _groups(review)
    for label in _CLASSES:
        for title, members in groups.get(label, {}).items():
            lines.append(f"! {label}: {title}")
            for resource, finding in members:
                lines.append(f"    {resource.op} {st.one_line(resource.type)}  "
                             f"{st.one_line(resource.name)}: {st.one_line(finding.what)}")
            lines.append(f"    safe way: {members[0][1].safe}")
    if lines:
        lines.append("")
    for resource in review.resources:
        if resource.op == "same" and not resource.changes:
            continue
        lines.append(f"{_SIGNS[resource.op]:>2} {resource.op:<8} {st.one_line(resource.type)}  "
                     f"{st.one_line(resource.name)}")
        for change in resource.changes:
            mark = "  (forces replacement)" if change.replaces else ""
            old, new = _pair(change.old, change.new, _VALUE_WIDTH)
            lines.append(f"      {st.one_line(change.path)}: {old} => {new}{mark}")
        lines.extend(f"      note: {st.one_line(note)}" for note in resource.notes)
    lines.append(_summary_line(review))
    lines.append(verdict(review))
    return "\n".join(lines)


# --- Markdown ---------------------------------------------------------------------------------

Grouped = dict[str, dict[str, list[tuple[ResourceReview, Finding]]]]


def _groups(review: Review) -> Grouped:
    """Findings by class, then by title (what they are), in plan order."""
    groups: Grouped = {}
    for resource in review.resources:
        for finding in resource.findings:
            groups.setdefault(finding.label, {}).setdefault(finding.title, []).append(
                (resource, finding))
    return groups


def _summary_table(review: Review) -> list[str]:
    summary = review.summary
    keys = [*summary]
    return ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys),
            "| " + " | ".join(str(summary[k]) for k in keys) + " |"]


def _who(resource: ResourceReview, width: int) -> str:
    return (f"{st.code(st.shorten(resource.type, width))} "
            f"**{st.code(st.shorten(resource.name, width))}** ({resource.op})")


def _full_group(title: str, members: list[tuple[ResourceReview, Finding]], width: int,
                label: str) -> list[str]:
    """One finding kind: what happens (once when it is the same for every resource), the
    resources, and the safe way once."""
    lines = [f"- **{label}: {st.text(title)}**"]
    whats = {finding.what for _, finding in members}
    shared = len(whats) == 1
    if shared:
        lines.append(f"  - What happens in Azure: {st.text(st.shorten(whats.pop(), 40 * width))}")
    for resource, finding in members:
        where = f" ({st.code(finding.path)})" if finding.path else ""
        what = "" if shared else ": " + st.text(st.shorten(finding.what, 40 * width))
        lines.append(f"  - {_who(resource, width)}{where}{what}")
    lines.append(f"  - Safe way: {st.text(members[0][1].safe)}")
    return lines


def _compact_group(title: str, members: list[tuple[ResourceReview, Finding]], width: int,
                   label: str) -> list[str]:
    """One finding kind in one line per resource, names shortened."""
    return [f"- **{label}: {st.text(title)}** ({len(members)}): "
            + ", ".join(_who(r, width) for r, _ in members)]


def _counted_group(title: str, members: list[tuple[ResourceReview, Finding]], width: int,
                   label: str) -> list[str]:
    """One finding kind as a count: the last resort when even short names do not fit."""
    del width
    return [f"- **{label}: {st.text(title)}**: {len(members)} resource(s); names left out to "
            "fit the comment, `cmkctl diff --format text` lists them"]


def _findings(review: Review, render: Callable[..., list[str]], width: int) -> list[str]:
    groups = _groups(review)
    lines: list[str] = []
    for label in _CLASSES:
        if label not in groups:
            continue
        lines += [f"### {_HEADINGS[label]}", ""]
        for title, members in groups[label].items():
            lines += render(title, members, width, label)
        lines.append("")
    return lines


def _findings_that_fit(review: Review, budget: int) -> list[str]:
    """Every finding, as fully as the budget allows: full text, then one line per kind with
    shorter and shorter names. No finding is ever dropped."""
    attempts = [(_full_group, 200), (_full_group, 60), (_compact_group, 60),
                (_compact_group, 24), (_compact_group, 8), (_counted_group, 0)]
    lines: list[str] = []
    for render, width in attempts:
        lines = _findings(review, render, width)
        if len("\n".join(lines)) <= budget:
            break
    return lines


def _summary(resource: ResourceReview) -> str:
    count = len(resource.changes)
    return (f"<code>{st.html_text(_SIGNS[resource.op].strip() or '=')} "
            f"{st.html_text(resource.op)}</code> {st.html_text(st.shorten(resource.type, 120))} "
            f"<b>{st.html_text(st.shorten(resource.name, 120))}</b>"
            + (f" ({count} change{'s' if count != 1 else ''})" if count else ""))


def _details(resource: ResourceReview) -> list[str]:
    lines = ["<details>", f"<summary>{_summary(resource)}</summary>", "",
             f"URN: {st.code(st.shorten(resource.urn, 400))}", ""]
    if resource.changes:
        lines += ["| property | old | new | forces replacement |", "|---|---|---|---|"]
        for change in resource.changes:
            old, new = _pair(change.old, change.new, _VALUE_WIDTH)
            lines.append(f"| {st.code(st.shorten(change.path, 200), in_table=True)} | "
                         f"{st.code(old, in_table=True)} | {st.code(new, in_table=True)} | "
                         f"{'yes' if change.replaces else ''} |")
        lines.append("")
    lines += [f"> {st.text(note)}" for note in resource.notes]
    return [*lines, "", "</details>", ""]


def _folded_list(resources: Sequence[ResourceReview]) -> list[str]:
    return [f"- {st.code(r.op)} {st.code(st.shorten(r.type, 80))} "
            f"**{st.code(st.shorten(r.name, 80))}** ({len(r.changes)} changes)"
            for r in resources]


def as_markdown(review: Review, title: str = "cmkctl diff",
                sections: Sequence[tuple[str, str]] = ()) -> str:
    """A pull-request comment: verdict, summary table, every finding (grouped by class, the
    safe way once per kind), extra ``sections`` (heading, trusted Markdown body), then the
    per-resource details folded in ``<details>``. Stays under :data:`COMMENT_LIMIT`: findings
    are shortened but always all there; sections, then details, are folded or left out with
    a note saying so."""
    head = [f"## {st.text(title)}", "", f"**{verdict(review)}**", "",
            *_summary_table(review), ""]
    reserve = 2_000  # the notes below and the "Changes per resource" heading
    head += _findings_that_fit(review, COMMENT_LIMIT - len("\n".join(head)) - reserve)
    budget = COMMENT_LIMIT - len("\n".join(head)) - reserve
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
    return "\n".join([*head, *tail_heading, note])
