"""How a rule is declared, configured and reported, shared by every module in ``rules/``.

A rule is metadata plus a check that yields findings. Definite violations are reported at
the rule's enforcement level; findings that need values unknown until apply are collected
and raised last as :class:`UndecidedError`, which the engine (and ``cmkctl check``) turns
into an advisory "cannot be decided until apply" diagnostic instead of a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from policies.resource_kinds import Kind, checked_kind

GUID_ITEM: Final[Mapping[str, Any]] = {
    "type": "string",
    "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}
"""JSON schema of one GUID (role definition or principal id) in a rule parameter."""

AZURE_POLICY_URL = ("https://portal.azure.com/#view/Microsoft_Azure_Policy/PolicyDetailBlade/"
                    "definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F{}")
"""Portal page of a built-in Azure Policy definition, by GUID."""


@dataclass(frozen=True)
class Anchor:
    """Where a requirement comes from: an Azure Policy built-in, a Checkov check or the seed."""

    framework: str
    """``Azure Policy``, ``Checkov``, ``Vendor CMK prerequisites`` or ``Microsoft Entra``."""
    reference: str
    """Definition GUID, check id or short requirement label."""
    title: str
    """What the anchor itself says, paraphrased; notes how this rule differs where it does."""

    @property
    def tag(self) -> str:
        return f"{self.framework.lower().replace(' ', '-')}:{self.reference}"


@dataclass(frozen=True)
class RuleMeta:
    """Everything the engine shows about a rule besides its verdicts."""

    name: str
    description: str
    level: EnforcementLevel
    severity: Severity
    anchors: tuple[Anchor, ...]
    remediation: str
    url: str
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of the rule's configuration, each with a ``default``."""

    def schema(self) -> PolicyConfigSchema | None:
        return PolicyConfigSchema(properties={k: dict(v) for k, v in self.parameters.items()}) \
            if self.parameters else None

    @property
    def enforcement_level(self) -> EnforcementLevel:
        """The default level, named as on a ``Policy`` (config validation reads either)."""
        return self.level

    @property
    def config_schema(self) -> PolicyConfigSchema | None:
        return self.schema()

    def settings(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Given configuration over the schema defaults (the CLI fills them in the same way)."""
        merged = {key: spec["default"] for key, spec in self.parameters.items()}
        merged.update({key: value for key, value in given.items() if key in self.parameters})
        return merged


@dataclass(frozen=True)
class Violation:
    """A definite breach, reported at the rule's enforcement level."""

    message: str
    urn: str | None = None


@dataclass(frozen=True)
class Undecided:
    """A verdict that needs values the engine only knows after apply."""

    reason: str
    urn: str | None = None


Finding = Violation | Undecided


class UndecidedError(UnknownValueError):
    """Raised after all definite violations; the engine reports it as advisory."""

    def __init__(self, findings: Iterable[Undecided]) -> None:
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.findings = tuple(findings)
        details = "; ".join(f"{f.reason} ({f.urn})" if f.urn else f.reason
                            for f in self.findings)
        self.message = f"cannot be decided until apply: {details}"


ResourceCheck = Callable[[ResourceValidationArgs, Mapping[str, Any]], Iterable[Finding]]
StackCheck = Callable[[StackValidationArgs, Mapping[str, Any]], Iterable[Finding]]


def _report(findings: Iterable[Finding], report_violation: ReportViolation) -> None:
    undecided: list[Undecided] = []
    for finding in findings:
        if isinstance(finding, Violation):
            report_violation(finding.message, finding.urn)
        else:
            undecided.append(finding)
    if undecided:
        raise UndecidedError(undecided)


def _common(meta: RuleMeta) -> dict[str, Any]:
    primary = meta.anchors[0]
    return {
        "name": meta.name,
        "description": meta.description,
        "enforcement_level": meta.level,
        "config_schema": meta.schema(),
        "severity": meta.severity,
        "framework": PolicyComplianceFramework(name=primary.framework,
                                               reference=primary.reference,
                                               specification=primary.title),
        "tags": ["cross-tenant-cmk", *(anchor.tag for anchor in meta.anchors)],
        "remediation_steps": meta.remediation,
        "url": meta.url,
    }


def token_rule(meta: RuleMeta, applies: Callable[[str], bool],
               check: ResourceCheck) -> ResourceValidationPolicy:
    """A rule on one resource's inputs, run for the type tokens ``applies`` accepts."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if applies(args.resource_type):
            _report(check(args, meta.settings(args.get_config())), report_violation)

    return ResourceValidationPolicy(validate=validate, **_common(meta))


def resource_rule(meta: RuleMeta, kinds: frozenset[Kind],
                  check: ResourceCheck) -> ResourceValidationPolicy:
    """A rule on one resource's inputs, run for every checked spelling of ``kinds``."""
    return token_rule(meta, lambda token: checked_kind(token) in kinds, check)


def stack_rule(meta: RuleMeta, check: StackCheck) -> StackValidationPolicy:
    """A rule on the whole stack: resource outputs related by dependencies and values."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        _report(check(args, meta.settings(args.get_config())), report_violation)

    return StackValidationPolicy(validate=validate, **_common(meta))
