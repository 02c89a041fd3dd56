"""What a fleet run prints: a terminal table, or ONE grouped pull-request comment.

The table lists the stacks that need a look, worst first, and counts the rest. The comment
leads with what changed: stacks that failed to run (their first real problem), every
destructive change (never folded or cut), other changes with their notices, compliance
findings one line per rule with the config change that fixes them, and the unchanged stacks
as a count; with hundreds of stacks it stays a few kilobytes. Every name, URN, message and
value in it is plan data and goes through :mod:`cmkctl.review.safe_text`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cmkctl.fleet.summary import changed
from cmkctl.review.safe_text import code, one_line, shorten, text

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
        return first_problem(stack)
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
            # Plan data is text to rich too: a message holding "[/x]" is shown, not parsed.
            table.add_row(escape(stack["stack"]), f"[{style}]{_result(stack)}[/{style}]",
                          str(stack["resources"]), _changes(stack),
                          escape(one_line(_reason(stack))))
        console.print(table)
    console.print(_rest_line(summary, len(listed)))
    style = "green" if summary["totals"]["failed"] == 0 else "bold red"
    console.print(f"[{style}]fleet: {verdict(summary)}[/{style}]")


# --- the pull-request comment ---------------------------------------------------------------

RESERVED: Final = 400
"""Characters kept free for the note on what was left out and the closing line."""
INLINE_STACKS: Final = 8
FIELD_WIDTH: Final = 300
"""Characters of a failed stack's first problem, and of a title in the brief list."""
BRIEF_WIDTH: Final = 80
"""Characters of a resource name, type, class or base ref in the brief list and closing line."""
"""Stacks named on a rule's line before the rest fold into a <details> block."""


def first_problem(stack: dict[str, Any]) -> str:
    """The line of a failed stack's error that says what to fix, naming its file: the first
    problem of an invalid configuration (with its fix), not the count above it."""
    error = stack["error"] or ""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    problems = [i for i, line in enumerate(lines) if line.startswith("- ")]
    if not problems:
        return lines[0] if lines else ""
    first = problems[0]
    text = lines[first][2:]
    fix = lines[first + 1] if first + 1 < len(lines) and lines[first + 1].startswith("fix:") \
        else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"Pulumi.{stack['stack']}.yaml: {text}" + (f" ({fix})" if fix else "") + more


def destructive_items(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every destructive finding, as (stack, finding), in stack order: what the heading
    counts is exactly what is listed."""
    return [(s["stack"], f) for s in summary["stacks"] for f in s.get("findings") or ()]


def verdict(summary: dict[str, Any]) -> str:
    totals = summary["totals"]
    if totals["failed"] == 0:
        return f"all {totals['stacks']} stacks pass"
    destructive = len(destructive_items(summary))
    counts = [f"{totals['errors']} failed to run" if totals["errors"] else "",
              f"{destructive} destructive changes" if destructive else "",
              f"{totals['mandatory']} mandatory violations" if totals["mandatory"] else ""]
    detail = "; ".join(c for c in counts if c)
    return f"{totals['failed']} of {totals['stacks']} stacks fail" + (f" ({detail})" if detail
                                                                     else "")


def _resource(urn: str, type_: str, width: int | None = None) -> str:
    name = urn.rsplit("::", 1)[-1]
    if width is not None:
        name, type_ = shorten(name, width), shorten(type_, width)
    return f"{code(name)} ({code(type_)})"


def _failed_section(summary: dict[str, Any], width: int = FIELD_WIDTH) -> list[str]:
    """Every stack that did not run, with its first problem cut to ``width`` characters (the
    whole error is in ``summary.json``; 0 names the stacks alone), so that no error can
    crowd out the destructive changes."""
    failed = [s for s in summary["stacks"] if s["error"]]
    if not failed:
        return []
    lines = [f"#### ❌ Failed to run ({len(failed)})", ""]
    lines += [f"- {code(s['stack'])}" + (f": {text(shorten(first_problem(s), width))}"
                                         if width else "")
              for s in failed]
    return [*lines, ""]


def _destructive_section(summary: dict[str, Any], *, brief: bool = False) -> list[str]:
    """Every destructive change; ``brief`` leaves out what happens and the safe way (they are
    in ``summary.json`` and each stack's ``cmkctl diff``) and shortens names and titles, so
    that a fleet-wide change still lists every item within one comment."""
    items = destructive_items(summary)
    if not items:
        return []
    lines = [f"#### ⚠️ Destructive changes ({len(items)})", ""]
    if brief:
        lines += ["_Listed briefly to fit one comment: what each does and the safe way are in "
                  "`summary.json` and each stack's `cmkctl diff`._", ""]
    width = BRIEF_WIDTH if brief else None
    for stack, f in items:
        title = shorten(f["title"], FIELD_WIDTH) if brief else f["title"]
        line = (f"- {code(stack)}: {_resource(f['urn'], f['type'], width)}: "
                f"**{text(shorten(f['risk'], BRIEF_WIDTH))}**, {text(title)}.")
        lines.append(line if brief else f"{line} {text(f['what'])} Safe way: {text(f['safe'])}")
    return [*lines, ""]


def _destructive_per_stack(summary: dict[str, Any]) -> list[str]:
    """When even the brief list cannot fit: every stack with destructive changes, one line
    each with its count per class; the changes themselves are in ``summary.json``."""
    items = destructive_items(summary)
    per_stack: dict[str, dict[str, int]] = {}
    for stack, finding in items:
        risks = per_stack.setdefault(stack, {})
        risk = shorten(finding["risk"], BRIEF_WIDTH)
        risks[risk] = risks.get(risk, 0) + 1
    lines = [f"#### ⚠️ Destructive changes ({len(items)} in {len(per_stack)} stacks)", "",
             "_Too many to list one by one in a comment: each stack's count per class below; "
             "every change, what it does and the safe way are in `summary.json` and each "
             "stack's `cmkctl diff`._", ""]
    lines += [f"- {code(stack)}: " + ", ".join(f"{n} {text(risk)}" for risk, n in risks.items())
              for stack, risks in per_stack.items()]
    return [*lines, ""]


def _other_changes_section(summary: dict[str, Any]) -> list[str]:
    listed = [s for s in summary["stacks"] if not s["error"] and not s.get("findings")
              and (changed(s) or s.get("notices"))]
    if not listed:
        return []
    lines = [f"#### Other changes ({len(listed)} stacks)", ""]
    for stack in listed:
        what = _changes(stack) or "no resource changes"
        if stack.get("newStack"):
            what += ", new stack"
        if stack.get("baseError"):
            what += f", no base plan (the base could not preview it: " \
                    f"{text(first_line(stack['baseError']))})"
        lines.append(f"- {code(stack['stack'])}: {what}")
        lines += [f"  - notice: {_resource(n['urn'], n['type'])}: {text(n['title'])}. "
                  f"{text(n['what'])}" for n in stack.get("notices") or ()]
    return [*lines, ""]


def _by_rule(summary: dict[str, Any]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(level, rule) -> (stack, first message) for each stack the rule reports, worst level
    first, then by how many stacks, then by name."""
    grouped: dict[tuple[str, str], dict[str, str]] = {}
    for stack in summary["stacks"]:
        for violation in stack["violations"]:
            level = "undecided" if violation["undecided"] else violation["level"]
            found = grouped.setdefault((level, violation["policy"]), {})
            found.setdefault(stack["stack"], violation["message"])
    order = {"mandatory": 0, "undecided": 1, "advisory": 2}
    ranked = sorted(grouped.items(), key=lambda item: (order.get(item[0][0], 3), -len(item[1]),
                                                       item[0][1]))
    return {key: sorted(stacks.items()) for key, stacks in ranked}


def _rules_section(summary: dict[str, Any]) -> list[str]:
    from cmkctl.fleet.fixes import CONFIG_FIXES  # noqa: PLC0415 - a table, imported when used

    grouped = _by_rule(summary)
    if not grouped:
        return []
    lines = [f"#### Compliance findings by rule ({len(grouped)})", ""]
    for (level, rule), stacks in grouped.items():
        message = first_line(stacks[0][1])
        fix = CONFIG_FIXES.get(rule)
        advice = f" Fix: {code(fix)}." if fix else ""
        names = [code(stack) for stack, _ in stacks]
        head = (f"- **{text(level)}** {code(rule)} in {len(stacks)} "
                f"{'stack' if len(stacks) == 1 else 'stacks'}: {text(message)}{advice}")
        if len(names) <= INLINE_STACKS:
            lines.append(f"{head} Stacks: {', '.join(names)}")
            continue
        lines += [head, f"  <details><summary>{len(names)} stacks</summary>", "",
                  f"  {', '.join(names)}", "", "  </details>"]
    return [*lines, ""]


def _closing_line(summary: dict[str, Any]) -> str:
    stacks = summary["stacks"]
    base = summary["options"]["base"]
    if base is None:
        quiet = sum(1 for s in stacks if not s["error"] and not s["violations"])
        return f"{quiet} of {len(stacks)} stacks ran with no findings."
    unchanged = sum(1 for s in stacks if not s["error"] and not changed(s)
                    and not s.get("notices") and not s.get("findings"))
    return (f"{unchanged} of {len(stacks)} stacks unchanged against "
            f"{code(shorten(base, BRIEF_WIDTH))}.")


def markdown(summary: dict[str, Any], limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """One comment for the whole fleet, what changed first: the verdict, stacks that failed
    to run, every destructive change (never folded or cut), other changes with their
    notices, compliance findings one line per rule, and the unchanged stacks as a count.
    When the destructive changes in full would not fit under ``limit`` they are listed
    briefly (every one still), then per stack with their counts; what else does not fit (only
    the optional kinds) is counted instead."""
    icon = "✅" if summary["totals"]["failed"] == 0 else "❌"
    head = [MARKER, f"### {icon} cmkctl fleet: {verdict(summary)}", ""]  # counts only
    # Ever shorter forms of what must be shown, until one fits; every failed stack and every
    # destructive change (or, at the last, every stack with one) is in each.
    forms: tuple[tuple[int, Callable[[], list[str]]], ...] = (
        (FIELD_WIDTH, lambda: _destructive_section(summary)),
        (FIELD_WIDTH, lambda: _destructive_section(summary, brief=True)),
        (BRIEF_WIDTH, lambda: _destructive_section(summary, brief=True)),
        (BRIEF_WIDTH, lambda: _destructive_per_stack(summary)),
        (0, lambda: _destructive_per_stack(summary)),
    )
    for width, destructive in forms:
        required = head + _failed_section(summary, width) + destructive()
        if _size(required) <= limit - RESERVED:
            break
    optional = [(_other_changes_section(summary), "other changes"),
                (_rules_section(summary), "compliance findings")]
    return _fit(required, optional, _closing_line(summary), limit)


def _fit(required: list[str], optional: list[tuple[list[str], str]], closing: str,
         limit: int) -> str:
    """``required`` whole; then each optional section line by line while it fits (a line
    is never cut, and a <details> block is kept or left out whole); then what was left
    out, counted, and the closing line."""
    kept = list(required)
    room = limit - _size(kept) - len(closing) - RESERVED
    dropped: dict[str, int] = {}
    for lines, kind in optional:
        for block in _blocks(lines):
            size = _size(block)
            if dropped.get(kind) or size > room:
                dropped[kind] = dropped.get(kind, 0) + 1
                continue
            kept += block
            room -= size
    if dropped:
        left = ", ".join(f"{n} lines of {kind}" for kind, n in dropped.items())
        kept += [f"_Cut to fit GitHub's comment limit: {left} left out; every stack is in "
                 "`summary.json` (workflow artifact)._", ""]
    return "\n".join([*kept, closing]).rstrip() + "\n"


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _blocks(lines: list[str]) -> list[list[str]]:
    """Lines grouped by list item: a line that is not indented or blank starts a block, and
    the indented or blank lines after it (a notice, a <details> block) stay with it."""
    blocks: list[list[str]] = []
    for line in lines:
        if blocks and (line.startswith("  ") or line == ""):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return blocks
