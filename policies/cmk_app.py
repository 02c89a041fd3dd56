"""Which applications are *the CMK app*: identified by what they are used for, not by type.

A stack may hold other applications that legitimately carry credentials (a credential
store, an organisation-level key's app). The CMK app is the one the cross-tenant chain
runs through:

- it has a token-exchange federated credential (audience ``api://AzureADTokenExchange`` or
  a sovereign cloud's, see :mod:`policies.clouds`),
  which is how the provider's managed identity acts as it; or
- its service principal is granted key material in this stack (a role assignment on a key
  or on a vault that holds keys, or an access-policy entry with key permissions), unless
  the app is single-tenant: a single-tenant app exists in one tenant only, so its grant is
  not cross-tenant (an organisation's own KMS app); or
- a binding names it as its federated client id (``federatedClientId``,
  ``encryptionFederatedIdentityClientId``).

Apps none of this identifies (a credential store's reader: single-tenant, granted secrets on
a vault without keys) carry credentials by design and are left to the credential rules.

References are resolved value first (application id, client id, principal object id),
dependencies deciding only what values leave unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import PolicyResource

from policies.access_policies import entries, entry_principals
from policies.clouds import audiences
from policies.props import elements, get, is_unknown, same, text
from policies.relations import (
    Resolution,
    Stack,
    output_matcher,
    resolve,
    resolve_application,
    resolve_identity,
    resolve_principal,
    resolve_scope,
    vault_of_key,
)
from policies.resource_kinds import Kind, checked_kind

TOKEN_EXCHANGE_AUDIENCES: Final = audiences()

FEDERATED_CLIENT_ID: Final[dict[Kind, tuple[str, ...]]] = {
    Kind.STORAGE_ACCOUNT: ("encryption", "encryptionIdentity",
                           "encryptionFederatedIdentityClientId"),
    Kind.SQL_SERVER: ("federatedClientId",),
    Kind.DISK_ENCRYPTION_SET: ("federatedClientId",),
}
"""Where each binding names the multitenant app it authenticates as (the app's client id)."""


@dataclass(frozen=True)
class ClientIdReference:
    """A binding's federated client id and the apps it designates."""

    resource: PolicyResource
    path: tuple[str, ...]
    value: Any
    apps: Resolution

    @property
    def where(self) -> str:
        return ".".join(self.path)


def is_token_exchange(credential: PolicyResource) -> bool:
    """A federated credential whose audience is the token exchange (a CMK-style credential)."""
    items = elements(get(credential.props, "audiences")) or []
    single = text(get(credential.props, "audience"))
    return any(isinstance(a, str) and any(same(a, known) for known in TOKEN_EXCHANGE_AUDIENCES)
               for a in [*items, single])


def app_of_principal(stack: Stack, principal: PolicyResource) -> Resolution:
    """The application a service principal installs (its ``clientId``)."""
    return resolve(principal, "clientId", get(principal.props, "clientId"),
                   stack.of_kind(Kind.APPLICATION), output_matcher("clientId"))


def client_id_references(stack: Stack) -> Iterator[ClientIdReference]:
    """Every binding's federated client id, resolved to the applications in the stack."""
    apps = stack.of_kind(Kind.APPLICATION)
    for kind, path in FEDERATED_CLIENT_ID.items():
        for resource in stack.of_kind(kind):
            value = get(resource.props, *path)
            if value is None:
                continue
            yield ClientIdReference(resource, path, value, resolve(
                resource, path[0], value, apps, output_matcher("clientId")))


SINGLE_TENANT: Final = "AzureADMyOrg"
"""The azuread default sign-in audience: the app exists in its own tenant only."""


def is_single_tenant(app: PolicyResource) -> bool:
    """Declared single-tenant, or the audience omitted (the provider's default)."""
    audience = get(app.props, "signInAudience")
    if is_unknown(audience):
        return False
    found = text(audience)
    return found is None or same(found, SINGLE_TENANT)


def holds_keys(stack: Stack, vault: PolicyResource) -> bool:
    """Whether a key of this stack is, or may be, in ``vault``."""
    for key in stack.of_kind(Kind.KEY):
        found = vault_of_key(stack, key)
        if found.undecided or found.designates(vault):
            return True
    return False


def on_key_material(stack: Stack, grant: PolicyResource) -> bool:
    """Whether a role assignment's scope is a key, or a vault that holds (or may hold) keys."""
    scope = resolve_scope(stack, grant)
    return scope.undecided or any(
        checked_kind(t.resource_type) is Kind.KEY or holds_keys(stack, t)
        for t in scope.targets)


def _same_tenant_only(stack: Stack, principal: PolicyResource) -> bool:
    """The principal of an in-stack single-tenant app (its grants stay in one tenant)."""
    owner = app_of_principal(stack, principal)
    return bool(owner.targets) and all(is_single_tenant(a) for a in owner.targets)


def granted_principals(stack: Stack) -> Iterator[PolicyResource]:
    """Service principals granted key material of this stack (a key, a vault holding keys,
    or key permissions in an access policy)."""
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        if on_key_material(stack, grant):
            yield from resolve_principal(stack, grant, "principalId",
                                         get(grant.props, "principalId")).targets
    for holder in stack.of_kind(Kind.VAULT, Kind.ACCESS_POLICY):
        for entry in entries(holder.resource_type, holder.props):
            if entry is not None and not is_unknown(entry.permissions["keys"]) \
                    and entry.permissions["keys"]:
                yield from entry_principals(stack, holder, entry).targets


def cmk_apps(stack: Stack, *, by_binding: bool = True) -> dict[str, PolicyResource]:
    """The CMK apps by URN; ``by_binding=False`` leaves out identification through bindings
    (the rule that checks the bindings' client ids must not judge them by themselves)."""
    found: dict[str, PolicyResource] = {}
    for credential in stack.of_kind(Kind.FEDERATED_CREDENTIAL):
        if is_token_exchange(credential):
            found.update((a.urn, a) for a in resolve_application(stack, credential).targets)
    for principal in granted_principals(stack):
        found.update((a.urn, a) for a in app_of_principal(stack, principal).targets
                     if not is_single_tenant(a))
    if by_binding:
        for reference in client_id_references(stack):
            found.update((a.urn, a) for a in reference.apps.targets)
    return found


def cmk_principals(stack: Stack) -> dict[str, PolicyResource]:
    """Service principals of the CMK apps, and any principal granted key material here."""
    apps = cmk_apps(stack)
    found = {p.urn: p for p in granted_principals(stack) if not _same_tenant_only(stack, p)}
    for principal in stack.of_kind(Kind.SERVICE_PRINCIPAL):
        if any(a.urn in apps for a in app_of_principal(stack, principal).targets):
            found[principal.urn] = principal
    return found


def cmk_identities(stack: Stack) -> dict[str, PolicyResource]:
    """Managed identities a CMK app federates (the subject of its token-exchange credential):
    whoever can act as one of them can act as the CMK app."""
    apps = cmk_apps(stack)
    found: dict[str, PolicyResource] = {}
    for credential in stack.of_kind(Kind.FEDERATED_CREDENTIAL):
        if is_token_exchange(credential) and any(
                a.urn in apps for a in resolve_application(stack, credential).targets):
            found.update((i.urn, i) for i in resolve_identity(stack, credential, "subject").targets)
    return found
