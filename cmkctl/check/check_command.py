"""Arguments of ``cmkctl check``."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    check = commands.add_parser("check", help="run the cmk-prerequisites policy pack on a plan")
    check.add_argument(
        "--plan", required=True, help="plan from cmkctl preview or pulumi preview --json"
    )
    check.add_argument("--config", help="policy pack config (the --policy-pack-config JSON)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument(
        "--strict", action="store_true",
        help="exit 1 also when a mandatory rule cannot decide ([secret] or unknown values)")
    check.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.check import run as check  # noqa: PLC0415 - the pack loads only when asked for

    return check.run(args.plan, args.config, args.format, sys.stdout, args.strict)
