"""What a change does to a stack: per-resource ops, property changes and destructive findings.

Two entry points, both taking parsed plans (``cmkctl fleet`` calls them per stack) and
returning a :class:`Review`, separate from rendering (``cmkctl.review.diff_render``):

- :func:`compare` — two plans of one stack (offline plans or ``pulumi preview --json``
  outputs), matched by URN. The op is predicted: only in HEAD is a create, only in BASE a
  delete (a URN change without an alias is both), equal inputs are ``same``, and a change of
  a property the provider marks as replace-forcing (``data/replace_on_change.json``, with
  its sources) is a ``replace``; anything else an ``update``.
- :func:`from_preview` — one real ``pulumi preview --json`` made against state: the CLI's
  own ops, ``detailedDiff``, ``diffReasons`` and ``replaceReasons`` are trusted; the
  replacement step pair (``create-replacement`` / ``delete-replaced``) counts once.

Every resource step goes through :func:`cmkctl.review.destructive.classify`.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cmkctl.plan.reader import Plan, PlanError, PlanResource, PlanStep, parse_plan
from cmkctl.review.destructive import RISK_ORDER, Finding, Risk, classify
from policies.props import is_unknown

ROOT_STACK: Final = "pulumi:pulumi:Stack"
SECRET: Final = "[secret]"
KNOWN_AFTER_APPLY: Final = "(known after apply)"
SUMMARY_OPS: Final = ("create", "update", "replace", "delete", "same", "read", "import")
_CLI_OPS: Final = {
    "create": "create", "update": "update", "delete": "delete", "same": "same",
    "replace": "replace", "create-replacement": "replace", "delete-replaced": "replace",
    "import-replacement": "replace", "read": "read", "read-replacement": "read-replacement",
    "import": "import",
}
"""CLI ops onto the ops a review speaks of; discard, refresh and pending-replace bookkeeping
steps change nothing in Azure and are left out."""
_RULES_FILE: Final = Path(__file__).with_name("data") / "replace_on_change.json"
_VERSIONED: Final = re.compile(r"^(azure-native):([A-Za-z0-9]+)/[A-Za-z0-9]+:([A-Za-z0-9]+)$")


@dataclass(frozen=True)
class Change:
    """One property-level change; values are for display (secrets masked, unknowns named)."""

    path: str
    old: Any
    new: Any
    replaces: bool


@dataclass(frozen=True)
class ResourceReview:
    urn: str
    type: str
    op: str
    changes: tuple[Change, ...] = ()
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    """Non-destructive remarks: a likely rename, replace rules not recorded for the type."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def risk(self) -> Risk | None:
        """The worst risk of its findings (weakening included), None for notices only."""
        risks = {f.risk for f in self.findings}
        return next((r for r in RISK_ORDER if r in risks), None)

    @property
    def is_destructive(self) -> bool:
        return any(f.destructive for f in self.findings)

    @property
    def why(self) -> str | None:
        parts = [f.why for f in self.findings] + list(self.notes)
        return " | ".join(parts) or None


@dataclass(frozen=True)
class Review:
    resources: tuple[ResourceReview, ...]
    omitted_same: int = 0
    """``same`` steps the CLI counted in changeSummary but did not list."""

    @property
    def destructive(self) -> tuple[ResourceReview, ...]:
        return tuple(r for r in self.resources if r.is_destructive)

    @property
    def weakening(self) -> tuple[ResourceReview, ...]:
        return tuple(r for r in self.resources if not r.is_destructive
                     and any(f.risk is Risk.WEAKENING for f in r.findings))

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter("read" if r.op == "read-replacement" else r.op for r in self.resources)
        found = {op: counts[op] for op in SUMMARY_OPS}
        found["same"] += self.omitted_same
        found["destructive"] = len(self.destructive)
        found["weakening"] = len(self.weakening)
        return found


# --- values and paths -------------------------------------------------------------------------

def shown(value: Any) -> Any:
    """A value as a reviewer sees it: unknowns named, secrets left as ``[secret]``."""
    if is_unknown(value):
        return KNOWN_AFTER_APPLY
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


_PLAIN_KEY: Final = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key)}]"


_PATH_PART: Final = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def parse_path(path: str) -> list[str | int]:
    """``a.b[0]["c.d"]`` as ``["a", "b", 0, "c.d"]`` (the CLI's detailedDiff keys)."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None or match.end() == position:
            return [path]  # not a path the CLI writes: treat it as one top-level key
        name, index, quoted = match.groups()
        parts.append(int(index) if index is not None else
                     json.loads(f'"{quoted}"') if quoted is not None else name)
        position = match.end()
    return parts


def _has(holder: Any, part: str | int) -> bool:
    if isinstance(part, int):
        return isinstance(holder, list) and part < len(holder)
    return isinstance(holder, dict) and part in holder


def lookup(bag: Any, path: str) -> Any:
    current = bag
    for part in parse_path(path):
        if not _has(current, part):
            return None
        current = current[part]
    return current


def leaf_changes(old: Any, new: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Paths where ``old`` and ``new`` differ, descending into objects and lists."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key.startswith("__"):
                continue  # provider bookkeeping such as __defaults
            yield from leaf_changes(old.get(key), new.get(key), _join(prefix, key))
    elif isinstance(old, list) and isinstance(new, list) and old != new:
        for index in range(max(len(old), len(new))):
            yield from leaf_changes(old[index] if index < len(old) else None,
                                    new[index] if index < len(new) else None,
                                    _join(prefix, index))
    elif old != new:
        yield prefix, old, new


# --- two plans ------------------------------------------------------------------------------

def _replace_rules() -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = json.loads(_RULES_FILE.read_text())["types"]
    return rules


REPLACE_RULES: Final = _replace_rules()


def replace_properties(type_token: str) -> dict[str, str] | None:
    """Replace-forcing inputs of a type with their source, or None when not recorded.
    Versioned azure-native modules share the default module's rules."""
    match = _VERSIONED.match(type_token)
    token = f"{match[1]}:{match[2]}:{match[3]}" if match else type_token
    return REPLACE_RULES.get(token)


def _forces(path: str, rules: Mapping[str, str]) -> bool:
    head = parse_path(path)[0]
    return isinstance(head, str) and head in rules


def predict(old: PlanResource, new: PlanResource) -> tuple[str, list[Change], list[str]]:
    """Op, changes and notes for one URN present in both plans."""
    rules = replace_properties(new.type)
    changes = [Change(path, shown(a), shown(b), rules is not None and _forces(path, rules))
               for path, a, b in leaf_changes(old.inputs, new.inputs)]
    notes: list[str] = []
    if not changes:
        op = "same"
    elif any(c.replaces for c in changes):
        op = "replace"
    else:
        op = "update"
        if rules is None and new.type.split(":", 1)[0] not in ("pulumi", "dedicated-cmk"):
            notes.append(f"replace rules for {new.type} are not recorded: predicted as an "
                         "update; a real `pulumi preview` decides")
    if old.protect != new.protect:
        changes.append(Change("(protect)", old.protect, new.protect, False))
    return op, changes, notes


def _rename_notes(deleted: list[PlanResource], created: list[PlanResource]) -> dict[str, str]:
    """A delete and a create of the same type with the same name or inputs: a URN change."""
    notes: dict[str, str] = {}
    for gone in deleted:
        twin = next((c for c in created if c.type == gone.type and c.urn not in notes
                     and (c.name == gone.name or c.inputs == gone.inputs)), None)
        if twin is None:
            continue
        text = ("the URN changes ({} -> {}); without an alias Pulumi deletes the old resource "
                "and creates a new one: add `aliases` (the old name, parent or type) to keep it")
        notes[gone.urn] = notes[twin.urn] = text.format(gone.urn, twin.urn)
    return notes


RELINQUISHED: Final = ("managed in BASE, only read in HEAD under the same id: the engine releases "
                       "it from the stack (a `read` step, \"relinquish\") and leaves it in Azure; "
                       "nothing is deleted")
READ_OVER_MANAGED: Final = ("managed in BASE, read in HEAD under another id ({} -> {}): the engine "
                            "reads the new one and deletes the managed one (a read-replacement); "
                            "point the read at the managed resource's id to release it instead")
READ_ID_UNKNOWN: Final = ("managed in BASE, only read in HEAD: released if the ids are equal, "
                          "deleted by a read-replacement if they differ, and one id is not known "
                          "in these plans")
"""The engine's rule (``GenerateReadSteps``, pulumi/pulumi ``pkg/resource/deploy/
step_generator.go``): a read at the URN of a managed resource with the same id relinquishes
it; with another id it is a read-replacement that marks the managed one for deletion."""
ADOPTED: Final = ("only read in BASE, managed in HEAD: Pulumi creates it although it exists; "
                  "import it instead (`pulumi import`) so nothing is overwritten")


def _same_stack(old: Mapping[str, PlanResource], new: Mapping[str, PlanResource]) -> None:
    """Two plans of different stacks would compare as everything deleted and created."""
    def stacks(states: Mapping[str, PlanResource]) -> set[str]:
        return {urn.split("::", 2)[0][len("urn:pulumi:"):] + "/" + urn.split("::", 2)[1]
                for urn in states}
    before, after = stacks(old), stacks(new)
    if before and after and before.isdisjoint(after):
        raise PlanError(f"BASE is stack {', '.join(sorted(before))} and HEAD is stack "
                        f"{', '.join(sorted(after))}: compare two plans of the same stack")


def _aliased(old: Mapping[str, PlanResource],
             new: Mapping[str, PlanResource]) -> dict[str, str]:
    """HEAD URN -> the BASE URN it carries as an alias (the engine moves the resource)."""
    return {urn: alias for urn, resource in new.items() if urn not in old
            for alias in resource.aliases if alias in old and alias not in new}


def _plans(base: Any, head: Any) -> tuple[Plan, Plan]:
    """Both plans, judgeable and whole: two plans are compared resource by resource."""
    plans = []
    for label, digest in (("BASE", base), ("HEAD", head)):
        try:
            plans.append(parse_plan(digest, keep_secrets=True).require_judgeable()
                         .require_complete("comparing two plans"))
        except PlanError as error:
            raise type(error)(f"{label}: {error}") from None
    return plans[0], plans[1]


def _removed(resource: PlanResource, op: str, notes: tuple[str, ...] = ()) -> ResourceReview:
    findings = classify(resource.type, "read-replacement" if op == "read-replacement" else op,
                        resource.inputs, None, retained=resource.retain_on_delete,
                        protect=(resource.protect, resource.protect))
    return ResourceReview(resource.urn, resource.type, op, findings=tuple(findings),
                          notes=notes)


def _released(before: PlanResource, now: PlanResource) -> ResourceReview:
    """A resource BASE manages and HEAD only reads: released, or deleted if the ids differ."""
    old_id, new_id = before.outputs.get("id"), now.outputs.get("id")
    if not (isinstance(old_id, str) and isinstance(new_id, str)) or any(
            is_unknown(i) for i in (old_id, new_id)):
        return ResourceReview(now.urn, now.type, "read", notes=(READ_ID_UNKNOWN,))
    if old_id == new_id:
        return ResourceReview(now.urn, now.type, "read", notes=(RELINQUISHED,))
    return _removed(before, "read-replacement", (READ_OVER_MANAGED.format(old_id, new_id),))


def compare(base: Any, head: Any) -> Review:
    """Review of HEAD against BASE, two parsed PreviewDigests of the same stack."""
    states: list[dict[str, PlanResource]] = []
    reads: list[set[str]] = []
    for plan in _plans(base, head):
        states.append({r.urn: r for r in plan.resources_after() if r.type != ROOT_STACK})
        reads.append({s.urn for s in plan.steps if s.op in ("read", "read-replacement")})
    old, new = states
    read_before, read_now = reads
    _same_stack(old, new)
    moved = _aliased(old, new)
    deleted = [r for urn, r in old.items() if urn not in new and urn not in moved.values()]
    created = [r for urn, r in new.items() if urn not in old and urn not in moved]
    renames = _rename_notes(deleted, created)
    reviews: list[ResourceReview] = []
    for urn, resource in new.items():
        rename = (renames[urn],) if urn in renames else ()
        if urn in read_now:
            if urn in old and urn not in read_before:
                reviews.append(_released(old[urn], resource))
                continue
            unchanged = urn in read_before and old[urn].inputs == resource.inputs
            reviews.append(ResourceReview(urn, resource.type, "same" if unchanged else "read"))
            continue
        if urn in read_before:
            reviews.append(ResourceReview(urn, resource.type, "create", notes=(ADOPTED,)))
            continue
        if urn not in old and urn not in moved:
            reviews.append(ResourceReview(urn, resource.type, "create", notes=rename))
            continue
        before = old[moved.get(urn, urn)]
        op, changes, notes = predict(before, resource)
        if urn in moved:
            notes.append(f"renamed from {moved[urn]}; its alias keeps the resource")
        findings = classify(resource.type, op, before.inputs, resource.inputs,
                            retained=before.retain_on_delete,
                            protect=(before.protect, resource.protect))
        reviews.append(ResourceReview(urn, resource.type, op, tuple(changes), tuple(findings),
                                      tuple(notes)))
    for resource in deleted:
        reviews.append(_removed(resource, "delete", (renames[resource.urn],)
                                if resource.urn in renames else ()))
    return Review(tuple(reviews))


# --- one real preview -----------------------------------------------------------------------

def _preview_changes(step_old: PlanResource | None, step_new: PlanResource | None,
                     steps: Iterable[PlanStep]) -> list[Change]:
    old_in = step_old.inputs if step_old else {}
    new_in = step_new.inputs if step_new else {}
    old_out = step_old.outputs if step_old else {}
    detailed: dict[str, Any] = {}
    reasons: set[str] = set()
    replacing: set[str] = set()
    for step in steps:
        detailed.update(step.detailed_diff or {})
        reasons.update(step.diff_reasons)
        replacing.update(step.replace_reasons)
    if detailed:
        changes = []
        for path in sorted(detailed):
            entry = detailed[path] if isinstance(detailed[path], dict) else {}
            kind = str(entry.get("kind", "update"))
            source = old_in if entry.get("inputDiff", True) else old_out
            head = parse_path(path)[0]
            changes.append(Change(path, shown(lookup(source, path)), shown(lookup(new_in, path)),
                                  kind.endswith("-replace") or head in replacing))
        return changes
    keys = sorted(reasons | replacing) or sorted(set(old_in) | set(new_in))
    return [Change(path, shown(a), shown(b), parse_path(path)[0] in replacing)
            for key in keys
            for path, a, b in leaf_changes(old_in.get(key), new_in.get(key), _join("", key))]


def _unmask_changed_secrets(old: dict[str, Any] | None, new: dict[str, Any] | None,
                            changes: Iterable[Change]) -> tuple[Any, Any]:
    """Inputs for the classifier where a change the CLI reports under ``[secret]`` on both
    sides still differs (``[secret, before]`` / ``[secret, after]``): a binding's key URI
    from a secret stack output must not hide a key change."""
    hidden = [c.path for c in changes if c.old == SECRET and c.new == SECRET]
    if not hidden or old is None or new is None:
        return old, new
    old, new = copy.deepcopy(old), copy.deepcopy(new)
    for path in hidden:
        _replace_at(old, path, "[secret, before]")
        _replace_at(new, path, "[secret, after]")
    return old, new


def _replace_at(bag: Any, path: str, value: str) -> None:
    *parents, last = parse_path(path)
    holder = lookup(bag, _path_of(parents)) if parents else bag
    if _has(holder, last):
        holder[last] = value


def _path_of(parts: Sequence[str | int]) -> str:
    path = ""
    for part in parts:
        path = _join(path, part)
    return path


def from_preview(digest: Any) -> Review:
    """Review of one real ``pulumi preview --json`` made against existing state. A failed
    preview is a :class:`~cmkctl.plan.reader.PreviewFailedError`; unchanged resources it
    does not list are counted (a review of the changes needs only the changed ones)."""
    plan = parse_plan(digest, keep_secrets=True).require_judgeable()
    grouped: dict[str, list[PlanStep]] = {}
    for step in plan.steps:
        if step.op in _CLI_OPS and step.type != ROOT_STACK:
            grouped.setdefault(step.urn, []).append(step)
    reviews = []
    for urn, group in grouped.items():
        ops = [_CLI_OPS[s.op] for s in group]
        op = next((o for o in ("read-replacement", "replace") if o in ops), ops[-1])
        old = next((s.old_state for s in group if s.old_state), None)
        new = next((s.new_state for s in reversed(group) if s.new_state), None)
        type_ = group[0].type
        changes = _preview_changes(old, new, group) if op in ("update", "replace") else []
        before, after = _unmask_changed_secrets(old.inputs if old else None,
                                                new.inputs if new else None, changes)
        protect = (old.protect if old else False, new.protect if new else False)
        findings = classify(type_, op, before, after,
                            retained=old is not None and old.retain_on_delete,
                            protect=(protect[0], protect[1] if new else protect[0]))
        if old is not None and new is not None and old.protect != new.protect:
            changes.append(Change("(protect)", old.protect, new.protect, False))
        reviews.append(ResourceReview(urn, type_, op, tuple(changes), tuple(findings)))
    return Review(tuple(reviews), omitted_same=_omitted_same(plan))


def _omitted_same(plan: Plan) -> int:
    """Resource ``same`` steps counted but not listed (the root stack is one of them when its
    own step is not listed either)."""
    root_listed = any(s.type == ROOT_STACK for s in plan.steps)
    return max(0, plan.unlisted_same - (0 if root_listed else 1))
