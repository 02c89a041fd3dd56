"""Command line: ``python -m cmkctl preview|check``."""

from __future__ import annotations

import argparse
import sys

from cmkctl import preview


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m cmkctl", description="Offline previews and policy checks for dedicated-cmk."
    )
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("preview", help="run a stack's program offline and print its plan")
    run.add_argument("--stack", required=True, help="stack name; reads Pulumi.<stack>.yaml")
    run.add_argument("--out", help="write the plan (pulumi preview --json shape) to this file")
    run.add_argument("--json", action="store_true", help="print the plan JSON to stdout")
    check = commands.add_parser("check", help="run the cmk-prerequisites policy pack on a plan")
    check.add_argument(
        "--plan", required=True, help="plan from cmkctl preview or pulumi preview --json"
    )
    check.add_argument("--config", help="policy pack config (the --policy-pack-config JSON)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "preview":
        return preview.run(args.stack, args.out, args.json)
    from cmkctl import check  # noqa: PLC0415 - the pack loads only when asked for

    return check.run(args.plan, args.config, args.format, sys.stdout)
