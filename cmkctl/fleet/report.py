"""What a fleet run prints: a terminal table, or ONE grouped pull-request comment.

Both list only the stacks that need a look (failed, violations, destructive or other
changes), the worst first, and count the rest in one line: with hundreds of stacks, a
reviewer reads the few that changed. The Markdown stays under GitHub's comment limit by
folding details away, then rows, and saying what it left out.
"""

from __future__ import annotations

from typing import Any, Final, TextIO

from rich.console import Console
from rich.table import Table

from cmkctl.fleet.summary import changed

GITHUB_COMMENT_LIMIT: Final = 65_536
"""Characters GitHub accepts in one issue or pull-request comment body."""
MARKER: Final = "<!-- cmkctl-fleet -->"
"""First line of the comment, so CI finds and updates it in place instead of adding one."""
OPS: Final = (("create", "+"), ("update", "~"), ("replace", "+-"), ("delete", "-"))


def _rank(stack: dict[str, Any]) -> int:
    """Worst first: failed to run, destructive, mandatory, advisory/undecided, changed."""
    if stack["error"]:
        return 0
    if stack["destructive"]:
        return 1
    if stack["mandatory"]:
        return 2
    if stack["advisory"] or stack["undecided"]:
        return 3
    return 4


def attention(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Stacks worth a look, worst first, then by name."""
    listed = [s for s in summary["stacks"] if _rank(s) < 4 or changed(s) or not s["ok"]]
    return sorted(listed, key=lambda s: (_rank(s), s["stack"]))


def _result(stack: dict[str, Any]) -> str:
    if stack["error"]:
        return "failed to run"
    parts = [f"{stack[k]} {k}" for k in ("destructive", "mandatory", "advisory", "undecided")
             if stack[k]]
    return ", ".join(parts) or "changed"


def _changes(stack: dict[str, Any]) -> str:
    counts = stack.get("changes")
    if counts is None:
        return ""
    return " ".join(f"{sign}{counts[op]}" for op, sign in OPS if counts.get(op))


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _reason(stack: dict[str, Any]) -> str:
    """The one line that says most: the error, the first finding, or the worst violation."""
    if stack["error"]:
        return first_line(stack["error"])
    for finding in stack.get("findings") or ():
        return _finding(finding)
    order = {"mandatory": 0, "advisory": 1}
    worst = sorted(stack["violations"], key=lambda v: (v["undecided"], order.get(v["level"], 2)))
    if worst:
        return f"{worst[0]['policy']}: {first_line(worst[0]['message'])}"
    if stack.get("baseError"):
        return f"no base plan, the base could not preview it: {first_line(stack['baseError'])}"
    return "new stack" if stack.get("newStack") else ""


def _finding(finding: dict[str, Any]) -> str:
    return f"{finding['title']} ({finding['urn'].rsplit('::', 1)[-1]})"


def _rest_line(summary: dict[str, Any], listed: int) -> str:
    totals = summary["totals"]
    rest = totals["stacks"] - listed
    what = "unchanged, no findings" if summary["options"]["base"] is not None else "no findings"
    return f"{rest} of {totals['stacks']} stacks: {what}."


def verdict(summary: dict[str, Any]) -> str:
    totals = summary["totals"]
    if totals["failed"] == 0:
        return f"all {totals['stacks']} stacks pass"
    counts = [f"{totals['errors']} failed to run" if totals["errors"] else "",
              f"{totals['destructive']} destructive changes" if totals["destructive"] else "",
              f"{totals['mandatory']} mandatory violations" if totals["mandatory"] else ""]
    detail = "; ".join(c for c in counts if c)
    return f"{totals['failed']} of {totals['stacks']} stacks fail" + (f" ({detail})" if detail
                                                                     else "")


def print_table(summary: dict[str, Any], out: TextIO, terminal: bool) -> None:
    """The closing table: stacks needing a look, worst first; the rest in one line."""
    console = Console(file=out, force_terminal=terminal, width=None if terminal else 160,
                      highlight=False, soft_wrap=not terminal)
    listed = attention(summary)
    if listed:
        table = Table(show_lines=False, header_style="bold")
        for column in ("stack", "result", "resources", "changes", "first problem"):
            table.add_column(column, overflow="fold")
        for stack in listed:
            style = "red" if not stack["ok"] else "yellow"
            table.add_row(stack["stack"], f"[{style}]{_result(stack)}[/{style}]",
                          str(stack["resources"]), _changes(stack), _reason(stack))
        console.print(table)
    console.print(_rest_line(summary, len(listed)))
    style = "green" if summary["totals"]["failed"] == 0 else "bold red"
    console.print(f"[{style}]fleet: {verdict(summary)}[/{style}]")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _row(stack: dict[str, Any]) -> str:
    cells = [f"`{stack['stack']}`", ("❌ " if not stack["ok"] else "⚠️ ") + _result(stack),
             str(stack["resources"]), _changes(stack), _reason(stack)]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _details(stack: dict[str, Any]) -> str:
    lines = [f"<details><summary><code>{stack['stack']}</code>: {_cell(_result(stack))}"
             "</summary>", ""]
    if stack["error"]:
        lines += ["```", stack["error"].replace("```", "'''"), "```"]
    for f in stack.get("findings") or ():
        lines.append(f"- **{f['risk']}** {_cell(f['title'])} (`{f['urn']}`): "
                     f"{_cell(f['what'])} Safe way: {_cell(f['safe'])}")
    for v in stack["violations"]:
        level = "undecided" if v["undecided"] else v["level"]
        where = f" (`{v['urn']}`)" if v["urn"] else ""
        lines.append(f"- **{level}** `{v['policy']}`: {_cell(v['message'])}{where}")
    return "\n".join([*lines, "", "</details>"])


def markdown(summary: dict[str, Any], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """One comment for the whole fleet: verdict, destructive findings, a table of the stacks
    needing a look, folded details; what does not fit under ``limit`` is counted instead."""
    totals, listed = summary["totals"], attention(summary)
    icon = "✅" if totals["failed"] == 0 else "❌"
    base = summary["options"]["base"]
    head = [MARKER, f"### {icon} cmkctl fleet: {verdict(summary)}", "",
            _rest_line(summary, len(listed)) + (f" Base: `{base}`." if base else ""), ""]
    destructive = [f"- **`{s['stack']}`**: {_cell(_finding(f))}"
                   for s in listed for f in s.get("findings") or ()]
    table = ["| stack | result | resources | changes | first problem |",
             "|---|---|---|---|---|", *map(_row, listed)] if listed else []
    parts = [("\n".join(head), "")]
    if destructive:
        parts.append(("#### Destructive changes\n\n" + destructive[0],
                      "destructive findings"))
        parts += [(line, "destructive findings") for line in destructive[1:]]
        parts.append(("", ""))
    if table:
        parts.append(("\n".join(table[:2]), ""))
        parts += [(row, "table rows") for row in table[2:]]
        parts.append(("", ""))
    parts += [(_details(s), "stack details") for s in listed
              if s["error"] or s["violations"] or s.get("findings")]
    return _fit(parts, limit)


def _fit(parts: list[tuple[str, str]], limit: int) -> str:
    """Join ``parts`` in order while they fit; count what was left out, by kind."""
    note_room = 300
    kept: list[str] = []
    size = 0
    dropped: dict[str, int] = {}
    for text, kind in parts:
        if dropped or size + len(text) + 1 > limit - note_room:
            dropped[kind or "other"] = dropped.get(kind or "other", 0) + 1
            continue
        kept.append(text)
        size += len(text) + 1
    if dropped:
        left = ", ".join(f"{n} {kind}" for kind, n in dropped.items() if kind != "other")
        kept.append(f"\n_Cut to fit GitHub's comment limit: {left} left out; every stack is "
                    "in `summary.json` (workflow artifact)._")
    return "\n".join(kept).rstrip() + "\n"
