"""Arguments of ``cmkctl diff``."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    diff = commands.add_parser(
        "diff", help="what a change does: ops, property changes, destructive findings",
        description="BASE.json HEAD.json compares two plans of one stack (offline or "
        "`pulumi preview --json`); PREVIEW.json reviews one real preview made against state. "
        "Exit 0 when nothing is destructive, 1 when anything is (unless --allow-destructive), "
        "2 for unreadable input or a failed preview (error diagnostics, or fewer steps than its "
        "changeSummary counts).")
    diff.add_argument("plans", nargs="+", metavar="PLAN",
                      help="BASE.json HEAD.json, or PREVIEW.json")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.add_argument("--allow-destructive", action="store_true",
                      help="exit 0 even when a change is destructive (still reported)")
    diff.add_argument("--out", help="also write the rendered review to this file")
    diff.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.review import run as review  # noqa: PLC0415 - loads the plan reader only when asked for

    return review.run(args.plans, args.format, args.allow_destructive, args.out,
                      sys.stdout, sys.stderr)
