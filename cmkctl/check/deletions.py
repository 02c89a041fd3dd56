"""``no-destructive-changes``: the rule only ``cmkctl check`` can evaluate.

CrossGuard shows a policy the resources a stack will hold, never the ones an update
deletes, so a full destroy or a plan that deletes the vault while bindings still use it
passes every pack rule. ``cmkctl check`` reads every step: a delete or replace of key
material or its guards, of the identity chain, or of a CMK-encrypted store is a violation
(what counts, and what happens in Azure, is :func:`cmkctl.review.destructive.removal`), and every
resource the plan leaves bound to a deleted or replaced vault or key is named.

A delete or replace of a resource whose old state has ``retainOnDelete`` only drops it from
the stack (Azure keeps it), so it is not destructive; ``read``, ``discard``, ``same`` and ``import``
steps change nothing in Azure.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from pulumi_policy import EnforcementLevel, Severity

from cmkctl.check.runner import stack_resources
from cmkctl.plan.reader import PlanResource, PlanStep, resources_after
from cmkctl.review.destructive import DELETE_OPS, REPLACE_OPS, removal
from policies.bindings import bindings
from policies.framework import Anchor, RuleMeta, Violation
from policies.relations import Stack, vault_of_key
from policies.resource_kinds import Kind, checked_kind

META: Final = RuleMeta(
    name="no-destructive-changes",
    description=("The plan deletes or replaces no key material, lock, grant, identity-chain "
                 "resource or CMK-encrypted store (evaluated by cmkctl check only)."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "data-loss-prevention",
                    "a deleted vault or key makes resources inaccessible within minutes"),),
    remediation=("Keep the resource; follow the safe procedure in the message (new key, grant, "
                 "rotate the bindings, then retire the old one), or mark a deliberate removal "
                 "with retainOnDelete first."),
    url="https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery",
)


def _removals(steps: Sequence[PlanStep]) -> dict[str, tuple[PlanStep, str]]:
    """Per URN, the destructive step and its message (a replace shows as several steps)."""
    found: dict[str, tuple[PlanStep, str]] = {}
    for step in steps:
        if step.op not in DELETE_OPS | REPLACE_OPS or step.urn in found:
            continue
        old = step.old_state
        finding = removal(step.type, step.op, retained=old is not None and old.retain_on_delete)
        if finding is not None and finding.destructive:
            found[step.urn] = (step, f"{finding.risk}: {finding.why}")
    return found


def _bound(removed: dict[str, tuple[PlanStep, str]],
           linked: Sequence[PlanResource]) -> Iterator[Violation]:
    """Bindings the plan keeps whose key (or the key's vault) it deletes or replaces."""
    stack = Stack(stack_resources(linked))
    gone = {urn for urn, (step, _) in removed.items()
            if checked_kind(step.type) in (Kind.VAULT, Kind.KEY)}
    for binding in bindings(stack):
        if binding.resource.urn in removed:
            continue
        for key in binding.keys.targets:
            vaults = {v.urn for v in vault_of_key(stack, key).targets}
            hit = sorted(({key.urn} | vaults) & gone)
            if hit:
                step = removed[hit[0]][0]
                yield Violation(f"{binding.resource.name} stays bound to {key.name}, whose "
                                f"{'key' if hit[0] == key.urn else 'vault'} this plan "
                                f"{'deletes' if step.op in DELETE_OPS else 'replaces'} "
                                f"({hit[0]}); it loses its key within about 10 minutes.",
                                binding.resource.urn)


def check(steps: Sequence[PlanStep]) -> list[Violation]:
    """Every destructive step, then every resource left bound to deleted key material."""
    removed = _removals(steps)
    violations = [Violation(message, urn) for urn, (_, message) in removed.items()]
    after = resources_after(list(steps))
    present = {r.urn for r in after}
    # Deleted vaults and keys stay visible (old state) so bindings still resolve to them.
    linked = after + [step.old_state for step, _ in removed.values()
                      if step.old_state is not None and step.urn not in present]
    violations += _bound(removed, linked)
    return violations
