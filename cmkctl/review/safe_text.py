"""The one place where plan data becomes Markdown, HTML or Mermaid text.

Every name, URN, type, value and message in a plan is controlled by whoever writes the pull
request, and the comment built from it is read by people deciding whether a change ships.
Each helper here turns an arbitrary string into text that renders as exactly that string in
its context: it cannot open HTML, an HTML comment, a heading, a code fence, a table cell, a
mention or a Mermaid directive. Every writer (diff, risks, graph, fleet) goes through here.
"""

from __future__ import annotations

import html
import re
from typing import Final

ELLIPSIS: Final = "…"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_BACKTICK_RUN = re.compile(r"`+")
_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 ._/-]")


def one_line(value: object) -> str:
    """``value`` as text on one line: line breaks and other control characters become spaces."""
    return _CONTROL.sub(" ", str(value))


def shorten(value: str, width: int) -> str:
    """``value`` cut in the middle to ``width`` characters, keeping both ends.

    The ends are where two long ids differ (a vault name near the start, a key version at
    the end), so a cut in the middle keeps ``old => new`` readable.
    """
    if width < 3 or len(value) <= width:
        return value
    head = (width - 1) // 2
    tail = width - 1 - head
    return f"{value[:head]}{ELLIPSIS}{value[len(value) - tail:]}"


def differing(old: str, new: str, width: int) -> tuple[str, str]:
    """``old`` and ``new`` each at most ``width`` characters, showing where they differ.

    Two long ids often share a long head (``/subscriptions/…/vaults/``) and differ further on:
    both are cut to start a little before the first difference, then shortened in the
    middle, so ``old => new`` never reads as two identical strings.
    """
    if len(old) <= width and len(new) <= width:
        return old, new
    same = 0
    for a, b in zip(old, new, strict=False):
        if a != b:
            break
        same += 1
    start = max(0, same - width // 4)

    def cut(value: str) -> str:
        if start == 0:
            return shorten(value, width)
        return ELLIPSIS + shorten(value[start:], width - 1)
    return cut(old), cut(new)


def code(value: object, *, in_table: bool = False) -> str:
    """A CommonMark code span showing ``value`` literally (no HTML, emphasis, emoji or mentions).

    The fence is one backtick longer than the longest run inside, so no value can close it;
    in a table cell ``|`` is escaped, since GitHub splits cells before it reads code spans.
    """
    text = one_line(value)
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or not text.strip():
        text = f" {text} "
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def text(value: object) -> str:
    """``value`` as Markdown prose: every ASCII punctuation mark backslash-escaped, on one line.

    Escaping ``<``, ``&``, ``#``, ``>``, ``*``, ``[``, ``|`` and the rest means no HTML, entity,
    heading, quote, emphasis, link or table cell can start; ``@`` is also split from the name
    after it so that no one is mentioned.
    """
    escaped = _MD_PUNCTUATION.sub(r"\\\1", one_line(value))
    return escaped.replace("\\@", "@\u200b")


def html_text(value: object) -> str:
    """``value`` for raw HTML (``<summary>``, attribute values): entities for ``<>&"'``, one line.

    A line break could end GitHub's HTML block and let Markdown in, so none survives.
    """
    return html.escape(one_line(value), quote=True)


def mermaid_label(value: object) -> str:
    """``value`` for a quoted Mermaid label (``id["…"]``): every other character as ``#NN;``.

    Mermaid decodes ``#NN;`` entity codes in labels, so quotes, brackets, ``%%``, backticks and
    angle brackets can neither end the label, start a directive, nor reach the SVG as markup.
    """
    return "".join(
        char if _MERMAID_SAFE.fullmatch(char) else f"#{ord(char)};" for char in one_line(value)
    )
