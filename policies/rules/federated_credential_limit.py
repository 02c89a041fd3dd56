"""No application carries more federated credentials than Entra allows (20).

Each dedicated environment adds a credential to the shared provider app; past the limit
the next ``pulumi up`` fails half-way. Credentials are grouped by the application they
are related to (dependency or ``applicationId`` value); the limit is a parameter so a
team can keep headroom.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import get, text
from policies.relations import Stack, resolve_application
from policies.resource_kinds import Kind

META = RuleMeta(
    name="federated-credential-limit",
    description="No application has more federated identity credentials than the limit (20).",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Microsoft Entra", "federated-credential-limit",
                    "at most 20 federated identity credentials per application"),),
    remediation=("Spread environments over more provider apps, or remove unused credentials; "
                 "lower maxCredentialsPerApplication to keep headroom."),
    url="https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations",
    parameters={
        "maxCredentialsPerApplication": {
            "type": "integer", "minimum": 1, "maximum": 20, "default": 20,
            "description": "Most federated credentials accepted on one application.",
        },
    },
)


def check(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    limit = int(config["maxCredentialsPerApplication"])
    stack = Stack(args.resources)
    groups: dict[str, list[str]] = {}
    undecided: list[str] = []
    for credential in stack.of_kind(Kind.FEDERATED_CREDENTIAL):
        app = resolve_application(stack, credential)
        if app.targets:
            groups.setdefault(app.targets[0].urn, []).append(credential.urn)
        elif (literal := text(get(credential.props, "applicationId"))) is not None:
            groups.setdefault(literal.lower(), []).append(credential.urn)
        else:
            undecided.append(credential.urn)
    for owner, members in groups.items():
        if len(members) > limit:
            # The app when it is in this stack, else the first credential over the limit.
            yield Violation(f"{len(members)} federated credentials on one application "
                            f"(limit {limit}).", owner if owner.startswith("urn:")
                            else members[limit])
    largest = max((len(members) for members in groups.values()), default=0)
    if undecided and largest <= limit < largest + len(undecided):
        yield Undecided("which application some federated credentials belong to")


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
