"""Roles that can purge a vault or its keys go to the listed administrators only.

The vendor's best practice: only top-level administrators may purge. Under RBAC the right
comes with roles, not with a ``purge`` permission: Owner and Contributor (``*`` actions,
which include ``Microsoft.KeyVault/locations/deletedVaults/purge/action``), Key Vault
Administrator (data actions ``Microsoft.KeyVault/vaults/*``) and Key Vault Crypto Officer
(``Microsoft.KeyVault/vaults/keys/*``) — Azure built-in roles, Microsoft Learn "Azure
built-in roles for Security" and "General". Key Vault Contributor cannot purge itself: its
``notActions`` exclude ``Microsoft.KeyVault/locations/deletedVaults/purge/action`` and it has
no data actions. But its ``Microsoft.KeyVault/*`` includes writing access policies, so on a
vault that uses access policies (``enableRbacAuthorization`` not true; ARM's default is
false) it can grant itself the keys ``purge`` permission: it is reported there only, for
that reason. A role assignment of one of them whose scope is a vault or key of this stack,
or contains one (its resource group, subscription or management group), to a principal
outside ``administratorPrincipalIds`` is reported. Advisory by default, like
``access-policy-no-purge``.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.access_policies import ADMINISTRATORS
from policies.azure_refs import role_guid
from policies.framework import (
    GUID_ITEM,
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    stack_rule,
)
from policies.props import Verdict, get, is_unknown, text
from policies.relations import Stack, resolve_scope, scope_of, vault_of_key
from policies.resource_kinds import Kind, kind_of

PURGE_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "f25e0fa2-a7c8-4377-a976-54943a77a395": "Key Vault Contributor",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": "Key Vault Crypto Officer",
}
"""Built-in roles whose actions or data actions include purging a vault or its keys (Key
Vault Contributor: by granting itself purge on an access-policy vault)."""
KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"

META = RuleMeta(
    name="purge-role-only-administrators",
    description=("Roles that can purge a vault or its keys are assigned on it only to the "
                 "listed administrators."),
    level=EnforcementLevel.ADVISORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "no-purge-rights",
                    "principals without top-level administrator rights get no purge right"),),
    remediation=("Assign a role without purge (Key Vault Crypto Service Encryption User for "
                 "services) or list the principal in administratorPrincipalIds; administrators "
                 "who must purge get a time-bound assignment outside this stack."),
    url="https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security",
    parameters={
        "administratorPrincipalIds": ADMINISTRATORS,
        "purgeRoleDefinitionIds": {
            "type": "array",
            "items": GUID_ITEM,
            "uniqueItems": True, "default": sorted(PURGE_ROLES),
            "description": "Role definition GUIDs that include purge (add custom roles here).",
        },
    },
)


def _ids(resources: list[PolicyResource]) -> list[Any]:
    return [get(r.props, "id") for r in resources]


def _covers(stack: Stack, grant: PolicyResource) -> Verdict:
    """Whether the grant's scope is, or contains, a vault or key of this stack."""
    if resolve_scope(stack, grant).targets:
        return True
    scope = scope_of(grant)
    found = text(scope)
    ids = _ids(stack.of_kind(Kind.VAULT, Kind.KEY))
    if found is None:
        return None if is_unknown(scope) else False
    prefix = found.rstrip("/").lower() + "/"
    if any((t := text(i)) and t.lower().startswith(prefix) for i in ids):
        return True
    return None if any(is_unknown(i) for i in ids) else False


def _access_policy_vaults(stack: Stack, grant: PolicyResource) -> Verdict:
    """Whether a vault the grant's scope is, holds or lies under uses access policies."""
    vaults = []
    for target in resolve_scope(stack, grant).targets:
        vaults += [target] if kind_of(target.resource_type) == Kind.VAULT else list(
            vault_of_key(stack, target).targets)
    found = text(scope_of(grant))
    if found is not None:
        prefix = found.rstrip("/").lower() + "/"
        vaults += [v for v in stack.of_kind(Kind.VAULT)
                   if (t := text(get(v.props, "id"))) and (t.lower() + "/").startswith(prefix)]
    rbac = [get(v.props, "properties", "enableRbacAuthorization") for v in vaults]
    if any(r is not True and not is_unknown(r) for r in rbac):
        return True
    return None if any(is_unknown(r) for r in rbac) else False


def check(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    admins = {str(a).lower() for a in config["administratorPrincipalIds"]}
    purge_roles = {str(r).lower() for r in config["purgeRoleDefinitionIds"]}
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        role = get(grant.props, "roleDefinitionId")
        principal = get(grant.props, "principalId")
        if is_unknown(role):
            yield Undecided("roleDefinitionId is unknown", grant.urn)
            continue
        guid = role_guid(text(role) or "")
        if guid not in purge_roles:
            continue
        covers = _covers(stack, grant)
        if covers is not False and guid == KEY_VAULT_CONTRIBUTOR:
            covers = _access_policy_vaults(stack, grant)
        if covers is False:
            continue
        if is_unknown(principal) and admins:
            yield Undecided("the principal of a purge-capable role is unknown", grant.urn)
        elif not (isinstance(principal, str) and principal.lower() in admins):
            if covers is None:
                yield Undecided("whether the purge-capable role's scope contains key material",
                                grant.urn)
            else:
                how = ("can grant itself purge through an access policy on a vault that uses "
                       "them" if guid == KEY_VAULT_CONTRIBUTOR else "can purge the vault or its "
                       "keys")
                yield Violation(f"role {PURGE_ROLES.get(guid or '', guid)} {how} and goes to "
                                f"{principal!r}, not a listed administrator.", grant.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
