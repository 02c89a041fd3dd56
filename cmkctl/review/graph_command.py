"""Arguments of ``cmkctl graph``."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    graph = commands.add_parser(
        "graph", help="a Mermaid flowchart of the plan's key chain, grouped by tenant")
    source = graph.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="run Pulumi.<stack>.yaml offline and draw its plan")
    source.add_argument("--plan", help="draw a plan file (cmkctl preview or pulumi preview --json)")
    graph.add_argument("--base", help="a base plan of the same stack: style created, changed, "
                       "replaced and deleted nodes")
    graph.add_argument("--all-edges", action="store_true",
                       help="draw every dependency, not only the key chain")
    graph.add_argument("--format", choices=("mermaid", "markdown"), default="mermaid",
                       help="markdown wraps the chart in a ```mermaid fence")
    graph.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.review import run as review  # noqa: PLC0415 - the SDKs load only when asked for

    return review.run_graph(args.stack, args.plan, args.base, args.format, sys.stdout,
                            sys.stderr, args.all_edges, root=args.project_dir)
