"""A reference's known value names the resource it was computed from.

Every stack rule relates resources by value first: a subject, scope, key URL or client id
that is known decides. If that value names something other than the resource the engine
says the property was computed from (``subject = uami.client_id`` instead of its principal
id, ``scope = rg.id`` beside the vault, a key URL in another vault built next to this
stack's key), the program is not doing what it reads as doing. Each such property is a
violation naming both sides; the other rules judge the value itself.
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

from policies.access_policies import entries, entry_principals
from policies.bindings import bindings
from policies.cmk_app import app_of_principal, client_id_references
from policies.framework import Anchor, Finding, RuleMeta, Violation, stack_rule
from policies.props import get
from policies.relations import (
    Resolution,
    Stack,
    resolve_application,
    resolve_identity,
    resolve_principal,
    resolve_scope,
    resolve_vault_by_name,
    scope_of,
    vault_of_key,
)
from policies.resource_kinds import Kind, checked_kind

META = RuleMeta(
    name="references-match-dependencies",
    description=("A known reference (subject, scope, key URL, vault, principal, client id) "
                 "names the resource it is computed from."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "values-first",
                    "grants, locks, credentials and bindings point at the intended resource"),),
    remediation=("Use the output that names the resource (principal_id for a federated "
                 "subject, the vault's or key's id for a scope, the key's URL for a binding, "
                 "the app's client_id for a federated client id)."),
    url="https://www.pulumi.com/docs/iac/concepts/inputs-outputs/",
)

Relation = tuple[PolicyResource, str, Any, Resolution]
"""A resource, the property holding a reference, its value, and what it resolves to."""


def _relations(stack: Stack) -> Iterator[Relation]:
    for credential in stack.of_kind(Kind.FEDERATED_CREDENTIAL):
        yield (credential, "subject", get(credential.props, "subject"),
               resolve_identity(stack, credential, "subject"))
    for owned in stack.of_kind(Kind.FEDERATED_CREDENTIAL, Kind.APPLICATION_PASSWORD,
                               Kind.APPLICATION_CERTIFICATE):
        yield (owned, "applicationId", get(owned.props, "applicationId"),
               resolve_application(stack, owned))
    for guard in stack.of_kind(Kind.ROLE_ASSIGNMENT, Kind.LOCK):
        yield guard, "scope", scope_of(guard), resolve_scope(stack, guard)
    for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT):
        principal = get(grant.props, "principalId")
        yield grant, "principalId", principal, resolve_principal(stack, grant, "principalId",
                                                                 principal)
    for policy in stack.of_kind(Kind.ACCESS_POLICY):
        yield (policy, "vaultName", get(policy.props, "vaultName"),
               resolve_vault_by_name(stack, policy))
        for entry in entries(policy.resource_type, policy.props):
            if entry is not None:
                yield policy, "policy.objectId", entry.object_id, entry_principals(
                    stack, policy, entry)
    for key in stack.of_kind(Kind.KEY):
        yield key, "vaultName", get(key.props, "vaultName"), vault_of_key(stack, key)
    for principal in stack.of_kind(Kind.SERVICE_PRINCIPAL):
        yield (principal, "clientId", get(principal.props, "clientId"),
               app_of_principal(stack, principal))
    for binding in bindings(stack):
        yield binding.resource, "key reference", None, binding.keys
    for reference in client_id_references(stack):
        yield reference.resource, reference.where, reference.value, reference.apps


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    for resource, prop, value, resolution in _relations(stack):
        for source in resolution.contradicts:
            kind = checked_kind(source.resource_type)
            shown = "" if value is None else f" ({value!r})"
            yield Violation(f"{prop} of {resource.name}{shown} is computed from "
                            f"{kind.value if kind else 'resource'} {source.name} ({source.urn}) "
                            "but does not name it.", resource.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
