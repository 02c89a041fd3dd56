"""Command line: ``python -m cmkctl <command>``.

Each command lives in its own module exposing ``register(commands)``, which adds its
subparser and sets ``handler`` (a function of the parsed arguments returning the exit code).
Modules import their heavy dependencies inside the handler, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from types import ModuleType

from cmkctl.cert import cert_command
from cmkctl.check import check_command
from cmkctl.fleet import fleet_command
from cmkctl.live import backup_key, verify_command
from cmkctl.plan import preview_command
from cmkctl.review import diff_command, graph_command, risks_command

COMMANDS: tuple[ModuleType, ...] = (
    cert_command,
    preview_command, check_command, diff_command, risks_command, graph_command, fleet_command,
    verify_command, backup_key)
"""One entry per subcommand, in the order ``--help`` lists them."""

Handler = Callable[[argparse.Namespace], int]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m cmkctl",
        description="Offline previews, policy checks and reviews for dedicated-cmk.",
    )
    commands = root.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)
