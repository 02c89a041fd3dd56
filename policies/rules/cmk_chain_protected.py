"""The stores encrypted with the customer's key and the identity chain to it are ``protect``ed.

The twin of ``key-material-protected`` for the provider side. Deleting or replacing a bound
storage account, SQL server (its server key or encryption protector) or disk encryption set
loses its data; deleting the managed identity or the token-exchange federated credential cuts
every binding off the key (they are the only path to it). ``protect`` stops ``pulumi destroy``
or a renamed config value from doing either silently.
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

from policies.bindings import SNOWFLAKE, bindings, server_uses_customer_key, uses_vault_key
from policies.cmk_app import is_token_exchange
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.relations import Stack, resolve_identity
from policies.resource_kinds import Kind

META = RuleMeta(
    name="cmk-chain-protected",
    description=("Stores encrypted with the customer's key, and the managed identity and "
                 "federated credential that reach the key, have the protect resource option."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "data-loss-prevention",
                    "a deleted store loses its data; a deleted identity cuts access to the key"),),
    remediation=("Pass opts=pulumi.ResourceOptions(protect=True) to every bound store, the "
                 "user-assigned identity and the federated credential (in this program: "
                 "protectProviderResources true)."),
    url="https://www.pulumi.com/docs/iac/concepts/options/protect/",
)


def _chain(stack: Stack) -> Iterator[tuple[PolicyResource, bool | None]]:
    """Each resource of the chain, with whether it belongs to it (None: cannot tell yet)."""
    for binding in bindings(stack):
        if binding.service == SNOWFLAKE:
            continue  # Snowflake's statements are guarded by its own component, not stores.
        yield binding.resource, True
    for protector in stack.of_kind(Kind.SQL_ENCRYPTION_PROTECTOR):
        yield protector, uses_vault_key(protector.props)
    for server in stack.of_kind(Kind.SQL_SERVER):
        yield server, server_uses_customer_key(stack, server)
    for credential in stack.of_kind(Kind.FEDERATED_CREDENTIAL):
        if not is_token_exchange(credential):
            continue
        # A token-exchange credential makes its app a CMK app, whether the app is in this
        # stack or named by a literal client id (a shared app); its subject is the identity.
        yield credential, True
        subject = resolve_identity(stack, credential, "subject")
        yield from ((identity, True) for identity in subject.targets)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    seen: set[str] = set()
    for resource, belongs in _chain(Stack(args.resources)):
        if resource.urn in seen or resource.opts.protect or belongs is False:
            continue
        seen.add(resource.urn)
        what = f"{resource.resource_type.rsplit(':', 1)[-1]} {resource.name}"
        if belongs is None:
            yield Undecided(f"whether unprotected {what} is on the path to the customer's key",
                            resource.urn)
        else:
            yield Violation(f"{what} is not protected: a destroy or replace loses its data or "
                            "cuts access to the customer's key.", resource.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
