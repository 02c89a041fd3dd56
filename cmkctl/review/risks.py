"""The data-loss view: what a stack's plan does about each scenario of the source document.

The scenarios are those of the customer-managed-key document's data-loss table and its
recovery table (lock removed, current key deleted, previous version deleted, key compromised,
access revoked, Key Vault outage, key expired, key purged with or without a backup,
credentials expired or deleted). Each verdict -- ``prevents``, ``recoverable within N days``,
``mitigated`` or ``not covered`` -- is derived from the resources the plan leaves in the
stack and from the policy pack's results on it, never written per stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import EnforcementLevel

from cmkctl.check.runner import Result
from cmkctl.plan.reader import PlanResource
from cmkctl.review import safe_text
from policies.props import get, is_unknown
from policies.resource_kinds import Kind, kind_of

PREVENTS: Final = "prevents"
MITIGATED: Final = "mitigated"
NOT_COVERED: Final = "not covered"
UNDECIDED: Final = "undecided"
"""The plan does not list every resource: the unseen ones decide the verdict."""


def recoverable(days: int) -> str:
    return f"recoverable within {days} days"


@dataclass(frozen=True)
class Facts:
    """What the plan holds that matters to key loss, read with ARM defaults."""

    vaults: tuple[PlanResource, ...]
    keys: tuple[PlanResource, ...]
    locks: tuple[PlanResource, ...]
    grants: int
    federated_credentials: int
    secrets: tuple[PlanResource, ...]
    """Password credentials on an app or service principal: they expire."""
    bindings: tuple[PlanResource, ...]

    @property
    def purge_protected(self) -> bool:
        return bool(self.vaults) and all(
            get(v.inputs, "properties", "enablePurgeProtection") is True for v in self.vaults)

    @property
    def retention_days(self) -> int:
        days = [get(v.inputs, "properties", "softDeleteRetentionInDays") for v in self.vaults]
        known = [d if isinstance(d, int) else 90 for d in days]  # ARM default 90
        return min(known, default=90)

    def locked(self, resource: PlanResource) -> bool:
        """A CanNotDelete lock whose scope comes from this resource (by dependency, since ids
        are unknown in a first preview) or names its id."""
        resource_id = str(resource.outputs.get("id", "")).lower()
        return any(
            str(get(lock.inputs, "level")) == "CanNotDelete"
            and (resource.urn in lock.property_dependencies.get("scope", ())
                 or (resource_id and str(get(lock.inputs, "scope")).lower() == resource_id))
            for lock in self.locks)

    @property
    def all_locked(self) -> bool:
        material = self.vaults + self.keys
        return bool(material) and all(self.locked(r) for r in material)

    @property
    def firewall_closed(self) -> bool:
        def closed(vault: PlanResource) -> bool:
            public = get(vault.inputs, "properties", "publicNetworkAccess")
            action = get(vault.inputs, "properties", "networkAcls", "defaultAction")
            return str(public).lower() == "disabled" or str(action) == "Deny"
        return bool(self.vaults) and all(closed(v) for v in self.vaults)

    @property
    def rotating(self) -> bool:
        def rotates(key: PlanResource) -> bool:
            actions = get(key.inputs, "properties", "rotationPolicy", "lifetimeActions")
            return isinstance(actions, list) and any(
                str(get(a, "action", "type")).lower() == "rotate" for a in actions)
        return bool(self.keys) and all(rotates(k) for k in self.keys)


def facts(resources: Iterable[PlanResource]) -> Facts:
    by_kind: dict[Kind, list[PlanResource]] = {}
    for resource in resources:
        kind = kind_of(resource.type)
        if kind is not None:
            by_kind.setdefault(kind, []).append(resource)

    def of(*kinds: Kind) -> tuple[PlanResource, ...]:
        return tuple(r for k in kinds for r in by_kind.get(k, []))

    inline = sum(len(p) for v in of(Kind.VAULT)
                 if isinstance(p := get(v.inputs, "properties", "accessPolicies"), list))
    return Facts(
        vaults=of(Kind.VAULT), keys=of(Kind.KEY), locks=of(Kind.LOCK),
        grants=len(of(Kind.ROLE_ASSIGNMENT, Kind.ACCESS_POLICY)) + inline,
        federated_credentials=len(of(Kind.FEDERATED_CREDENTIAL)),
        secrets=of(Kind.APPLICATION_PASSWORD, Kind.SERVICE_PRINCIPAL_PASSWORD,
                   Kind.APPLICATION_CERTIFICATE, Kind.SERVICE_PRINCIPAL_CERTIFICATE),
        bindings=of(Kind.STORAGE_ACCOUNT, Kind.SQL_ENCRYPTION_PROTECTOR, Kind.DISK_ENCRYPTION_SET),
    )


Verdict = tuple[str, str]
"""(verdict, why)."""

_NO_VAULT: Final = ("this stack has no vault or key: they live in the customer's stack, whose "
                    "own view answers this")


def _deleted(f: Facts) -> Verdict:
    if not f.vaults:
        return NOT_COVERED, _NO_VAULT
    if f.purge_protected:
        return (recoverable(f.retention_days),
                f"soft delete and purge protection on every vault keep a deleted vault or key "
                f"recoverable for {f.retention_days} days (`az keyvault recover`, "
                "`az keyvault key recover`)")
    return NOT_COVERED, "a vault lacks purge protection: a deleted key can be purged at once"


def _lock_removed(f: Facts) -> Verdict:
    verdict, why = _deleted(f)
    if f.vaults and not f.all_locked:
        why += "; not every vault and key has a CanNotDelete lock in this plan"
    elif f.vaults:
        why += "; every vault and key has a CanNotDelete lock, restored by the next `pulumi up`"
    return verdict, why


def _compromised(f: Facts) -> Verdict:
    if not f.vaults:
        return NOT_COVERED, _NO_VAULT
    if f.firewall_closed:
        rotation = " and keys rotate by policy" if f.rotating else ""
        return MITIGATED, (f"every vault's firewall denies by default (or public access is "
                           f"disabled){rotation}; a compromised key still needs a new key and a "
                           "rotation of the bindings")
    return NOT_COVERED, "a vault accepts traffic from every network"


def _revoked(f: Facts) -> Verdict:
    if not f.vaults and not f.grants:
        return NOT_COVERED, _NO_VAULT
    parts = []
    if f.grants:
        parts.append(f"{f.grants} grant(s) are managed here, so `pulumi up` restores a revoked one")
    if f.vaults and all(_bypass(v) for v in f.vaults):
        parts.append("the trusted-services bypass is set on every vault")
    if f.vaults and f.all_locked:
        parts.append("vault and keys are locked")
    verdict = MITIGATED if f.grants else NOT_COVERED
    return verdict, "; ".join(parts) or "no grant is managed by this stack"


def _bypass(vault: PlanResource) -> bool:
    bypass = get(vault.inputs, "properties", "networkAcls", "bypass")
    return bypass is None or is_unknown(bypass) or "AzureServices" in str(bypass)


def _outage(f: Facts) -> Verdict:
    if not f.vaults:
        return NOT_COVERED, _NO_VAULT
    regions = sorted({str(v.inputs.get("location")) for v in f.vaults})
    return NOT_COVERED, (f"outside the plan's reach: Key Vault's own regional redundancy in "
                         f"{', '.join(regions)} decides; choose regions with a failover pair")


def _expired(f: Facts) -> Verdict:
    if not f.keys:
        return NOT_COVERED, _NO_VAULT
    if f.rotating:
        return PREVENTS, ("every key has a rotation policy that creates a new version before "
                          "expiry; bindings that follow the latest version pick it up within a day")
    expiring = [k.name for k in f.keys if get(k.inputs, "properties", "attributes", "expires")]
    if expiring:
        return NOT_COVERED, f"key(s) {', '.join(expiring)} expire with no rotation policy"
    return PREVENTS, "no key has an expiry date"


def _purged(with_backup: bool) -> Callable[[Facts], Verdict]:
    def assess(f: Facts) -> Verdict:
        if not f.vaults:
            return NOT_COVERED, _NO_VAULT
        if f.purge_protected:
            return PREVENTS, (f"purge protection refuses a purge for the {f.retention_days}-day "
                              "retention; after it the key is gone for good")
        if with_backup:
            return MITIGATED, ("without purge protection only a key backup "
                               "(`az keyvault key backup`) brings it back, with the same id")
        return NOT_COVERED, "without purge protection or a backup the data is lost"
    return assess


def _credentials(f: Facts) -> Verdict:
    if f.secrets:
        names = ", ".join(r.name for r in f.secrets)
        return NOT_COVERED, f"password or certificate credentials expire: {names}"
    if f.federated_credentials:
        return PREVENTS, ("the app authenticates with a federated credential (no secret to "
                          "expire); deleting it is an access-loss change that `cmkctl diff` flags")
    return NOT_COVERED, "no provider app credential is managed by this stack"


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    impact: str
    policies: tuple[str, ...]
    """Pack rules whose results bear on the scenario."""
    assess: Callable[[Facts], Verdict]


SCENARIOS: Final = (
    Scenario("lock-removed", "Resource lock removed",
             "vault or key can then be deleted; bound stores go dark in about 10 minutes",
             ("key-material-locks", "key-material-protected", "vault-purge-protection"),
             _lock_removed),
    Scenario("current-key-deleted", "Vault or current key deleted",
             "bound stores become inaccessible in about 10 minutes",
             ("vault-soft-delete", "vault-purge-protection", "vault-soft-delete-retention"),
             _deleted),
    Scenario("previous-version-deleted", "Previous key version deleted",
             "backups made under that version cannot be restored",
             ("vault-soft-delete", "vault-purge-protection"), _deleted),
    Scenario("key-compromised", "Key compromised", "data encrypted with it is at risk",
             ("vault-network-firewall", "key-rotation-policy"), _compromised),
    Scenario("access-revoked", "Access revoked (RBAC or firewall change)",
             "bound stores become inaccessible in about 10 minutes",
             ("consumed-key-granted", "provider-grant-least-privilege", "vault-network-firewall",
              "key-material-locks"), _revoked),
    Scenario("vault-outage", "Key Vault outage",
             "bound stores become inaccessible in about 10 minutes", (), _outage),
    Scenario("key-expired", "Key expired",
             "the CMK keeps working but should be replaced", ("key-expiry", "key-rotation-policy"),
             _expired),
    Scenario("purged-with-backup", "Key purged, with a backup",
             "restore the backup; the restored key keeps its id", ("vault-purge-protection",),
             _purged(with_backup=True)),
    Scenario("purged-without-backup", "Key purged, no backup",
             "the encrypted data is lost for good", ("vault-purge-protection",),
             _purged(with_backup=False)),
    Scenario("credentials-expired", "Credentials expired or deleted",
             "the service can no longer reach the key",
             ("provider-app-no-secrets", "federated-credential-claims",
              "federated-credential-subject"), _credentials),
)


@dataclass(frozen=True)
class Assessment:
    scenario: Scenario
    verdict: str
    why: str
    results: tuple[Result, ...]
    """Pack results (violations, undecided verdicts) of the scenario's rules."""


def assess(resources: Sequence[PlanResource], results: Iterable[Result],
           partial: str | None = None) -> list[Assessment]:
    """Every scenario's verdict for a plan's resources and the pack's results on them. A
    mandatory violation of a scenario's rule downgrades ``prevents`` to ``mitigated``.
    ``partial`` (why the plan does not list every resource) makes every verdict undecided:
    each one is about the whole stack, and the unseen resources may change it."""
    found = facts(resources)
    results = list(results)
    assessments = []
    for scenario in SCENARIOS:
        if partial is not None:
            assessments.append(Assessment(scenario, UNDECIDED, partial, ()))
            continue
        verdict, why = scenario.assess(found)
        related = tuple(r for r in results if r.policy in scenario.policies)
        mandatory = [r for r in related if r.level == EnforcementLevel.MANDATORY
                     and not r.undecided]
        if mandatory and verdict == PREVENTS:
            verdict = MITIGATED
        if mandatory:
            why += "; policy " + ", ".join(sorted({r.policy for r in mandatory})) + " fails"
        assessments.append(Assessment(scenario, verdict, why, related))
    return assessments


def as_json_document(stack: str, assessments: Sequence[Assessment]) -> dict[str, Any]:
    return {"stack": stack, "scenarios": [{
        "id": a.scenario.id, "scenario": a.scenario.title, "impact": a.scenario.impact,
        "verdict": a.verdict, "why": a.why,
        "policies": [{"policy": r.policy, "level": r.level.value, "undecided": r.undecided,
                      "urn": r.urn, "message": r.message} for r in a.results],
    } for a in assessments]}


def as_markdown_table(assessments: Sequence[Assessment]) -> str:
    """The view as a Markdown table; the reasons (which name keys, regions and policies from
    the plan) are escaped as prose."""
    rows = ["| scenario | impact | this plan | why |", "|---|---|---|---|"]
    rows += [f"| {a.scenario.title} | {a.scenario.impact} | **{a.verdict}** | "
             f"{safe_text.text(safe_text.shorten(a.why, 2_000))} |" for a in assessments]
    return "\n".join(rows)


def as_text(stack: str, assessments: Sequence[Assessment]) -> str:
    width = max(len(a.scenario.title) for a in assessments)
    lines = [f"Data-loss view of stack {safe_text.one_line(stack)}:"]
    for a in assessments:
        lines.append(f"  {a.scenario.title:<{width}}  {a.verdict}")
        lines.append(f"  {'':<{width}}  {safe_text.one_line(a.why)}")
    return "\n".join(lines)
