"""SQL servers protect TDE with the customer's key through the federated identity.

The identity SQL authenticates as (``primaryUserAssignedIdentityId``, also listed in
``identity``) and ``federatedClientId`` (the provider app) live on the server. The key
either is the server's ``keyId`` or comes from an ``EncryptionProtector`` of type
AzureKeyVault for the server: a server created with ``keyId`` already owns its server
key and protector, which azure-native then cannot create, and the protector is the only
place the auto-rotation flag lives. The Azure Policy built-in audits the protector too.
This is a stack rule because the protector is a separate resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.bindings import server_uses_customer_key
from policies.checks import located, require_text, user_assigned_identity
from policies.framework import (
    AZURE_POLICY_URL,
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    stack_rule,
)
from policies.relations import Stack
from policies.resource_kinds import Kind

GUID = "0a370ff3-6cab-4e85-8995-295fd854c5b8"

META = RuleMeta(
    name="sql-cross-tenant-cmk",
    description=("SQL servers use the customer's key (keyId or an AzureKeyVault encryption "
                 "protector), a primary user-assigned identity they list, and the provider "
                 "app's federated client id."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Azure Policy", GUID,
                    "SQL servers should use customer-managed keys to encrypt data at rest"),),
    remediation=("Set identity {type: UserAssigned, userAssignedIdentities: [uami id]}, "
                 "primaryUserAssignedIdentityId to that id and federatedClientId to the provider "
                 "app's client id; then either keyId, or a ServerKey with the versioned key URI "
                 "and an EncryptionProtector 'current' of type AzureKeyVault."),
    url=AZURE_POLICY_URL.format(GUID),
)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    for server in stack.of_kind(Kind.SQL_SERVER):
        yield from located(server.urn, user_assigned_identity(
            server.props, ("primaryUserAssignedIdentityId",)))
        yield from located(server.urn, require_text(server.props, "federatedClientId"))
        uses_key = server_uses_customer_key(stack, server)
        if uses_key is None:
            yield Undecided("whether the server uses the customer's key", server.urn)
        elif not uses_key:
            yield Violation("neither keyId nor an AzureKeyVault encryption protector gives the "
                            "server the customer's key.", server.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
