"""The one destructive-change classifier: what a step does to key material, data and access.

``cmkctl diff`` calls it for every resource step, and ``cmkctl check``'s deletion rule
for every deletion; nothing else decides what is destructive. A finding names its risk,
what happens in Azure, and the safe way to get the same result.

- **data-loss**: delete or replace of a vault, a key, a CMK-encrypted store (storage
  account, SQL server, server key, encryption protector, managed instance, disk encryption
  set) or a resource group (which holds them).
- **access-loss**: delete or replace of a lock, role assignment, access policy, federated
  credential, user-assigned identity, the CMK application or its service principal; an
  in-place change of a federated credential's ``issuer``, ``subject``, ``audiences`` (or
  claims expression): azuread updates these in place and the token exchange stops matching
  at once; a binding moved to another key or vault, or to another identity (Snowflake's
  Tri-Secret Secure registration included); a switch of the vault's permission model; a
  firewall change that drops the trusted-services bypass; an access policy losing
  get/wrapKey/unwrapKey; a role assignment's role changing.
- **weakening** (reported prominently, not destructive: the policy pack judges it): a change
  that loses nothing today but removes a protection: the vault firewall opened (default
  action Allow with public access on), ``protect`` turned off on key material, a guard or a
  store, the soft-delete retention shortened.
- **notice** (risk ``None``): a binding moved to another version of the same key (routine
  rotation; the 24-hour rule applies); a key property change ARM never applies to an existing
  key; a delete or replace of a resource whose old state has ``retainOnDelete`` (the engine
  never calls the provider's delete: "removed from the stack, kept in Azure", Pulumi's
  retainOnDelete documentation).

A delete or replace of a resource whose old state is ``protect``ed also says that ``pulumi
up`` refuses it until the resource is unprotected.

Resources are recognised by kind (:func:`policies.resource_kinds.kind_of`), whatever the
provider or API version spells them. Property checks read azure-native input shapes
(camelCase, as the engine records them) and read an omitted property as its ARM default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from cmkctl.review.safe_text import shorten
from policies.props import get, is_unknown
from policies.resource_kinds import Kind, checked_kind, kind_of


class Risk(StrEnum):
    DATA_LOSS = "data-loss"
    ACCESS_LOSS = "access-loss"
    WEAKENING = "weakening"


DESTRUCTIVE: Final = frozenset({Risk.DATA_LOSS, Risk.ACCESS_LOSS})
"""The risks that fail ``cmkctl diff`` (exit 1 unless --allow-destructive)."""
RISK_ORDER: Final = (Risk.DATA_LOSS, Risk.ACCESS_LOSS, Risk.WEAKENING)
"""Worst first; a finding without a risk is a notice and comes after these."""


@dataclass(frozen=True)
class Finding:
    """One reason a step is destructive (or, with ``risk`` None, surprising)."""

    risk: Risk | None
    title: str
    """Short: ``replace of key vault``, ``permission model switch``."""
    what: str
    """What happens in Azure when the step runs."""
    safe: str
    """The safe procedure to get the intended result."""
    path: str = ""
    """The property path that triggered it; empty for a delete or replace of the resource."""

    @property
    def why(self) -> str:
        return f"{self.title}: {self.what} Safe way: {self.safe}"

    @property
    def destructive(self) -> bool:
        return self.risk in DESTRUCTIVE

    @property
    def label(self) -> str:
        """The class a reviewer reads: data-loss, access-loss, weakening or notice."""
        return self.risk.value if self.risk else "notice"


DELETE_OPS: Final = frozenset({"delete", "delete-replaced"})
REPLACE_OPS: Final = frozenset({"replace", "create-replacement"})
READ_REPLACE_OPS: Final = frozenset({"read-replacement"})
"""The stack reads another resource than the one it manages: the engine deletes the managed
one (Pulumi's read-replacement step)."""
UPDATE_OPS: Final = frozenset({"update"})
"""Ops as ``pulumi preview --json`` spells them; every other op changes nothing in Azure."""

KEEP_OLD_VERSION: Final = (
    "keep the previous key version enabled for at least 24 hours after the bindings switch "
    "(services pick up a new version about once a day) and never delete old versions: "
    "backups made under them cannot be restored without them."
)

_RECOVERY: Final = (
    "With soft delete and purge protection it stays recoverable for the retention period "
    "(90 days by default); after a purge, or without them, the data is gone."
)

_REMOVALS: Final[dict[Kind, tuple[Risk, str, str]]] = {
    Kind.VAULT: (
        Risk.DATA_LOSS,
        "Azure soft-deletes the vault with every key in it; every store encrypted with those "
        "keys becomes inaccessible within about 10 minutes, and the vault name stays reserved "
        "(a re-create with the same name fails with 409) until it is recovered or purged. "
        + _RECOVERY,
        "do not delete the vault: keep it protected and locked. To move, create a new vault "
        "and key, grant them, rotate every binding to the new key, " + KEEP_OLD_VERSION
        + " If it was deleted, recover it (`az keyvault recover`) within the retention period.",
    ),
    Kind.KEY: (
        Risk.DATA_LOSS,
        "the azure-native provider deletes the key through the data plane (ARM has no key "
        "delete); every "
        "store bound to it becomes inaccessible within about 10 minutes. " + _RECOVERY,
        "never delete a bound key. Add a new key under a new name, grant it, rotate the "
        "bindings to it, then disable (not delete) the old key; " + KEEP_OLD_VERSION
        + " A deleted key is recovered with `az keyvault key recover` within the retention "
        "period.",
    ),
    Kind.STORAGE_ACCOUNT: (
        Risk.DATA_LOSS,
        "Azure deletes the storage account and the data in it.",
        "keep the account (protect it); change its encryption settings in place instead. If "
        "the change forces a replacement, migrate the data to a new account first.",
    ),
    Kind.SQL_SERVER: (
        Risk.DATA_LOSS,
        "Azure deletes the SQL server and its databases (a dropped database is restorable "
        "only from its backups, which need the key versions they were encrypted with).",
        "keep the server (protect it); change its key or identity in place. If the change "
        "forces a replacement, move the databases first.",
    ),
    Kind.SQL_SERVER_KEY: (
        Risk.DATA_LOSS,
        "the server forgets that key version: databases and backups encrypted with it can no "
        "longer be decrypted through this server if the protector still or later needs it.",
        "add the new server key first, switch the encryption protector to it, and keep the "
        "old server key and key version until no backup needs them.",
    ),
    Kind.SQL_ENCRYPTION_PROTECTOR: (
        Risk.DATA_LOSS,
        "TDE falls back or is left without the customer's key while the protector is "
        "re-created; databases lose the customer-managed protector.",
        "change the protector in place (serverKeyName) after the new server key exists; "
        + KEEP_OLD_VERSION,
    ),
    Kind.SQL_MANAGED_INSTANCE: (
        Risk.DATA_LOSS,
        "Azure deletes the managed instance and its databases.",
        "keep the instance (protect it); move the databases before any replacement.",
    ),
    Kind.SQL_MANAGED_INSTANCE_KEY: (
        Risk.DATA_LOSS,
        "the instance forgets that key version; databases and backups that need it become "
        "unreadable through it.",
        "add the new key first, switch the protector, keep the old key and version.",
    ),
    Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR: (
        Risk.DATA_LOSS,
        "the instance loses its customer-managed TDE protector while it is re-created.",
        "change the protector in place after the new key exists; " + KEEP_OLD_VERSION,
    ),
    Kind.DISK_ENCRYPTION_SET: (
        Risk.DATA_LOSS,
        "disks encrypted through this set lose their key binding: Azure refuses to delete a "
        "set still in use, and a new set means re-encrypting every disk.",
        "change the set's key in place (activeKey.keyUrl) instead of replacing it; "
        + KEEP_OLD_VERSION,
    ),
    Kind.RESOURCE_GROUP: (
        Risk.DATA_LOSS,
        "Azure deletes the resource group with everything in it: vaults, keys, encrypted "
        "stores and identities.",
        "never delete or replace a resource group that holds key material or encrypted data; "
        "move resources out first, and keep the group protected.",
    ),
    Kind.LOCK: (
        Risk.ACCESS_LOSS,
        "the CanNotDelete lock goes away: nothing breaks now, but a later delete of the vault "
        "or key is no longer stopped at the control plane (and an IaC destroy removes locks "
        "before their targets).",
        "keep the lock protected; to change it, add the new lock before removing the old one.",
    ),
    Kind.ROLE_ASSIGNMENT: (
        Risk.ACCESS_LOSS,
        "the grant is removed; the principal loses the key within minutes and every store "
        "bound through it becomes inaccessible within about 10 minutes. A replacement is a "
        "new assignment that takes minutes to propagate.",
        "create the new grant first (a new resource name), wait for it to propagate, then "
        "remove the old one.",
    ),
    Kind.ACCESS_POLICY: (
        Risk.ACCESS_LOSS,
        "the access policy is removed; the principal loses get/wrapKey/unwrapKey and bound "
        "stores become inaccessible within about 10 minutes.",
        "add the new policy first, then remove the old one; do not mix inline and standalone "
        "access policies.",
    ),
    Kind.FEDERATED_CREDENTIAL: (
        Risk.ACCESS_LOSS,
        "the app's federated credential is removed; the provider's identity can no longer get "
        "a token for the customer's tenant, so every cross-tenant binding loses the key.",
        "add the new credential (an app has room for 20) and switch to it before removing "
        "the old one.",
    ),
    Kind.IDENTITY_FEDERATED_CREDENTIAL: (
        Risk.ACCESS_LOSS,
        "the identity's federated credential is removed; workloads using it lose their token.",
        "add the new credential before removing the old one.",
    ),
    Kind.USER_ASSIGNED_IDENTITY: (
        Risk.ACCESS_LOSS,
        "the managed identity is removed (a new one gets a new principal id); the federated "
        "credential's subject no longer matches and every binding using the identity loses "
        "the key.",
        "create the new identity, add a federated credential for it, re-bind the services, "
        "then remove the old identity.",
    ),
    Kind.APPLICATION: (
        Risk.ACCESS_LOSS,
        "the multitenant CMK app is removed (a new one has a new client id); the customer's "
        "service principal and grants point at the old app, so every binding loses the key.",
        "keep the app (protect it). A new app needs the customer to install it and grant it "
        "again before the bindings move.",
    ),
    Kind.SERVICE_PRINCIPAL: (
        Risk.ACCESS_LOSS,
        "the app's service principal in the customer tenant is removed with its role "
        "assignments; every binding loses the key.",
        "keep the service principal; if it must be re-created, re-grant the role before the "
        "bindings need it.",
    ),
}
"""Per kind: risk of deleting or replacing it, what happens in Azure, the safe way."""


PROTECTED_NOTE: Final = (" The resource is protected: `pulumi up` refuses this until the "
                         "resource is unprotected.")
RETAINED_SAFE: Final = ("nothing to do in Azure; to manage it again, `pulumi import` it. To "
                        "delete it for real, first set retainOnDelete false and run `pulumi up`.")


def removal(type_token: str, op: str, *, retained: bool = False,
            protected: bool = False) -> Finding | None:
    """The finding for deleting (``delete``) or replacing (``replace``) a resource of this
    type, or None when that loses nothing. ``retained`` (the old state's retainOnDelete) makes
    it a notice: the engine does not call the provider's delete. ``protected`` (the old
    state's protect) adds that ``pulumi up`` refuses it. ``cmkctl check``'s deletion rule
    uses this."""
    kind = kind_of(type_token)
    entry = _REMOVALS.get(kind) if kind else None
    if kind is None or entry is None:
        return None
    risk, what, safe = entry
    replacing = op in REPLACE_OPS
    if retained:
        return Finding(
            None, f"{'replace' if replacing else 'delete'} of {kind.value} kept in Azure",
            ("removed from the stack, kept in Azure: the old state has retainOnDelete, so the "
             "engine does not call the provider's delete"
             + ("; a new resource is created beside it." if replacing else ".")),
            RETAINED_SAFE)
    note = PROTECTED_NOTE if protected else ""
    if op in READ_REPLACE_OPS:
        what = (f"the stack now reads another {kind.value} than the one it manages, so the "
                f"engine deletes the managed one (a read-replacement): {what}")
        return Finding(risk, f"read-replacement of {kind.value}", what + note, safe)
    if replacing:
        what = f"A replace creates a new {kind.value} and deletes the old one: {what}"
        return Finding(risk, f"replace of {kind.value}", what + note, safe)
    return Finding(risk, f"delete of {kind.value}", what[0].upper() + what[1:] + note, safe)


def classify(type_token: str, op: str, old: Mapping[str, Any] | None,
             new: Mapping[str, Any] | None, *, retained: bool = False,
             protect: tuple[bool, bool] = (False, False)) -> list[Finding]:
    """Every finding for one step: ``op`` as the CLI spells it, ``old``/``new`` the inputs
    before and after (None when absent), ``retained`` the old state's retainOnDelete and
    ``protect`` the protect flag before and after. Steps that change nothing in Azure give
    none."""
    removed = (removal(type_token, op, retained=retained, protected=protect[0])
               if op in DELETE_OPS | REPLACE_OPS | READ_REPLACE_OPS else None)
    found = [removed] if removed else []
    kind = checked_kind(type_token)
    if protect[0] and not protect[1] and op in UPDATE_OPS | REPLACE_OPS and kind in _REMOVALS:
        found.append(_unprotected(kind))
    if op not in UPDATE_OPS | REPLACE_OPS or old is None or new is None:
        return found
    check = _UPDATES.get(kind) if kind else None
    return found + (check(old, new) if check else [])


def _unprotected(kind: Kind) -> Finding:
    return Finding(
        Risk.WEAKENING, "protection removed",
        f"`protect` is turned off on this {kind.value}: nothing changes in Azure now, but the "
        "next change that deletes or replaces it goes through without `pulumi up` refusing.",
        "keep `protect` on key material, its guards and encrypted stores; unprotect only in "
        "the same reviewed change that deliberately retires the resource (the pack's "
        "key-material-protected and cmk-chain-protected rules judge it).",
        "(protect)")


# --- in-place updates -----------------------------------------------------------------------

def _at(bag: Mapping[str, Any], path: str, default: Any = None) -> Any:
    value = get(bag, *path.split("."))
    return default if value is None else value


def _changed(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> bool:
    before, after = _at(old, path), _at(new, path)
    if is_unknown(after):
        return not is_unknown(before)  # about to change to a value known after apply
    return bool(before != after)


def _key_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    paths = [p for p in KEY_CREATE_ONLY if _changed(old, new, p)]
    if not paths:
        return []
    return [Finding(
        None, "key properties change that Azure will not apply",
        f"{', '.join(paths)} changes. azure-native previews this as an in-place update and "
        "PUTs the key, but ARM's Keys_CreateIfNotExist returns an existing key unchanged, "
        "so Azure keeps the old values while the stack records the new ones (drift that only "
        "a refresh shows).",
        "to get a key with these properties, add a key under a new name, grant it, rotate the "
        "bindings to it and disable (not delete) the old key; " + KEEP_OLD_VERSION
        + " Expiry and rotation policy of the existing key can be changed on the data plane "
        "(`az keyvault key set-attributes`, `az keyvault key rotation-policy update`); then "
        "put the same values in the program.",
        paths[0],
    )]


KEY_CREATE_ONLY: Final = ("properties.kty", "properties.keySize", "properties.curveName",
                          "properties.keyOps", "properties.attributes",
                          "properties.rotationPolicy", "properties.release_policy")
"""Key properties ARM only sets at creation (Keys_CreateIfNotExist, keys.json 2024-11-01)."""


def _key_and_version(value: Any, path: str) -> tuple[str, str] | None:
    """(vault and key, version) of a binding's key reference, or None when it is not one
    (unknown until apply, unset, or not a versioned key). A key URL is
    ``https://<vault>.<suffix>/keys/<name>/<version>``; a SQL server key or encryption
    protector names it ``<vault>_<key>_<version>``."""
    if not isinstance(value, str) or is_unknown(value):
        return None
    if path.endswith("serverKeyName"):
        vault_key, _, version = value.rpartition("_")
        return (vault_key.lower(), version) if vault_key and version else None
    match = _KEY_URL.match(value)
    return (f"{match[1].lower()}/{match[2].lower()}", match[3]) if match else None


_KEY_URL: Final = re.compile(r"^https://([^/]+)/keys/([^/]+)/([^/?#]+)/?$", re.IGNORECASE)


def _rotation(path: str, before: Any, after: Any) -> Finding:
    return Finding(
        None, "key version rotation",
        f"{path} moves to another version of the same key ({_show(before)} to "
        f"{_show(after)}): routine rotation; the service re-wraps its data encryption key "
        "with the new version.",
        KEEP_OLD_VERSION[0].upper() + KEEP_OLD_VERSION[1:], path)


def _binding(paths: tuple[str, ...], identity_paths: tuple[str, ...],
             version_path: str | None = None) -> Any:
    """The check of a binding: ``paths`` name the key (a move to another key or vault loses
    access), ``version_path`` a version of the same key (rotation, a notice)."""
    def check(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
        found: list[Finding] = []
        for path in (p for p in paths if _changed(old, new, p)):
            before, after = _at(old, path), _at(new, path)
            was, now = _key_and_version(before, path), _key_and_version(after, path)
            if was is not None and now is not None and was[0] == now[0]:
                found.append(_rotation(path, before, after))
                continue
            found.append(Finding(
                Risk.ACCESS_LOSS, "binding key change",
                f"{path} changes from {_show(before)} to {_show(after)}: the service re-wraps "
                "its data encryption key with another key; if that key is not granted, "
                "disabled or unreachable, the store becomes inaccessible within about 10 "
                "minutes, and data or backups still under the old key need it.",
                "grant and verify the new key first, then switch the binding; "
                + KEEP_OLD_VERSION, path))
        if version_path and _changed(old, new, version_path) and not found:
            found.append(_rotation(version_path, _at(old, version_path),
                                   _at(new, version_path)))
        found += [Finding(
            Risk.ACCESS_LOSS, "binding identity change",
            f"{path} changes from {_show(_at(old, path))} to {_show(_at(new, path))}: the "
            "service reaches the key as another identity; unless that identity's app is "
            "installed and granted in the customer's tenant, the store loses the key.",
            "add the new identity's federated credential and the customer's grant first, "
            "verify, then switch the binding.",
            path) for path in identity_paths if _changed(old, new, path)]
        return found
    return check


_CLAIMS: Final = ("issuer", "subject", "audiences", "claimsMatchingExpression")
"""Federated credential inputs azuread and azure-native update in place (not in the replace
data: azuread replaces only on applicationId / displayName)."""


def _federated_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    return [Finding(
        Risk.ACCESS_LOSS, "federated credential claims change",
        f"{path} changes from {_show(_at(old, path))} to {_show(_at(new, path))}: the "
        "provider updates the credential in place, and from then on Entra ID only exchanges "
        "tokens that carry the new claims; every binding whose identity presents the old ones "
        "loses the key within minutes.",
        "add a second federated credential with the new claims (an app has room for 20), "
        "switch the identity to it and verify, then remove the old credential.",
        path) for path in _CLAIMS if _changed(old, new, path)]


SHOWN_WIDTH: Final = 160
"""Values quoted in a finding are shortened in the middle to this many characters: the full
value is in the change table, and a finding always fits in a comment."""


def _show(value: Any) -> str:
    if is_unknown(value):
        return "(known after apply)"
    return "(unset)" if value is None else shorten(repr(value), SHOWN_WIDTH)


_DES_BINDING: Final = _binding(("activeKey.keyUrl",), ("federatedClientId",))


def _disk_encryption_set_changes(old: Mapping[str, Any],
                                 new: Mapping[str, Any]) -> list[Finding]:
    """The binding checks, and the location: an in-place update ARM refuses (Microsoft.Compute
    common-types v1 Resource.location has no create-only mark, DiskRP 2024-03-02)."""
    found: list[Finding] = _DES_BINDING(old, new)
    if not _changed(old, new, "location"):
        return found
    return [*found, Finding(
        None, "disk encryption set region change that Azure will refuse",
        f"location changes from {_show(_at(old, 'location'))} to "
        f"{_show(_at(new, 'location'))}. azure-native updates the set in place (Compute's "
        "Resource.location carries no create-only mark), and ARM does not move an existing "
        "set to another region: `pulumi up` fails on it and nothing changes. The set must "
        "stay in the region of its vault and disks.",
        "a set in another region is a new set (and new disks there): create it under a new "
        "name bound to a key in a vault of that region, move the disks, then retire the old "
        "set.",
        "location")]


def _vault_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    found: list[Finding] = []
    if _changed(old, new, "location"):
        found.append(Finding(
            None, "vault region change that Azure will refuse",
            f"location changes from {_show(_at(old, 'location'))} to "
            f"{_show(_at(new, 'location'))}. azure-native updates the vault in place (its "
            "location carries no create-only mark in keyvault.json 2024-11-01), and ARM does "
            "not move an existing vault to another region: `pulumi up` fails on it "
            "(InvalidResourceLocation) and nothing changes.",
            "a vault in another region is a new vault: create it under a new name with new keys, "
            "grant them, rotate every binding to them, " + KEEP_OLD_VERSION,
            "location"))
    rbac = "properties.enableRbacAuthorization"
    if _at(old, rbac, False) != _at(new, rbac, False):
        to = "RBAC" if _at(new, rbac, False) is True else "access policies"
        found.append(Finding(
            Risk.ACCESS_LOSS, "permission model switch",
            f"{rbac} switches the vault to {to}: the grants of the other model stop counting "
            "at once, and until the new model's grants exist and have propagated (minutes for "
            "role assignments) no binding can use the key.",
            "create the grants of the new model first (role assignments or access policies), "
            "wait for them to propagate and verify, then switch the model in a separate "
            "change.",
            rbac))
    if _bypasses(old) and not _bypasses(new):
        found.append(Finding(
            Risk.ACCESS_LOSS, "trusted-services bypass removed",
            "properties.networkAcls.bypass no longer includes AzureServices: with the "
            "firewall denying by default, Storage, SQL and disk encryption can no longer reach "
            "the key, and the stores become inaccessible within about 10 minutes.",
            "keep bypass AzureServices (the CMK prerequisite); restrict other traffic with ip "
            "or network rules instead.",
            "properties.networkAcls.bypass"))
    if not _is_open(old) and _is_open(new):
        found.append(Finding(
            Risk.WEAKENING, "vault firewall opened",
            "the vault becomes reachable from every network (default action Allow with public "
            "access enabled): nothing is lost, but the key is exposed to anyone holding a "
            "credential; the source document's prevention for a compromised key is network "
            "protection (the pack's vault-network-firewall rule refuses it).",
            "keep networkAcls.defaultAction Deny (or public access disabled) and add ip or "
            "virtual network rules for the callers that need the vault.",
            "properties.networkAcls.defaultAction"))
    retention = "properties.softDeleteRetentionInDays"
    before, after = _at(old, retention, 90), _at(new, retention, 90)  # ARM default 90
    if isinstance(before, int) and isinstance(after, int) and after < before:
        found.append(Finding(
            Risk.WEAKENING, "soft-delete retention shortened",
            f"{retention} goes from {before} to {after} days: a deleted vault or key can be "
            "recovered for less time (the pack's vault-soft-delete-retention rule judges it).",
            "keep the retention at 90 days, the recovery window of the source document.",
            retention))
    found += _lost_policies(old, new, "properties.accessPolicies")
    return found


def _bypasses(props: Mapping[str, Any]) -> bool:
    bypass = _at(props, "properties.networkAcls.bypass", "AzureServices")  # ARM default
    return is_unknown(bypass) or "azureservices" in str(bypass).lower()


def _is_open(props: Mapping[str, Any]) -> bool:
    public = _at(props, "properties.publicNetworkAccess", "Enabled")
    action = _at(props, "properties.networkAcls.defaultAction", "Allow")
    if is_unknown(public) or is_unknown(action):
        return False
    return str(public).lower() != "disabled" and str(action).lower() == "allow"


_CMK_KEY_PERMISSIONS: Final = frozenset({"get", "wrapkey", "unwrapkey"})


def _entry_key(entry: Any) -> tuple[str, str] | None:
    if not isinstance(entry, Mapping):
        return None
    return (str(entry.get("tenantId", "")).lower(), str(entry.get("objectId", "")).lower())


def _cmk_permissions(entry: Mapping[str, Any]) -> frozenset[str]:
    keys = get(entry, "permissions", "keys")
    if not isinstance(keys, list):
        return frozenset()
    return frozenset(str(k).lower() for k in keys) & _CMK_KEY_PERMISSIONS


def _lost_policies(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[Finding]:
    """Principals whose access policy (inline list or standalone ``policy``) loses any of
    get/wrapKey/unwrapKey or disappears."""
    def entries(bag: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
        raw = _at(bag, path, [])
        raw = [raw] if isinstance(raw, Mapping) else raw
        if not isinstance(raw, list):
            return {}
        return {k: e for e in raw if (k := _entry_key(e)) is not None}

    before, after = entries(old), entries(new)
    if is_unknown(_at(new, path)):
        return []
    found = []
    for principal, entry in before.items():
        lost = _cmk_permissions(entry) - (_cmk_permissions(after[principal])
                                          if principal in after else frozenset())
        if lost:
            found.append(Finding(
                Risk.ACCESS_LOSS, "access policy narrowed",
                f"{path}: object {shorten(principal[1], SHOWN_WIDTH)} loses keys permission(s) "
                f"{', '.join(sorted(lost))}; services using that principal lose the key "
                "within about 10 minutes.",
                "grant the replacement principal first, verify, then remove the old "
                "permissions.",
                path))
    return found


def _access_policy_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    return _lost_policies(old, new, "policy")


def _role_assignment_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    path = "roleDefinitionId"
    if not _changed(old, new, path):
        return []
    return [Finding(
        Risk.ACCESS_LOSS, "grant role change",
        f"{path} changes from {_show(_at(old, path))} to {_show(_at(new, path))}: the principal "
        "loses the old role's permissions on the key.",
        "add an assignment with the new role first, let it propagate, then remove the old one.",
        path)]


_TSS_CALLS: Final = ("REGISTER_CMK_INFO", "ACTIVATE_CMK_INFO")


def _snowflake_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Finding]:
    """A Tri-Secret Secure statement that registers or activates another key."""
    before, after = str(_at(old, "execute", "")), str(_at(new, "execute", ""))
    if before == after or not any(c in (before + after).upper() for c in _TSS_CALLS):
        return []
    return [Finding(
        Risk.ACCESS_LOSS, "Snowflake Tri-Secret Secure key change",
        f"execute changes from {_show(before)} to {_show(after)}: the account's customer-"
        "managed key registration is re-run against the new statement, so Snowflake must be "
        "granted on the new key before it is activated, and data protected under the old key "
        "needs that key to stay available.",
        "register and verify the new key (SYSTEM$VERIFY_CMK_INFO) with its grant in place "
        "before activating it; " + KEEP_OLD_VERSION,
        "execute")]


_UPDATES: Final = {
    Kind.SNOWFLAKE_EXECUTE: _snowflake_changes,
    Kind.KEY: _key_changes,
    Kind.VAULT: _vault_changes,
    Kind.ACCESS_POLICY: _access_policy_changes,
    Kind.ROLE_ASSIGNMENT: _role_assignment_changes,
    Kind.STORAGE_ACCOUNT: _binding(
        ("encryption.keyVaultProperties.keyVaultUri", "encryption.keyVaultProperties.keyName"),
        ("encryption.encryptionIdentity.encryptionUserAssignedIdentity",
         "encryption.encryptionIdentity.encryptionFederatedIdentityClientId"),
        "encryption.keyVaultProperties.keyVersion"),
    Kind.SQL_SERVER: _binding(("keyId",), ("primaryUserAssignedIdentityId", "federatedClientId")),
    Kind.SQL_SERVER_KEY: _binding(("uri",), ()),
    Kind.SQL_ENCRYPTION_PROTECTOR: _binding(("serverKeyName", "serverKeyType"), ()),
    Kind.DISK_ENCRYPTION_SET: _disk_encryption_set_changes,
    Kind.FEDERATED_CREDENTIAL: _federated_changes,
    Kind.IDENTITY_FEDERATED_CREDENTIAL: _federated_changes,
}
"""Per kind, the in-place changes that lose access, weaken protection or are worth a notice
(key properties that never reach Azure, key version rotation)."""
