"""``cmkctl key rotate|disable|enable``: new versions, revocation and retiring old versions.

The guards: rotating while the newest version is disabled (a revocation in force) is refused;
disabling the newest enabled version is revocation (``--revoke --confirm``); disabling an
older one follows :func:`cmkctl.live.rotation.disable_blockers` (``--force --confirm``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cmkctl.live.consumers import Binding
from cmkctl.live.key_plan import (
    Call,
    Context,
    Plan,
    RefusedError,
    bindings_of,
    call_url,
    chosen,
    store_ref,
    versions_of,
)
from cmkctl.live.provider_side import Expected
from cmkctl.live.rotation import disable_blockers, newest_enabled

REVOCATION_DELAY = "within about ten minutes"
"""How soon Storage, SQL and disks lose access after the key is disabled (data-loss table)."""
PICKUP = {"storage": "within about a day", "disk": "within about a day",
          "sql": "within about an hour"}
"""When a store that follows new versions moves to one (DESIGN: Storage checks about daily,
SQL's autoRotationEnabled switches within about an hour; disks are given the day too)."""


def _set_enabled(context: Context, version: str, enabled: bool) -> Callable[[], Any]:
    assert context.key is not None
    key = context.key

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            updated = client.update_key_properties(key.name, version, enabled=enabled)
        return {"version": updated.properties.version, "enabled": updated.properties.enabled}

    return perform


def plan_rotate(context: Context) -> Plan:
    key = context.key
    assert key is not None
    found = versions_of(context)
    bindings, unread = bindings_of(context)
    newest = found[-1]
    confirmed = context.request.force and context.request.confirm is not None
    if not newest.enabled and not confirmed:
        raise RefusedError(
            f"the newest version {newest.version} is disabled (temporary revocation?): a rotation "
            "creates a new enabled version, which gives every store that follows new versions "
            "access to the key again",
            f"--force --confirm {key.vault}/{key.name} (restores access for stores that follow "
            "new versions; to lift a revocation on purpose, prefer cmkctl key enable)")

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            rotated = client.rotate_key(key.name)
        return {"version": rotated.properties.version, "enabled": rotated.properties.enabled}

    notes = [f"rotated: {key.versionless} has a new version; keep {newest.version} enabled at "
             "least 24 h and until every store is on the new one (cmkctl key status)"]
    notes += _pickup(context, bindings, unread)
    return Plan([Call("POST", call_url(context, f"keys/{key.name}/rotate"))],
                {"versions": [v.describe() for v in found]}, perform, notes)


def _pickup(context: Context, bindings: list[Binding], unread: list[str]) -> list[str]:
    if not bindings and not unread:
        return ["no store was named (--stack or --consumer): stores that follow new versions "
                "pick this one up within about a day; pinned ones stay on their version until "
                "their key URI changes"]
    settings = {store_ref(s).id.lower(): s.config_key for s in context.stores
                if isinstance(s, Expected)}
    notes = []
    for binding in bindings:
        label = binding.ref.label
        if binding.follows_latest:
            notes.append(f"  {label}: follows new versions, moves {PICKUP[binding.ref.service]}")
        else:
            where = settings.get(binding.ref.id.lower(), "its key URI")
            notes.append(f"  {label}: pinned to version {binding.in_use}; change {where} to the "
                         "new version and run pulumi up")
    notes += [f"  {label}: could not be read" for label in unread]
    return notes


def plan_disable(context: Context) -> Plan:
    key = context.key
    assert key is not None
    request = context.request
    found = versions_of(context)
    target = chosen(context, found)
    before = {"versions": [v.describe() for v in found]}
    perform = _set_enabled(context, target.version, False)
    call = Call("PATCH", call_url(context, f"keys/{key.name}/{target.version}"),
                {"attributes": {"enabled": False}})
    if not target.enabled:
        return Plan([], before, perform, unchanged=f"version {target.version} is already disabled")
    bindings, unread = bindings_of(context)
    confirm = f"--confirm {key.vault}/{key.name}"
    if target == newest_enabled(found):
        users = ", ".join(b.ref.label for b in bindings) or "every store encrypted with it"
        if not (request.revoke and request.confirm is not None):
            raise RefusedError(
                f"version {target.version} is the newest enabled version: disabling it revokes "
                f"access; {users} stop working {REVOCATION_DELAY}",
                f"--revoke {confirm} (temporary revocation; undo with cmkctl key enable)")
        notes = [f"revoked: version {target.version} is disabled; {users} lose access "
                 f"{REVOCATION_DELAY}. Undo: cmkctl key enable --key-uri "
                 f"{key.versionless}/{target.version}"]
        return Plan([call], before, perform, notes)
    blockers = disable_blockers(target.version, found, bindings, unread, context.now,
                                len(context.stores))
    notes = [f"disabled version {target.version}; it stays in the vault (backups restore with it "
             f"once re-enabled: cmkctl key enable --key-uri {key.versionless}/{target.version})"]
    if blockers:
        if not (request.force and request.confirm is not None):
            raise RefusedError(f"version {target.version} may still be in use: "
                          + "; ".join(blockers),
                          f"--force {confirm} (risks: a store still on {target.version} loses "
                          f"access {REVOCATION_DELAY}; backups made under it cannot be restored "
                          "while it is disabled)")
        notes.insert(0, "forced past: " + "; ".join(blockers))
    return Plan([call], before, perform, notes)


def plan_enable(context: Context) -> Plan:
    key = context.key
    assert key is not None
    found = versions_of(context)
    target = chosen(context, found)
    before = {"versions": [v.describe() for v in found]}
    perform = _set_enabled(context, target.version, True)
    if target.enabled:
        return Plan([], before, perform, unchanged=f"version {target.version} is already enabled")
    call = Call("PATCH", call_url(context, f"keys/{key.name}/{target.version}"),
                {"attributes": {"enabled": True}})
    return Plan([call], before, perform,
                [f"enabled version {target.version}: stores on it regain access when they next "
                 "reach the key; check with cmkctl verify"])


