"""Arguments of ``cmkctl backup-key``."""

from __future__ import annotations

import argparse
from typing import Any

from cmkctl.live.auth import AUTH_TYPES, AUTH_VARIABLE


def register(commands: Any) -> None:
    run = commands.add_parser(
        "backup-key", help="download a key's protected backup blob (needs Azure credentials)",
        description="Exit 0 on success, 1 when Azure refuses the backup or the restore, 2 for "
                    "bad arguments, an existing --out file or no credential.")
    run.add_argument("--key-uri", required=True, help="key URI (a version, if any, is ignored: "
                                                      "the blob holds every version)")
    run.add_argument("--out", required=True, help="file to create (mode 0600)")
    run.add_argument("--force", action="store_true", help="replace --out if it exists")
    run.add_argument("--verify-restore-into", metavar="VAULT_URI",
                     help="restore the blob into this second vault (same subscription and "
                          "geography, no key of that name) to prove the backup works")
    run.add_argument("--auth", choices=AUTH_TYPES,
                     help=f"credential type to use (or set {AUTH_VARIABLE}); none is guessed")
    run.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.live import backup_key  # noqa: PLC0415 - the Azure SDK loads only when asked for

    return backup_key.run(args.key_uri, args.out, force=args.force,
                          restore_into=args.verify_restore_into, auth=args.auth)
