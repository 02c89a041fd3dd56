"""Arguments of ``cmkctl risks``."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    risks = commands.add_parser(
        "risks", help="the data-loss view: what the plan does about each loss scenario")
    source = risks.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="run Pulumi.<stack>.yaml offline and assess its plan")
    source.add_argument("--plan", help="assess a plan file (cmkctl preview or pulumi preview "
                        "--json)")
    risks.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    risks.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.review import risks_run  # noqa: PLC0415 - the SDKs load only when asked for

    return risks_run.run(args.stack, args.plan, args.format, sys.stdout, sys.stderr,
                         root=args.project_dir)
