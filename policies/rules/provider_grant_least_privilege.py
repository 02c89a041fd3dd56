"""The provider app's service principal gets only what CMK needs, on a key or a vault.

Under RBAC: a role in ``allowedRoleDefinitionIds`` (Key Vault Crypto Service Encryption
User by default, which carries get, wrapKey and unwrapKey on keys), principal type
ServicePrincipal (needed to avoid replication-delay failures), scoped to a key or a vault.
Any other role for that principal (Key Vault Administrator, Crypto Officer, Owner,
Contributor...) is a violation. Under access policies: keys exactly get, wrapKey and
unwrapKey, nothing on secrets, certificates or storage; with ``requireRbac`` any
access-policy grant to the provider app is a violation. The provider app's principal is
every ``azuread`` ServicePrincipal in the stack except one that is not a CMK principal
(``policies.cmk_app``) holding a grant off key material, such as a credential store's reader
granted secrets on a vault without keys; a grant on key material (a key, or a vault holding
keys) is judged whoever receives it.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.access_policies import Entry, entries, entry_principals
from policies.azure_refs import arm_ref, role_guid
from policies.cmk_app import cmk_principals, holds_keys, on_key_material
from policies.framework import (
    GUID_ITEM,
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    stack_rule,
)
from policies.props import get, is_unknown, same, text
from policies.relations import (
    Stack,
    resolve_key_material,
    resolve_principal,
    resolve_vault_by_name,
    scope_of,
)
from policies.resource_kinds import Kind, checked_kind

CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
"""Built-in role Key Vault Crypto Service Encryption User."""

ROLE_PARAMETER: Mapping[str, Any] = {
    "type": "array",
    "items": GUID_ITEM,
    "minItems": 1, "uniqueItems": True, "default": [CRYPTO_SERVICE_ENCRYPTION_USER],
    "description": "Role definition GUIDs that may be granted to the provider app's principal.",
}

META = RuleMeta(
    name="provider-grant-least-privilege",
    description=("The provider app's service principal is granted only Key Vault Crypto Service "
                 "Encryption User (or get/wrapKey/unwrapKey) on a key or vault."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "grant",
                    "Key Vault Crypto Service Encryption User for the app, or an access policy "
                    "with get, wrapKey and unwrapKey"),),
    remediation=("Grant the provider app's service principal role e147488a-f6f5-4113-8e2d-"
                 "b22465e65bf6 with principalType ServicePrincipal and scope = the key's id (or "
                 "the vault's); remove any broader role; in access-policy mode give keys exactly "
                 "get, wrapKey, unwrapKey."),
    url=("https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/"
         "security#key-vault-crypto-service-encryption-user"),
    parameters={
        "allowedRoleDefinitionIds": ROLE_PARAMETER,
        "requireRbac": {
            "type": "boolean", "default": False,
            "description": "Reject access-policy grants to the provider app (RBAC only).",
        },
    },
)


def _role_assignment(stack: Stack, grant: PolicyResource, allowed: set[str]) -> Iterator[Finding]:
    role = get(grant.props, "roleDefinitionId")
    if is_unknown(role):
        yield Undecided("roleDefinitionId is unknown", grant.urn)
    elif (guid := role_guid(text(role) or "")) not in allowed:
        yield Violation(f"role {guid or role!r} is not allowed for the provider app's principal; "
                        f"allowed: {', '.join(sorted(allowed))}.", grant.urn)
    kind = get(grant.props, "principalType")
    if is_unknown(kind):
        yield Undecided("principalType is unknown", grant.urn)
    elif not ((found := text(kind)) and same(found, "ServicePrincipal")):
        yield Violation(f"principalType is {kind!r}; set ServicePrincipal.", grant.urn)
    value = scope_of(grant)
    scope = resolve_key_material(stack, grant, "scope", value)
    if scope.targets:
        return
    if scope.undecided:
        yield Undecided("whether the scope is a key or a vault", grant.urn)
    elif (found := text(value)) is None or arm_ref(found) is None:
        yield Violation(f"scope {value!r} is not a key vault or key.", grant.urn)


def _access_policy(entry: Entry, holder: PolicyResource, require_rbac: bool) -> Iterator[Finding]:
    if require_rbac:
        yield Violation(f"{entry.where} grants the provider app through an access policy; "
                        "requireRbac allows role assignments only.", holder.urn)
    elif not entry.known:
        yield Undecided(f"{entry.where} permissions are unknown", holder.urn)
    elif not entry.exactly_cmk():
        granted = {k: sorted(v) for k, v in entry.permissions.items() if v}
        yield Violation(f"{entry.where} grants the provider app {granted}; expected keys "
                        "exactly get, wrapKey, unwrapKey.", holder.urn)


def _other_app_off_keys(principals: Sequence[PolicyResource], cmk: Mapping[str, PolicyResource],
                        on_keys: bool) -> bool:
    """A grant outside this rule: to principals that are not CMK principals (a credential
    store's reader), off key material. Grants on key material are judged whoever gets them."""
    return not on_keys and not any(p.urn in cmk for p in principals)


def _holder_holds_keys(stack: Stack, holder: PolicyResource) -> bool:
    if checked_kind(holder.resource_type) is Kind.VAULT:
        return holds_keys(stack, holder)
    vaults = resolve_vault_by_name(stack, holder)
    return vaults.undecided or any(holds_keys(stack, v) for v in vaults.targets)


def check(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    cmk = cmk_principals(stack)
    allowed = {str(g).lower() for g in config["allowedRoleDefinitionIds"]}
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        principal = resolve_principal(stack, grant, "principalId", get(grant.props, "principalId"))
        if principal.targets and not _other_app_off_keys(principal.targets, cmk,
                                                         on_key_material(stack, grant)):
            yield from _role_assignment(stack, grant, allowed)
        elif principal.undecided:
            yield Undecided("whether the role assignment names the provider app", grant.urn)
    for holder in stack.of_kind(Kind.VAULT, Kind.ACCESS_POLICY):
        for entry in entries(holder.resource_type, holder.props):
            if entry is None:
                yield Undecided("an access-policy entry is unknown", holder.urn)
                continue
            principal = entry_principals(stack, holder, entry)
            if principal.targets and not _other_app_off_keys(
                    principal.targets, cmk, _holder_holds_keys(stack, holder)):
                yield from _access_policy(entry, holder, bool(config["requireRbac"]))
            elif principal.undecided and not entry.exactly_cmk():
                yield Undecided(f"whether {entry.where} is the provider app's", holder.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
