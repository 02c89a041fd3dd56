"""Vault checks against Resource Manager: properties as deployed, locks, the provider's grant.

What Azure returns is read with ARM's defaults for omitted values (soft delete on,
retention 90 days, bypass AzureServices), never as "unset".
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from enum import Enum
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError

from cmkctl.live.azure import Azure, Failure, explain
from cmkctl.live.report import Check, Report, Status
from cmkctl.live.target import Target, VaultRef

MIN_RETENTION_DAYS = 90
"""The vendor's recovery window: deleted keys restorable for 90 days."""
CMK_DATA_ACTIONS = ("Microsoft.KeyVault/vaults/keys/read",
                    "Microsoft.KeyVault/vaults/keys/wrap/action",
                    "Microsoft.KeyVault/vaults/keys/unwrap/action")
"""What Key Vault Crypto Service Encryption User carries: get, wrapKey, unwrapKey."""
PURGE_DATA_ACTION = "Microsoft.KeyVault/vaults/keys/purge/action"
PURGE_VAULT_ACTION = "Microsoft.KeyVault/locations/deletedVaults/purge/action"
"""Key Vault resource-provider operations: purge a deleted key / a deleted vault."""
CMK_KEY_PERMISSIONS = frozenset({"get", "wrapkey", "unwrapkey"})
CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
NOT_FOUND = (" (nothing at all for this principal: is --principal-object-id the service "
             "principal's object id, not the app's client id?)")
LOCK_LEVELS = ("CanNotDelete", "ReadOnly")
"""Either level stops an ARM delete of the locked resource."""


def wire(value: Any) -> Any:
    """SDK enums as the strings ARM sends."""
    return value.value if isinstance(value, Enum) else value


def check_vault(azure: Azure, target: Target, report: Report) -> Any:
    """Vault property checks; returns the vault (for the grant check) or None."""
    vault_ref = target.vault
    ids = ("vault.soft-delete", "vault.purge-protection", "vault.retention", "vault.rbac",
           "vault.firewall", "vault.trusted-services")
    if vault_ref is None:
        for check_id in ids:
            report.add(Check(check_id, "vault property", Status.COULD_NOT_CHECK,
                             "the vault's ARM id is unknown",
                             "pass --vault-id (az keyvault show --name "
                             f"{target.vault_name} --query id -o tsv)",
                             required=check_id != "vault.rbac"))
        return None
    try:
        with azure.vaults(vault_ref.subscription) as client:
            try:
                vault = client.vaults.get(vault_ref.resource_group, vault_ref.name)
            except ResourceNotFoundError:
                failure = _deleted_vault(client, vault_ref)
                vault = None
    except AzureError as error:
        failure = explain(error, "reading the vault", vault_ref.name)
        vault = None
    if vault is None:
        for check_id in ids:
            report.add(Check(check_id, "vault property", failure.status, failure.reason,
                             failure.fix, required=check_id != "vault.rbac"))
        return None
    for check in vault_checks(vault_ref, vault.properties):
        report.add(check)
    return vault


def _deleted_vault(client: Any, ref: VaultRef) -> Failure:
    """A vault ARM does not find: soft-deleted (recoverable) or gone."""
    for deleted in client.vaults.list_deleted():
        props = deleted.properties
        if props is not None and str(props.vault_id).lower() == ref.id.lower():
            return Failure(
                Status.FAIL,
                f"the vault was deleted on {props.deletion_date} and is soft-deleted until "
                f"{props.scheduled_purge_date}; every key in it is unusable",
                f"cmkctl key recover --vault-id {ref.id} --tenant-id <the vault's tenant> "
                "(it lists the locks and role assignments to re-create: they do not come back "
                "with the vault), then run verify again")
    return Failure(Status.FAIL, "the vault does not exist and is not among deleted vaults: "
                   "purged, never created, or the --vault-id is wrong",
                   "check the id (az keyvault list --query [].id); a purged vault's keys can be "
                   "restored from backup blobs into a new vault of the same subscription and "
                   "geography")


def vault_checks(ref: VaultRef, props: Any) -> Iterable[Check]:
    name = ref.name
    soft = props.enable_soft_delete is not False
    yield Check("vault.soft-delete", "soft delete", Status.PASS if soft else Status.FAIL,
                "on" if soft else "enableSoftDelete is false: a deleted key is gone at once",
                f"az keyvault update --name {name} --enable-soft-delete true")
    purge = props.enable_purge_protection is True
    yield Check("vault.purge-protection", "purge protection",
                Status.PASS if purge else Status.FAIL,
                "on" if purge else "off: anyone with purge rights can erase a deleted key for good",
                f"az keyvault update --name {name} --enable-purge-protection true (irreversible)")
    days = props.soft_delete_retention_in_days or 90
    yield Check("vault.retention", "soft-delete retention",
                Status.PASS if days >= MIN_RETENTION_DAYS else Status.FAIL,
                f"{days} days (needs {MIN_RETENTION_DAYS})",
                f"az keyvault update --name {name} --retention-days {MIN_RETENTION_DAYS}; if Azure "
                "refuses the change, create a vault with 90 days and move the key by "
                "backup/restore")
    rbac = props.enable_rbac_authorization is True
    yield Check("vault.rbac", "RBAC permission model", Status.PASS if rbac else Status.FAIL,
                "Azure RBAC" if rbac else "access policies (a supported alternative)",
                f"az keyvault update --name {name} --enable-rbac-authorization true, after "
                "granting the same rights as role assignments", required=False)
    acls = props.network_acls
    default = wire(acls.default_action) if acls is not None else None
    public = wire(props.public_network_access) or "Enabled"
    closed = public == "Disabled" or default == "Deny"
    yield Check("vault.firewall", "firewall", Status.PASS if closed else Status.FAIL,
                f"publicNetworkAccess {public}, "
                f"defaultAction {default or 'Allow (no networkAcls)'}",
                f"az keyvault update --name {name} --default-action Deny --bypass AzureServices")
    bypass = wire(acls.bypass) if acls is not None and acls.bypass is not None else "AzureServices"
    trusted = "AzureServices" in str(bypass)
    yield Check("vault.trusted-services", "trusted Microsoft services bypass",
                Status.PASS if trusted else Status.FAIL, f"bypass {bypass}",
                f"az keyvault update --name {name} --bypass AzureServices (Storage, SQL and disk "
                "encryption reach the key as trusted services)")


def check_locks(azure: Azure, target: Target, report: Report) -> None:
    ref = target.vault
    scopes = [("vault.lock", "lock on the vault", ref.id if ref else None)]
    scopes += [(f"key[{k.uri.name}].lock", "lock on the key",
                ref.key_id(k.uri.name) if ref else None) for k in target.keys]
    for check_id, title, scope in scopes:
        if ref is None or scope is None:
            report.add(Check(check_id, title, Status.COULD_NOT_CHECK,
                             "the vault's ARM id is unknown", "pass --vault-id"))
            continue
        try:
            with azure.locks(ref.subscription) as client:
                locks = list(client.management_locks.list_by_scope(scope))
        except AzureError as error:
            failure = explain(error, "listing locks", ref.name)
            report.add(Check(check_id, title, failure.status, failure.reason, failure.fix))
            continue
        report.add(lock_check(check_id, title, scope, locks))


def lock_check(check_id: str, title: str, scope: str, locks: list[Any]) -> Check:
    fix = f"az lock create --name cmk-do-not-delete --lock-type CanNotDelete --resource {scope}"
    own_prefix = f"{scope}/providers/microsoft.authorization/locks/".lower()
    own = [lk for lk in locks if str(lk.id).lower().startswith(own_prefix)]
    good = [lk for lk in own if wire(lk.level) in LOCK_LEVELS]
    if good:
        return Check(check_id, title, Status.PASS,
                     f"{wire(good[0].level)} lock {good[0].name!r}")
    inherited = [lk for lk in locks if lk not in own and wire(lk.level) in LOCK_LEVELS]
    reason = ("no lock on this resource: an ARM delete would succeed and consumers lose the key "
              "within about 10 minutes")
    if inherited:
        reason += f" (only the inherited lock {inherited[0].name!r} from a parent scope)"
    return Check(check_id, title, Status.FAIL, reason, fix)


def check_grant(azure: Azure, target: Target, vault: Any, report: Report) -> None:
    """The provider app's principal can get, wrap and unwrap, and cannot purge."""
    ids = (("grant.crypto", "provider app can get, wrapKey, unwrapKey", True),
           ("grant.no-purge", "provider app has no purge right", True),
           ("grant.least-privilege", "provider app has nothing beyond get, wrapKey, unwrapKey",
            False))
    principal = target.principal_object_id
    missing = (None if principal and vault is not None else
               ("the provider principal's object id is unknown",
                "pass --principal-object-id (az ad sp show --id <provider app client id> "
                "--query id -o tsv)") if not principal else
               ("the vault could not be read (see the vault checks)", "fix the vault checks above"))
    if missing is not None:
        for check_id, title, required in ids:
            report.add(Check(check_id, title, Status.COULD_NOT_CHECK, missing[0], missing[1],
                             required))
        return
    assert principal is not None and target.vault is not None
    if vault.properties.enable_rbac_authorization is True:
        results = _rbac_grant(azure, target, principal)
    else:
        results = _policy_grant(vault.properties.access_policies or [], target, principal)
    for (check_id, title, required), (status, reason, fix) in zip(ids, results, strict=True):
        report.add(Check(check_id, title, status, reason, fix, required))


Result = tuple[Status, str, str]


def _rbac_grant(azure: Azure, target: Target, principal: str) -> list[Result]:
    ref = target.vault
    assert ref is not None
    scopes = {key.uri.name: ref.key_id(key.uri.name) for key in target.keys}
    try:
        with azure.authorization(ref.subscription) as client:
            # Listing at a key's scope returns the assignments that apply to it, inherited too.
            per_key = {name: list(client.role_assignments.list_for_scope(
                scope, filter=f"principalId eq '{principal}'")) for name, scope in scopes.items()}
            definitions = {str(a.role_definition_id): client.role_definitions.get_by_id(
                str(a.role_definition_id)) for found in per_key.values() for a in found}
    except AzureError as error:
        failure = explain(error, "listing role assignments", ref.name)
        return [(failure.status, failure.reason, failure.fix)] * 3

    def described(assignments: list[Any]) -> str:
        return "; ".join(f"{definitions[str(a.role_definition_id)].role_name} at {a.scope}"
                         for a in assignments) or "no role assignment"

    def blocks(assignments: list[Any], data: bool) -> list[Block]:
        return [((p.data_actions if data else p.actions) or [],
                 (p.not_data_actions if data else p.not_actions) or [])
                for a in assignments
                for p in definitions[str(a.role_definition_id)].permissions or []]

    every = list({str(a.id): a for found in per_key.values() for a in found}.values())
    where = described(every)
    lacking = []
    for name, found in per_key.items():
        absent = [a for a in CMK_DATA_ACTIONS if not _allows(blocks(found, True), a)]
        if absent:
            label = f"key {name}: " if len(per_key) > 1 else ""
            lacking.append((scopes[name], f"{label}{described(found)}: missing "
                                          f"{', '.join(absent)}"))
    crypto: Result = (
        (Status.PASS, where, "") if not lacking else
        (Status.FAIL, "; ".join(reason for _, reason in lacking) + (NOT_FOUND if not every else ""),
         " && ".join(f"az role assignment create --assignee-object-id {principal} "
                     "--assignee-principal-type ServicePrincipal --role "
                     f"{CRYPTO_SERVICE_ENCRYPTION_USER} --scope {scope}"
                     for scope, _ in lacking)))
    purges = [a for a in (PURGE_DATA_ACTION,) if _allows(blocks(every, True), a)]
    purges += [a for a in (PURGE_VAULT_ACTION,) if _allows(blocks(every, False), a)]
    no_purge: Result = ((Status.PASS, "no purge action granted", "") if not purges else
                        (Status.FAIL, f"{where} grants {', '.join(purges)}",
                         "remove that role assignment (az role assignment delete --ids <id>) and "
                         "grant only Key Vault Crypto Service Encryption User"))
    narrow = {scope.lower() for scope in scopes.values()} | {ref.id.lower()}
    broad = [a for a in every if str(a.scope).lower() not in narrow]
    extra = sorted({a for allowed, _ in blocks(every, True) for a in allowed
                    if a.lower() not in {c.lower() for c in CMK_DATA_ACTIONS}})
    problems = [f"also grants {', '.join(extra)}"] if extra else []
    problems += [f"scoped wider than the key or vault: {described(broad)}"] if broad else []
    least: Result = ((Status.PASS, "only read, wrap and unwrap, on the key or vault", "")
                     if not problems else
                     (Status.FAIL, "; ".join(problems),
                      "replace broader roles and scopes with Key Vault Crypto Service Encryption "
                      "User on the key"))
    return [crypto, no_purge, least]


Block = tuple[list[str], list[str]]
"""Allowed and excluded action patterns of one permission block of a role definition."""


def _allows(blocks: list[Block], action: str) -> bool:
    """A block grants ``action`` when an allowed pattern matches and no excluded one does."""
    def match(patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)

    return any(match(allowed) and not match(excluded) for allowed, excluded in blocks)


def _policy_grant(policies: list[Any], target: Target, principal: str) -> list[Result]:
    keys: set[str] = set()
    for entry in policies:
        if str(entry.object_id).lower() == principal:
            granted = entry.permissions.keys_property if entry.permissions else None
            keys |= {str(wire(p)).lower() for p in (granted or [])}
    set_policy = (f"az keyvault set-policy --name {target.vault_name} --object-id {principal} "
                  "--key-permissions get wrapKey unwrapKey")
    shown = ", ".join(sorted(keys)) or "no access policy"
    absent = sorted(CMK_KEY_PERMISSIONS - keys) if "all" not in keys else []
    crypto: Result = ((Status.PASS, f"access policy keys: {shown}", "") if not absent else
                      (Status.FAIL, f"access policy keys: {shown}; missing {', '.join(absent)}"
                                    + (NOT_FOUND if not keys else ""),
                       set_policy))
    purges = sorted(keys & {"purge", "all"})
    no_purge: Result = ((Status.PASS, "no purge permission", "") if not purges else
                        (Status.FAIL, f"access policy grants keys {', '.join(purges)}",
                         f"{set_policy} (sets the key permissions to exactly these three)"))
    extra = sorted(keys - CMK_KEY_PERMISSIONS)
    least: Result = ((Status.PASS, "only get, wrapKey, unwrapKey", "") if not extra else
                     (Status.FAIL, f"also grants keys {', '.join(extra)}",
                      f"{set_policy} (sets the key permissions to exactly these three)"))
    return [crypto, no_purge, least]
