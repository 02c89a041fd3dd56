"""A key of a stack without bindings is granted to someone: a customer stack that grants its
key to nobody hands the provider a key no service can use.

``consumed-key-granted`` checks keys that bindings in the same stack consume. In a split
set-up the customer's stack holds the key and the grant while the bindings live in the
provider's stack, so a customer stack whose key has no role assignment (on the key or its
vault) and no access policy with wrapKey/unwrapKey on its vault fails only later, at the
provider's first ``pulumi up``. Advisory: the grant may be made elsewhere on purpose.
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

from policies.access_policies import entries
from policies.bindings import bindings
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.relations import Stack, resolve_scope, resolve_vault_by_name, vault_of_key
from policies.resource_kinds import Kind

META = RuleMeta(
    name="customer-key-granted",
    description=("In a stack without bindings, every key has a role assignment on it or its "
                 "vault, or an access policy with wrapKey and unwrapKey on its vault."),
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Vendor CMK prerequisites", "grant-provider-app",
                    "the customer grants the provider's app access to the key"),),
    remediation=("Grant the key to the provider app's service principal in this stack "
                 "(Key Vault Crypto Service Encryption User on the key, or an access policy "
                 "with get, wrapKey and unwrapKey)."),
    url="https://learn.microsoft.com/azure/key-vault/general/rbac-guide",
)


def _policy_grants(stack: Stack, vault: PolicyResource) -> bool:
    """An access policy on the vault (inline or standalone) grants the CMK rights, or one is
    unknown until apply (an advisory gives it the benefit of the doubt)."""
    holders = [vault, *(p for p in stack.of_kind(Kind.ACCESS_POLICY)
                        if resolve_vault_by_name(stack, p).designates(vault))]
    return any(entry is None or entry.grants_cmk()
               for holder in holders for entry in entries(holder.resource_type, holder.props))


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    if any(True for _ in bindings(stack)):
        return  # consumed-key-granted judges keys a binding here consumes
    grants = [resolve_scope(stack, grant) for grant in stack.of_kind(Kind.ROLE_ASSIGNMENT)]
    for key in stack.of_kind(Kind.KEY):
        vault = vault_of_key(stack, key)
        scoped = [s for s in grants if s.designates(key)
                  or any(s.designates(v) for v in vault.targets)]
        if scoped or any(_policy_grants(stack, v) for v in vault.targets):
            continue
        if vault.undecided or any(s.undecided for s in grants):
            yield Undecided(f"whether key {key.name} is granted to anyone", key.urn)
        else:
            yield Violation(f"key {key.name} is granted to nobody in this stack: no service can "
                            "use it until someone is granted wrapKey and unwrapKey on it.",
                            key.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
