"""Arguments of ``cmkctl preview``."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    run = commands.add_parser("preview", help="run a stack's program offline and print its plan")
    run.add_argument("--stack", required=True, help="stack name; reads Pulumi.<stack>.yaml")
    run.add_argument("--out", help="write the plan (pulumi preview --json shape) to this file")
    run.add_argument("--json", action="store_true", help="print the plan JSON to stdout")
    run.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.plan import preview  # noqa: PLC0415 - the SDKs load only when asked for

    return preview.run(args.stack, args.out, args.json, root=args.project_dir)
