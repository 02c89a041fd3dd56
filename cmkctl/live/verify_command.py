"""Arguments of ``cmkctl verify``."""

from __future__ import annotations

import argparse
from typing import Any

from cmkctl.live.auth import AUTH_TYPES, AUTH_VARIABLE


def register(commands: Any) -> None:
    run = commands.add_parser(
        "verify", help="check a deployed customer key end to end (needs Azure credentials)",
        description="Read-only checks of the vault, key, locks and grant, and a wrap/unwrap "
                    "round trip. Exit 0 when every required check passes, 1 when any fails "
                    "or could not run, 2 for bad arguments or no credential.")
    target = run.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="stack name; reads vault and keys from Pulumi.<stack>.yaml")
    target.add_argument("--key-uri", help="key URI, with or without version")
    run.add_argument("--vault-id", help="ARM id of the vault (with --key-uri: enables vault, "
                                        "lock and grant checks)")
    run.add_argument("--principal-object-id",
                     help="object id of the provider app's service principal in the vault's "
                          "tenant (enables the grant checks)")
    run.add_argument("--auth", choices=AUTH_TYPES,
                     help=f"credential type to use (or set {AUTH_VARIABLE}); none is guessed")
    run.add_argument("--key-size", type=int, action="append", default=[],
                     help="allowed RSA size with --key-uri (repeatable; default 2048)")
    run.add_argument("--consumer", action="append", default=[], metavar="ARM_ID",
                     help="with --key-uri: a storage account, SQL server or disk encryption set "
                          "to check on the provider side (repeatable)")
    run.add_argument("--identity-id",
                     help="with --consumer: the user-assigned identity (ARM id) the stores must "
                          "reach the key as")
    run.add_argument("--app-client-id",
                     help="the provider app's client id the stores must name (when the stack "
                          "creates the app, it is not in the stack file)")
    run.add_argument("--provider-auth", choices=AUTH_TYPES,
                     help="credential for the provider's stores; default: the --auth identity "
                          "reads both tenants")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from cmkctl.live import verify  # noqa: PLC0415 - the Azure SDK loads only when asked for

    return verify.run(verify.Request(
        stack=args.stack, key_uri=args.key_uri, vault_id=args.vault_id,
        principal_object_id=args.principal_object_id, auth=args.auth, format=args.format,
        key_sizes=tuple(args.key_size), consumers=tuple(args.consumer),
        app_client_id=args.app_client_id, identity_id=args.identity_id,
        provider_auth=args.provider_auth),
        root=args.project_dir)
