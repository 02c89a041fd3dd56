"""Every relative link and ``#anchor`` in README.md and docs/*.md resolves.

Anchors follow GitHub's heading slugs: the heading's text (Markdown markup removed) in lower
case, punctuation other than ``-`` and ``_`` dropped, each space a ``-``, and a repeated slug
suffixed ``-1``, ``-2``... in document order. Text inside fenced code blocks and inline code is
neither a heading nor a link. Links with a scheme (``https:``, ``mailto:``) are not followed.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None:
            closing = line.strip()
            if closing.startswith(fence) and not closing.strip(fence[0]):
                fence = None
        else:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's source text (before duplicate numbering)."""
    parts = _INLINE_CODE.split(heading)  # [prose, ticks, code, prose, ticks, code, ..., prose]
    text = ""
    for index in range(0, len(parts), 3):
        prose = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", parts[index])
        text += re.sub(r"<[^>]+>", "", prose).replace("*", "")
        if index + 2 < len(parts):
            text += parts[index + 2]
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page defines: heading slugs (duplicates numbered) and HTML anchors."""
    seen: Counter[str] = Counter()
    found: set[str] = set()
    for _, line in prose_lines(text):
        heading = _HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
            seen[base] += 1
        found.update(_HTML_ANCHOR.findall(line))
    return found


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of each Markdown link outside code."""
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(text):
        for match in _LINK.finditer(_INLINE_CODE.sub("", line)):
            found.append((number, match.group(1)))
    return found


def broken_links(page: Path) -> list[str]:
    """One message per link of ``page`` whose file or anchor does not exist."""
    problems: list[str] = []
    for number, target in links(page.read_text(encoding="utf-8")):
        if _SCHEME.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        where = f"{page.name}:{number}: link {target!r}"
        destination = (page.parent / path_part).resolve() if path_part else page
        if not path_part and not anchor:
            problems.append(f"{where} is empty")
            continue
        if not destination.exists():
            problems.append(f"{where}: no file {path_part!r} next to {page.name}")
            continue
        if not anchor:
            continue
        if destination.suffix != ".md":
            problems.append(f"{where}: anchors are only checked in Markdown files")
            continue
        if anchor not in anchors(destination.read_text(encoding="utf-8")):
            problems.append(f"{where}: no heading with anchor #{anchor} in {destination.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize(("heading", "expected"), [
    ("Two commands", "two-commands"),
    ("Offline runs (`cmkctl`)", "offline-runs-cmkctl"),
    ("Snowflake Tri-Secret Secure (steps 6.1-6.7)", "snowflake-tri-secret-secure-steps-61-67"),
    ("Checking a deployed key (`cmkctl verify`) and keeping a copy (`cmkctl backup-key`)",
     "checking-a-deployed-key-cmkctl-verify-and-keeping-a-copy-cmkctl-backup-key"),
    ("Credential store (`setup: credentialStore`)", "credential-store-setup-credentialstore"),
    ("What is protected, and retiring a stack", "what-is-protected-and-retiring-a-stack"),
    ("Keys_CreateIfNotExist and **bold** [link](x.md)", "keys_createifnotexist-and-bold-link"),
    ("Plans `plans/<stack>.json`", "plans-plansstackjson"),
])
def test_slug_follows_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_broken_links_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Same\n\n## Same\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## Intro\n\n"
        "[ok](other.md#same-1) [ok](#intro) [ok](other.md) [web](https://example.com/x#y)\n"
        "[gone](missing.md) [bad anchor](other.md#same-2) [bad local](#outro)\n"
        "`[in code](nowhere.md)`\n\n```md\n# Fenced\n[fenced](nowhere.md)\n```\n"
        "[fenced heading](#fenced)\n",
        encoding="utf-8")
    assert broken_links(page) == [
        "page.md:6: link 'missing.md': no file 'missing.md' next to page.md",
        "page.md:6: link 'other.md#same-2': no heading with anchor #same-2 in other.md",
        "page.md:6: link '#outro': no heading with anchor #outro in page.md",
        "page.md:13: link '#fenced': no heading with anchor #fenced in page.md",
    ]
