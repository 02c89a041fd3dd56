"""A binding authenticates as the CMK app: its federated client id is the app's client id.

Storage ``encryptionFederatedIdentityClientId`` and SQL / disk encryption set
``federatedClientId`` take the **multitenant app's** client id; the managed identity's
``clientId`` (an easy mistake: both are GUIDs on outputs of the provider side) makes
every key access fail, and any other app's id would authenticate as that app. When the
CMK app is in the plan the value must be its client id; it must never be a managed
identity's client (or principal) id. A known value decides; while it is unknown, the
dependency decides (computed from the app passes, from an identity fails).
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.cmk_app import ClientIdReference, client_id_references, cmk_apps
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import is_unknown, text
from policies.relations import Stack, dependencies_of, match_value, output_matcher
from policies.resource_kinds import Kind, checked_kind

META = RuleMeta(
    name="binding-federated-client-id",
    description=("Every binding's federated client id is the CMK app's client id, never a "
                 "managed identity's."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "federated-client-id",
                    "the binding names the multitenant application's client id"),),
    remediation=("Set federatedClientId (SQL, disk encryption set) or encryption."
                 "encryptionFederatedIdentityClientId (storage) to app.client_id, not "
                 "uami.client_id."),
    url=("https://learn.microsoft.com/azure/storage/common/"
         "customer-managed-keys-configure-cross-tenant-new-account"),
)

_IDENTITY_IDS = output_matcher("clientId", "principalId")


def _judge(stack: Stack, ref: ClientIdReference, apps: Mapping[str, Any]) -> Iterator[Finding]:
    name, urn = ref.resource.name, ref.resource.urn
    identities = stack.of_kind(Kind.USER_ASSIGNED_IDENTITY)
    if is_unknown(ref.value):
        deps = dependencies_of(ref.resource, ref.path[0]) or []
        kinds = {checked_kind(d.resource_type) for d in deps}
        if Kind.USER_ASSIGNED_IDENTITY in kinds and Kind.APPLICATION not in kinds:
            yield Violation(f"{ref.where} of {name} is computed from a managed identity; it "
                            "must be the CMK app's client id.", urn)
        elif apps and ref.apps.targets and not any(a.urn in apps for a in ref.apps.targets):
            yield Violation(f"{ref.where} of {name} is computed from {ref.apps.targets[0].name}, "
                            "which is not the CMK app.", urn)
        elif not ref.apps.targets and apps:
            yield Undecided(f"whether {ref.where} of {name} is the CMK app's client id", urn)
        return
    same_as_identity = match_value(ref.value, identities, _IDENTITY_IDS)
    if same_as_identity.targets:
        yield Violation(f"{ref.where} of {name} is {ref.value!r}, the id of managed identity "
                        f"{same_as_identity.targets[0].name}; it must be the CMK app's client "
                        "id.", urn)
    elif text(ref.value) is None:
        yield Violation(f"{ref.where} of {name} is {ref.value!r}, not a client id.", urn)
    elif apps and not any(a.urn in apps for a in ref.apps.targets):
        if ref.apps.undecided:
            yield Undecided(f"whether {ref.where} of {name} is the CMK app's client id", urn)
        else:
            names = ", ".join(sorted(a.name for a in apps.values()))
            yield Violation(f"{ref.where} of {name} is {ref.value!r}, not the client id of the "
                            f"CMK app ({names}).", urn)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    apps = cmk_apps(stack, by_binding=False)
    for reference in client_id_references(stack):
        yield from _judge(stack, reference, apps)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
