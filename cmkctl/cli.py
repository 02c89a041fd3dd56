"""Command line: ``cmkctl <command>`` (or ``python -m cmkctl <command>``).

Each command lives in its own module exposing ``register(commands)``, which adds its
subparser and sets ``handler`` (a function of the parsed arguments returning the exit code).
Modules import their heavy dependencies inside the handler, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from types import ModuleType

from cmkctl.cert import cert_command
from cmkctl.check import check_command
from cmkctl.fleet import fleet_command
from cmkctl.live import backup_key_command, key_command, verify_command
from cmkctl.plan import preview_command
from cmkctl.plan.collector import for_program_runs
from cmkctl.review import diff_command, graph_command, risks_command
from cmkctl.stacks.project import ProjectDirError, project_dir

COMMANDS: tuple[ModuleType, ...] = (
    cert_command,
    preview_command, check_command, diff_command, risks_command, graph_command, fleet_command,
    verify_command, backup_key_command, key_command)
"""One entry per subcommand, in the order ``--help`` lists them."""

Handler = Callable[[argparse.Namespace], int]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="cmkctl",
        description="Offline previews, policy checks and reviews for dedicated-cmk.",
    )
    root.add_argument(
        "--project-dir", metavar="DIR",
        help="the project (Pulumi.yaml and the stack files); default: the nearest directory "
             "upwards from here that holds Pulumi.yaml, else the project cmkctl is installed from")
    commands = root.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    for_program_runs()  # before anything is imported: most commands load the SDKs
    args = parser().parse_args(argv)
    try:
        args.project_dir = project_dir(args.project_dir)
    except ProjectDirError as error:
        print(f"cmkctl: {error}", file=sys.stderr)
        return 2
    handler: Handler = args.handler
    return handler(args)
