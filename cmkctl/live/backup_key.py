"""``cmkctl backup-key``: save a key's protected backup blob, optionally prove it restores.

The blob holds every version of the key, encrypted so that only Key Vault can read it, and
restores only into a vault of the same subscription and the same Azure geography (Microsoft
Learn, "Azure Key Vault security worlds and geographic boundaries"). It is still the key:
the file is created owner-only (0600), never overwritten unless asked, and never printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from cmkctl.atomic_file import write_atomically
from cmkctl.live.auth import AuthError, choose
from cmkctl.live.azure import (
    Azure,
    UnreachableError,
    connect,
    error_code,
    explain,
    quiet_sdk_logs,
)
from cmkctl.live.progress import progress
from cmkctl.live.target import TargetError, vault_key_uri
from components.config.key_uri import KeyUri, parse_key_uri

Connect = Callable[[str, KeyUri], Azure]


class BackupError(Exception):
    """Bad arguments: nothing was downloaded or written."""


def run(key_uri: str, out: str, *, force: bool = False, restore_into: str | None = None,
        auth: str | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None,
        environ: Mapping[str, str] = os.environ, connector: Connect | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    quiet_sdk_logs()
    try:
        return _run(key_uri, out, force, restore_into, auth, stdout, stderr, environ, connector)
    except UnreachableError as error:
        print(f"cmkctl backup-key: {error}", file=stderr)
        return 1


def _run(key_uri: str, out: str, force: bool, restore_into: str | None, auth: str | None,
         stdout: TextIO, stderr: TextIO, environ: Mapping[str, str],
         connector: Connect | None) -> int:
    try:
        key, target, path = _arguments(key_uri, out, force, restore_into)
        kind = choose(auth, environ)
    except (BackupError, AuthError) as error:
        print(f"cmkctl backup-key: {error}", file=stderr)
        return 2
    from azure.core.exceptions import AzureError  # noqa: PLC0415 - loaded only when run

    azure = (connector or (lambda k, u: connect(k, u.suffix, environ)))(kind, key)
    try:
        with progress(stderr) as step, azure.keys(key.vault_uri) as client:
            step(f"backing up {key.versionless}")
            blob = client.backup_key(key.name)
            current = _current(client, key.name)
    except AzureError as error:
        failure = explain(error, f"backing up key {key.name}", key.vault)
        print(f"cmkctl backup-key: {failure.reason}\n  fix: {failure.fix}", file=stderr)
        return 1
    try:
        write_atomically(path, blob, 0o600, replace=force)
    except FileExistsError:
        print(f"cmkctl backup-key: {path} appeared while downloading; nothing was overwritten "
              "(pass --force to replace it)", file=stderr)
        return 2
    digest = hashlib.sha256(blob).hexdigest()
    write_atomically(Path(f"{path}.json"), json.dumps(
        {"key": key.name, "vault": key.vault_uri, "blobSha256": digest, **current},
        indent=2).encode(), 0o600, replace=True)
    print(f"backup of key {key.name} from {key.vault_uri} written to {path} ({len(blob)} bytes, "
          f"mode 0600, sha256 {digest}; record {path}.json)", file=stdout)
    if target is None:
        return 0
    return _restore(azure, key, target, blob, stdout, stderr)


def _current(client: Any, name: str) -> dict[str, str | None]:
    """The current version and its public-key digest, which ``cmkctl key restore`` checks the
    restored key against; None when the key cannot be read (disabled: backup still works)."""
    from azure.core.exceptions import HttpResponseError  # noqa: PLC0415

    from cmkctl.live.key_recovery import public_key_digest  # noqa: PLC0415

    try:
        current = client.get_key(name)
    except HttpResponseError:
        return {"version": None, "publicKeySha256": None}
    return {"version": current.properties.version,
            "publicKeySha256": public_key_digest(current.key)}


def _arguments(key_uri: str, out: str, force: bool,
               restore_into: str | None) -> tuple[KeyUri, KeyUri | None, Path]:
    try:
        key = vault_key_uri(key_uri)
    except TargetError as error:
        raise BackupError(str(error)) from None
    path = Path(out)
    if path.exists() and not force:
        raise BackupError(f"--out {path} exists; refusing to overwrite a backup (pass --force "
                          "to replace it)")
    if path.is_dir():
        raise BackupError(f"--out {path} is a directory; name a file")
    if not path.parent.is_dir():
        raise BackupError(f"--out: directory {path.parent} does not exist")
    target = None
    if restore_into is not None:
        target = parse_key_uri(restore_into.rstrip("/") + f"/keys/{key.name}")
        if target is None or target.is_managed_hsm:
            raise BackupError(f"--verify-restore-into {restore_into!r} is not a vault URI; "
                              "expected https://<vault>.vault.azure.net/")
        if target.vault == key.vault:
            raise BackupError("--verify-restore-into names the key's own vault; restore into a "
                              "second vault (same subscription and geography)")
        if target.suffix != key.suffix:
            raise BackupError("--verify-restore-into is in another cloud; a backup restores only "
                              "in the same subscription and geography")
    return key, target, path


def _restore(azure: Azure, key: KeyUri, target: KeyUri, blob: bytes, stdout: TextIO,
             stderr: TextIO) -> int:
    from azure.core.exceptions import AzureError  # noqa: PLC0415

    try:
        with azure.keys(target.vault_uri) as client:
            restored = client.restore_key_backup(blob)
        with azure.keys(key.vault_uri) as client:
            source = client.get_key(key.name)
    except AzureError as error:
        status, code, _, _ = error_code(error)
        if status == 409:
            print(f"cmkctl backup-key: 409 {code}: vault {target.vault} already has a key (or a "
                  f"soft-deleted key) named {key.name}; the backup was saved but not proved\n"
                  "  fix: restore into an empty vault of the same subscription and geography",
                  file=stderr)
            return 1
        failure = explain(error, f"restoring into {target.vault}", target.vault)
        print(f"cmkctl backup-key: restore not proved: {failure.reason}\n  fix: {failure.fix}"
              "\n  (a backup restores only into a vault of the same subscription and geography)",
              file=stderr)
        return 1
    same = all(getattr(restored.key, part) == getattr(source.key, part) for part in "ne")
    if not same:
        print(f"cmkctl backup-key: the key restored into {target.vault} has another public key "
              f"than {key.name} in {key.vault}", file=stderr)
        return 1
    print(f"restore proved: {target.vault_uri} now holds {key.name} (version "
          f"{restored.properties.version}, same public key as the source). That vault holds a "
          "full copy of the key: protect it like the original (soft delete, purge protection, "
          "locks); a test copy can be deleted, and stays soft-deleted for the vault's retention",
          file=stdout)
    return 0
