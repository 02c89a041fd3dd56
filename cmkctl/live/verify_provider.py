"""Provider-side checks of verify: each store as deployed against what the stack (or flags) set.

Per store: it encrypts with the customer's key (versionless or pinned as configured), through
the user-assigned identity and the multitenant app's client id the stack set; the service
reports no key access trouble where Resource Manager exposes it (SQL databases
``Inaccessible``, a disk encryption set's ``autoKeyRotationError``; storage exposes none); and
which version it is on now. The identity itself is read through the managed-identity API.
"""

from __future__ import annotations

from dataclasses import dataclass

from azure.core.exceptions import AzureError, ResourceNotFoundError

from cmkctl.live.azure import Azure, explain
from cmkctl.live.consumers import Binding, ConsumerRef, read, same_key
from cmkctl.live.report import Check, Report, Status
from components.config.key_uri import KeyUri


@dataclass(frozen=True)
class StoreExpectation:
    ref: ConsumerRef
    key: KeyUri
    """The key; its version is checked only for a store pinned to one."""
    follow_latest: bool | None
    """What the stack's keyVersionPolicy says; None when not known (flags only)."""
    identity_id: str | None
    app_client_id: str | None


def check_identity(azure: Azure, identity_id: str, report: Report) -> None:
    parts = identity_id.split("/")
    subscription, group, name = parts[2], parts[4], parts[-1]
    title = "the user-assigned identity the stores use exists"
    try:
        with azure.identities(subscription) as client:
            found = client.user_assigned_identities.get(group, name)
    except ResourceNotFoundError:
        report.add(Check("provider.identity", title, Status.FAIL,
                         f"{identity_id} does not exist: every store bound through it has lost "
                         "the customer's key", "run pulumi up on the provider stack (the "
                         "federated credential names the identity's principal id: a new "
                         "identity needs a new credential, which the stack creates)"))
        return
    except AzureError as error:
        failure = explain(error, "reading the user-assigned identity", name)
        report.add(Check("provider.identity", title, failure.status, failure.reason, failure.fix))
        return
    report.add(Check("provider.identity", title, Status.PASS,
                     f"{name}: principal id {found.principal_id}, client id {found.client_id}"))


def check_stores(azure: Azure, expectations: list[StoreExpectation], report: Report) -> None:
    for expected in expectations:
        prefix = f"store[{expected.ref.label}]"
        try:
            binding = read(azure, expected.ref)
        except AzureError as error:
            if isinstance(error, ResourceNotFoundError):
                status, reason, fix = (Status.FAIL, f"{expected.ref.id} does not exist",
                                       "check the name in the stack, or run pulumi up")
            else:
                failure = explain(error, f"reading {expected.ref.label}", expected.ref.name)
                status, reason, fix = failure.status, failure.reason, failure.fix
            for check_id in ("key", "identity", "federated-client-id"):
                report.add(Check(f"{prefix}.{check_id}", "store as deployed", status, reason, fix))
            continue
        for check in _store_checks(prefix, expected, binding):
            report.add(check)


def _store_checks(prefix: str, expected: StoreExpectation, binding: Binding) -> list[Check]:
    checks = [_key(prefix, expected, binding), _identity(prefix, expected, binding),
              _client_id(prefix, expected, binding)]
    if expected.ref.service in ("sql", "disk"):
        checks.append(Check(
            f"{prefix}.accessible", "the service reports the key reachable",
            Status.FAIL if binding.problem else Status.PASS,
            binding.problem or "no key access error reported",
            "check the grant and the vault firewall (cmkctl verify on the customer side); a "
            "disabled or deleted key shows here first"))
    since = f" since {binding.since.isoformat()}" if binding.since else ""
    checks.append(Check(f"{prefix}.version", "key version in use",
                        Status.PASS if binding.in_use else Status.COULD_NOT_CHECK,
                        f"on version {binding.in_use}{since}" if binding.in_use else
                        "the service does not report the version it uses yet", required=False))
    return checks


def _key(prefix: str, expected: StoreExpectation, binding: Binding) -> Check:
    title = "encrypts with the customer's key"
    fix = "run pulumi up on the provider stack (it binds the store to the shared key URI)"
    if not binding.customer_key or binding.key is None:
        return Check(f"{prefix}.key", title, Status.FAIL,
                     "encrypted with platform-managed keys, not the customer's key", fix)
    if not same_key(binding.key, expected.key):
        return Check(f"{prefix}.key", title, Status.FAIL,
                     f"uses {binding.key.versionless}, not {expected.key.versionless}", fix)
    how = "follows new versions" if binding.follows_latest else f"pinned to {binding.key.version}"
    if expected.follow_latest is not None and binding.follows_latest != expected.follow_latest:
        wanted = "latest" if expected.follow_latest else "pinned"
        return Check(f"{prefix}.key", title, Status.FAIL,
                     f"{how}, but keyVersionPolicy is {wanted}", fix)
    if (not binding.follows_latest and expected.key.version
            and binding.key.version != expected.key.version):
        return Check(f"{prefix}.key", title, Status.FAIL,
                     f"pinned to {binding.key.version}, not the configured {expected.key.version}",
                     fix)
    return Check(f"{prefix}.key", title, Status.PASS, f"{binding.key.versionless} ({how})")


def _identity(prefix: str, expected: StoreExpectation, binding: Binding) -> Check:
    title = "reaches the key as the expected user-assigned identity"
    used = binding.encryption_identity
    if expected.identity_id is None:
        return Check(f"{prefix}.identity", title, Status.COULD_NOT_CHECK,
                     f"uses {used or 'no user-assigned identity'}; the expected one is unknown",
                     "pass --identity-id <ARM id of the identity> (or --stack with the provider "
                     "side, whose identityName names it)")
    if used != expected.identity_id.lower() or used not in binding.identities:
        return Check(f"{prefix}.identity", title, Status.FAIL,
                     f"uses {used or 'no user-assigned identity'}, not {expected.identity_id}",
                     "run pulumi up on the provider stack")
    return Check(f"{prefix}.identity", title, Status.PASS, used)


def _client_id(prefix: str, expected: StoreExpectation, binding: Binding) -> Check:
    title = "federated client id is the multitenant app's"
    used = binding.federated_client_id
    if expected.app_client_id is None:
        return Check(f"{prefix}.federated-client-id", title, Status.COULD_NOT_CHECK,
                     f"names {used or 'no federated client id'}; the app's client id is unknown "
                     "offline", "pass --app-client-id (pulumi stack output providerAppClientId)")
    if used != expected.app_client_id.lower():
        return Check(f"{prefix}.federated-client-id", title, Status.FAIL,
                     f"names {used or 'none'}, not the app {expected.app_client_id} (the "
                     "managed identity's own client id does not work across tenants)",
                     "run pulumi up on the provider stack")
    return Check(f"{prefix}.federated-client-id", title, Status.PASS, used)
