"""Arguments of ``cmkctl cert``."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    cert = commands.add_parser(
        "cert", help="create the credential store's key pair and self-signed certificate")
    cert.add_argument("--out-dir", required=True, help="directory for the three files")
    cert.add_argument("--subject", default="CN=credential-store",
                      help="certificate subject, RFC 4514 (default CN=credential-store)")
    cert.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    cert.add_argument("--force", action="store_true", help="replace existing files")
    cert.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.cert import certificate as cert  # noqa: PLC0415 - cryptography loads only when asked for

    return cert.run(args.out_dir, args.subject, args.days, args.force)
