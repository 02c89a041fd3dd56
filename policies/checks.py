"""Small finding generators shared by resource rules (one place for the unknown handling)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from policies.arm_defaults import Read, arm_read
from policies.framework import Finding, Undecided, Violation
from policies.props import elements, get, is_unknown, same, text
from policies.resource_kinds import Kind


def located(urn: str, findings: Iterable[Finding]) -> Iterator[Finding]:
    """The same findings, attributed to ``urn`` (stack rules reuse these resource checks)."""
    for finding in findings:
        yield replace(finding, urn=urn)


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(step) for step in path)


def require_true(bag: Any, *path: str, kind: Kind | None = None) -> Iterator[Finding]:
    """The boolean at ``path`` is ``true`` (a string ``"true"`` is not); an omitted property
    counts as its ARM default for ``kind``."""
    read = arm_read(kind, bag, *path) if kind else Read(get(bag, *path))
    if is_unknown(read.value):
        yield Undecided(f"{dotted(path)} is unknown ([secret] or known only after apply)")
    elif read.value is not True:
        yield Violation(f"{dotted(path)} is {_shown(read.value)}{read.note}; set it to true.")


def require_text(bag: Any, *path: str) -> Iterator[Finding]:
    """The string at ``path`` is set and not the literal ``None`` some APIs use to clear it."""
    value = get(bag, *path)
    if is_unknown(value):
        yield Undecided(f"{dotted(path)} is unknown")
    elif (found := text(value)) is None or same(found, "None"):
        yield Violation(f"{dotted(path)} is not set.")


def require_one_of(bag: Any, path: tuple[str, ...], allowed: tuple[str, ...]) -> Iterator[Finding]:
    """The string at ``path`` is one of ``allowed`` (compared case-insensitively)."""
    value = get(bag, *path)
    if is_unknown(value):
        yield Undecided(f"{dotted(path)} is unknown")
    elif not ((found := text(value)) and any(same(found, a) for a in allowed)):
        yield Violation(f"{dotted(path)} is {_shown(value)}; expected {' or '.join(allowed)}.")


def user_assigned_identity(bag: Any,
                           expected_id_path: tuple[str, ...] | None = None) -> Iterator[Finding]:
    """``identity`` includes UserAssigned and lists identities (the one at ``expected_id_path``).

    Cross-tenant CMK authenticates as a user-assigned identity federated with the provider
    app; a system-assigned identity cannot be federated.
    """
    kind = get(bag, "identity", "type")
    if is_unknown(kind):
        yield Undecided("identity.type is unknown")
    elif not ((found := text(kind)) and "userassigned" in found.replace(" ", "").lower()):
        yield Violation(f"identity.type is {_shown(kind)}; it must include UserAssigned.")
    listed = get(bag, "identity", "userAssignedIdentities")
    expected = get(bag, *expected_id_path) if expected_id_path else None
    if is_unknown(listed) or is_unknown(expected):
        yield Undecided("the user-assigned identity is unknown")
        return
    # Inputs list identity ids; outputs map each id to {principalId, clientId}.
    ids = list(listed.keys()) if isinstance(listed, Mapping) else elements(listed) or []
    if not ids:
        yield Violation("identity.userAssignedIdentities is empty.")
        return
    if expected_id_path is None:
        return
    wanted = text(expected)
    if wanted is None:
        yield Violation(f"{dotted(expected_id_path)} is not set.")
    elif any(is_unknown(i) for i in ids):
        yield Undecided("an entry of identity.userAssignedIdentities is unknown")
    elif not any(isinstance(i, str) and same(i, wanted) for i in ids):
        yield Violation(f"{dotted(expected_id_path)} {wanted} is not among "
                        "identity.userAssignedIdentities.")


def _shown(value: Any) -> str:
    """A value as the plan and the stack file spell it (JSON, which YAML reads too):
    ``false``, ``"Enabled"``, ``7``; never Python's ``False`` or ``'Enabled'``."""
    return "not set" if value is None else json.dumps(value, ensure_ascii=False, default=str)
