"""Client secrets where a certificate or consent would do.

A client secret is a shared password: it is shown once, copied into another system, can
leak from there and expires. Both documents offer better: the credential store signs in
with a certificate whose private key never leaves the server, and the organisation-level
key recommends consent to the provider's multitenant app (nothing to manage) or else a
certificate. Advisory, since the document allows a secret.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import get, is_unknown
from policies.resource_kinds import Kind, checked_kind

META = RuleMeta(
    name="app-client-secret",
    description="Apps use a certificate, federation or consent rather than a client secret.",
    level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    anchors=(Anchor("Vendor CMK prerequisites", "consent-over-secrets",
                    "the provider-managed multitenant app needs no secrets or certificates; "
                    "a custom app registration may use a client secret or a certificate"),),
    remediation=("Use organizationKeyAccess consent (the provider's multitenant app) or "
                 "certificate (python -m cmkctl cert); remove the ApplicationPassword."),
    url=("https://learn.microsoft.com/entra/identity-platform/"
         "how-to-add-credentials?tabs=certificate"),
)

KINDS = frozenset({Kind.APPLICATION_PASSWORD, Kind.SERVICE_PRINCIPAL_PASSWORD,
                   Kind.APPLICATION})


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    if checked_kind(args.resource_type) is not Kind.APPLICATION:
        yield Violation("this credential is a client secret; a certificate or consent to the "
                        "provider's multitenant app would do.")
        return
    password = get(args.props, "password")
    if is_unknown(password):
        yield Undecided("password is unknown")
    elif password:
        yield Violation("the application has a password block (a client secret); a "
                        "certificate or consent would do.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, KINDS, check)
