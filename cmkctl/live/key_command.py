"""Arguments of ``cmkctl key status|rotate|disable|enable|recover|restore``.

The Azure SDKs load inside the handlers, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any

from cmkctl.live.auth import AUTH_TYPES, AUTH_VARIABLE
from policies.clouds import CLOUDS

EXITS = ("Exit 0 when done (or with --dry-run), 1 when Azure refused or failed, 2 for bad "
         "arguments or no credential, 3 when a guard refused (nothing was changed).")


def register(commands: Any) -> None:
    key = commands.add_parser(
        "key", help="rotation status and guarded rotate/disable/enable/recover/restore "
                    "(needs Azure credentials)",
        description="Day-2 operations on the customer's key. No command deletes or purges a "
                    "key or a version.")
    actions = key.add_subparsers(dest="action", required=True)
    status = actions.add_parser(
        "status", help="versions, the version each store uses, and whether the previous "
                       "version may be disabled",
        description="Exit 0 when read (whatever the verdict), 1 when something could not be "
                    "read, 2 for bad arguments.")
    _target(status)
    _consumers(status)
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.set_defaults(handler=_status)
    helps = {
        "rotate": "create a new key version now (what the rotation policy's Rotate action does)",
        "disable": "disable a version: temporary revocation (newest) or retiring an old one",
        "enable": "re-enable a version (the reversal of disable)",
        "recover": "recover a soft-deleted key (--key-uri) or vault (--vault-id)",
        "restore": "restore a purged key from a backup-key blob",
    }
    for name, text in helps.items():
        operation = actions.add_parser(name, help=text, description=f"{text}. {EXITS}")
        _target(operation, vault=name == "recover")
        _consumers(operation)
        operation.add_argument("--dry-run", action="store_true",
                               help="read the current state and print the calls, send none")
        operation.add_argument("--audit-log", metavar="FILE",
                               help="also append the audit line to FILE (created 0600)")
        operation.add_argument("--confirm", metavar="VAULT/KEY",
                               help="the key's vault and name, typed out: required with "
                                    "--revoke and --force")
        if name in ("disable", "rotate"):
            operation.add_argument("--force", action="store_true",
                                   help="override the guard (with --confirm); says what it risks")
        if name == "disable":
            operation.add_argument("--revoke", action="store_true",
                                   help="allow disabling the newest enabled version (revocation; "
                                        "with --confirm)")
        if name == "recover":
            operation.add_argument("--tenant-id", help="vault recovery: the vault's tenant")
            operation.add_argument("--azure-environment", choices=tuple(CLOUDS),
                                   help="vault recovery: the vault's cloud, as the stack's "
                                        "azureEnvironment (default public)")
            operation.add_argument("--principal-object-id",
                                   help="vault recovery: the provider app's service principal, "
                                        "to re-check its grant")
        if name == "restore":
            operation.add_argument("--backup", required=True, metavar="FILE",
                                   help="blob written by cmkctl backup-key")
        operation.set_defaults(handler=_operation, operation=name)


def _target(parser: argparse.ArgumentParser, *, vault: bool = False) -> None:
    parser.add_argument("--key-uri", help="the key (a version, where given, picks the version)")
    if vault:
        parser.add_argument("--vault-id", help="ARM id of a soft-deleted vault to recover")
    parser.add_argument("--auth", choices=AUTH_TYPES,
                        help=f"credential for the vault's tenant (or set {AUTH_VARIABLE})")
    parser.add_argument("--provider-auth", choices=AUTH_TYPES,
                        help="credential for the provider's stores; default: the --auth "
                             "identity reads both tenants")


def _consumers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="stack whose provider side names the stores using the key")
    parser.add_argument("--consumer", action="append", default=[], metavar="ARM_ID",
                        help="a storage account, SQL server or disk encryption set using the key "
                             "(repeatable)")
    parser.add_argument("--app-client-id", help="the provider app's client id (when the stack "
                                                "creates the app)")


def _operation(args: argparse.Namespace) -> int:
    from cmkctl.live import key_ops  # noqa: PLC0415 - the Azure SDK loads only when asked for

    return key_ops.run(key_ops.Request(
        operation=args.operation, key_uri=args.key_uri,
        vault_id=getattr(args, "vault_id", None), stack=args.stack,
        consumers=tuple(args.consumer), app_client_id=args.app_client_id,
        revoke=getattr(args, "revoke", False), force=getattr(args, "force", False),
        confirm=args.confirm, dry_run=args.dry_run, audit_log=args.audit_log, auth=args.auth,
        provider_auth=args.provider_auth, tenant_id=getattr(args, "tenant_id", None),
        azure_environment=getattr(args, "azure_environment", None),
        principal_object_id=getattr(args, "principal_object_id", None),
        backup=getattr(args, "backup", None)), root=args.project_dir)


def _status(args: argparse.Namespace) -> int:
    from cmkctl.live import key_status  # noqa: PLC0415

    return key_status.run(key_status.Request(
        key_uri=args.key_uri, stack=args.stack, consumers=tuple(args.consumer),
        app_client_id=args.app_client_id, auth=args.auth, provider_auth=args.provider_auth,
        format=args.format), root=args.project_dir)
