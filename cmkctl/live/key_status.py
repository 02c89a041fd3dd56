"""``cmkctl key status``: a key's versions, the version each store uses, and the disable verdict.

Reads both tenants: the vault's version list (Key Vault data plane, ``--auth``) and each
store as deployed (Resource Manager in the provider tenant, ``--provider-auth`` or the same
identity). The verdict on the previous version is the rule ``key disable`` enforces
(:func:`cmkctl.live.rotation.disable_blockers`), so status never says "may be disabled"
where disable would refuse.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from cmkctl.live.auth import AuthError, choose_sides
from cmkctl.live.azure import Azure, UnreachableError, explain, quiet_sdk_logs
from cmkctl.live.consumers import Binding, ConsumerRef, read_using
from cmkctl.live.key_ops import Connect, connect_sides, stores_named
from cmkctl.live.progress import progress
from cmkctl.live.provider_side import Expected
from cmkctl.live.rotation import VersionInfo, disable_blockers, newest_enabled, versions
from cmkctl.live.target import TargetError, vault_key_uri
from components.config.key_uri import KeyUri


@dataclass(frozen=True)
class Request:
    key_uri: str | None
    stack: str | None
    consumers: tuple[str, ...] = ()
    app_client_id: str | None = None
    auth: str | None = None
    provider_auth: str | None = None
    format: str = "text"


@dataclass
class KeyStatus:
    key: KeyUri
    versions: list[VersionInfo]
    bindings: list[Binding]
    unread: list[str]
    previous: VersionInfo | None
    blockers: list[str]
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key.versionless, "error": self.error or None,
            "versions": [v.describe() for v in reversed(self.versions)],
            "stores": [{"store": b.ref.label, "id": b.ref.id, "version": b.in_use,
                        "since": b.since.isoformat() if b.since else None,
                        "followsNewVersions": b.follows_latest, "problem": b.problem}
                       for b in self.bindings],
            "unread": self.unread,
            "previousVersion": None if self.previous is None else {
                "version": self.previous.version, "mayDisable": not self.blockers,
                "reasons": self.blockers}}


def run(request: Request, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
        environ: Mapping[str, str] = os.environ, connector: Connect | None = None,
        root: Path | None = None, now: datetime | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        keys = _keys(request, root)
        kind, provider_kind = choose_sides(request.auth, request.provider_auth, environ)
    except (TargetError, AuthError) as error:
        print(f"cmkctl key status: {error}", file=stderr)
        return 2
    quiet_sdk_logs()
    azure, provider = connect_sides(kind, provider_kind, next(iter(keys)).suffix, environ,
                                    connector)
    moment = now or datetime.now(UTC)
    try:
        with progress(stderr) as step:
            results = []
            for key, refs in keys.items():
                step(f"reading {key.versionless} and its stores")
                results.append(_status(azure, provider, key, refs, moment))
    except UnreachableError as error:
        print(f"cmkctl key status: {error}", file=stderr)
        return 1
    credentials = {"vault side": kind, "provider side": provider_kind,
                   "one identity for both": provider_kind == kind}
    if request.format == "json":
        print(json.dumps({"credentials": credentials, "keys": [r.to_dict() for r in results]},
                         indent=2), file=stdout)
    else:
        print(_text(results, credentials), file=stdout)
    return 1 if any(r.error or r.unread for r in results) else 0


def _keys(request: Request, root: Path | None) -> dict[KeyUri, list[ConsumerRef]]:
    """Each key to report on, with the stores named for it."""
    if not request.key_uri and not request.stack:
        raise TargetError("pass --key-uri (with --consumer ids) or --stack")
    key = vault_key_uri(request.key_uri) if request.key_uri else None
    stores = stores_named(request.consumers, request.stack, key, root, request.app_client_id)
    if key is not None:
        base = KeyUri(key.vault, key.suffix, key.name, None)
        return {base: [s.ref if isinstance(s, Expected) else s for s in stores]}
    keys: dict[KeyUri, list[ConsumerRef]] = {}
    for store in stores:
        if isinstance(store, Expected):
            base = KeyUri(store.key.vault, store.key.suffix, store.key.name, None)
            keys.setdefault(base, []).append(store.ref)
    if not keys:
        raise TargetError(f"stack {request.stack!r} binds no storage account, SQL server or disk "
                          "encryption set to a key; pass --key-uri")
    return keys


def _status(azure: Azure, provider: Azure, key: KeyUri, refs: list[ConsumerRef],
            now: datetime) -> KeyStatus:
    from azure.core.exceptions import AzureError  # noqa: PLC0415

    bindings, unread = read_using(provider, refs, key)
    try:
        with azure.keys(key.vault_uri) as client:
            found = versions(list(client.list_properties_of_key_versions(key.name)))
    except AzureError as error:
        failure = explain(error, "listing the key's versions", key.vault)
        return KeyStatus(key, [], bindings, unread, None, [], f"{failure.reason} ({failure.fix})")
    newest = newest_enabled(found)
    older = [v for v in found if v.enabled and newest is not None and v != newest]
    previous = older[-1] if older else None
    blockers = (disable_blockers(previous.version, found, bindings, unread, now, len(refs))
                if previous else [])
    return KeyStatus(key, found, bindings, unread, previous, blockers)


def _day(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else "-"


def _text(results: list[KeyStatus], credentials: Mapping[str, Any]) -> str:
    same = "the same identity" if credentials["one identity for both"] else (
        credentials["provider side"])
    lines = [f"credentials: vault side {credentials['vault side']}, provider side {same}"]
    for status in results:
        lines.append(f"key {status.key.versionless}")
        if status.error:
            lines.append(f"  versions could not be listed: {status.error}")
        else:
            lines.append("  versions (newest first):")
            lines += [f"    {v.version}  created {_day(v.created)}  "
                      f"{'enabled ' if v.enabled else 'DISABLED'}  expires {_day(v.expires)}"
                      for v in reversed(status.versions)]
        lines.append("  stores:" if status.bindings or status.unread else
                     "  stores: none named (--stack or --consumer)")
        for binding in status.bindings:
            how = "follows new versions" if binding.follows_latest else "pinned"
            problem = f"; {binding.problem}" if binding.problem else ""
            lines.append(f"    {binding.ref.label}  on {binding.in_use or '(not reported)'} "
                         f"since {_day(binding.since)} ({how}){problem}")
        lines += [f"    {label}: could not be read" for label in status.unread]
        if status.previous is None:
            lines.append("  previous version: none enabled besides the newest")
        elif not status.blockers:
            lines.append(f"  previous version {status.previous.version} may be disabled: every "
                         "store is on a newer version for at least 24 h")
        else:
            lines.append(f"  previous version {status.previous.version}: not yet")
            lines += [f"    - {reason}" for reason in status.blockers]
    return "\n".join(lines)
