"""Reading and validating a ``pulumi preview --json`` plan (PreviewDigest).

A plan is a gate's input, so it is validated whole before any rule runs: an empty or
truncated plan, a step without the state its op requires, an unknown op or a URN that is
not one is a :class:`PlanError` naming the step, never a pass. Files saved by PowerShell
(UTF-16 with a byte-order mark) and UTF-8 with or without BOM are read; size and nesting
are bounded, so a hostile file gives one clear error rather than a RecursionError.

:func:`parse_plan` / :func:`load` read a plan once into one typed :class:`Plan` that
``check``, ``diff``, ``risks`` and ``graph`` consume: every step (op, URN, old and new state,
diff and replace reasons, detailed diff), the change summary, the error diagnostics, and
whether the plan is whole. Two rules live here and nowhere else:

- **A failed preview** (error diagnostics, or fewer steps than its change summary counts) can
  be judged by nothing: :meth:`Plan.require_judgeable` raises :class:`PreviewFailedError`.
- **A partial preview** (``pulumi preview --json`` without ``--show-sames`` counts unchanged
  resources it does not list): :attr:`Plan.partial` says so with the fix, and
  :meth:`Plan.require_complete` refuses for a command that needs every resource.

Redacted secrets (``"[secret]"``, and the SDK's secret envelope with its plaintext) become the
engine's unknown value, or ``"[secret]"`` for display: no rule may treat them as known and no
writer can print them. :func:`read_steps` and :func:`resources_after` stay for callers that
only need the steps.
"""

from __future__ import annotations

import codecs
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypeGuard

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

SECRET: Final = "[secret]"
SECRET_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
"""A secret in the SDK's wire form, ``{SECRET_SIG_KEY: SECRET_SIG, "value": ...}``
(``_special_sig_key`` / ``_special_secret_sig`` in pulumi/runtime/rpc.py): masked whole."""
SHOW_SAMES_FIX: Final = "write it with `pulumi preview --json --show-sames`"
MAX_PLAN_BYTES: Final = 256 * 1024 * 1024
"""Far above any real plan (hundreds of resources are a few MB)."""
MAX_DEPTH: Final = 64
"""Containers nested deeper than this are refused (Azure properties nest about ten deep)."""

NEW_STATE_OPS: Final = frozenset({
    "create", "create-replacement", "import", "import-replacement", "read", "read-replacement"})
OLD_STATE_OPS: Final = frozenset({
    "delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace",
    "refresh"})
BOTH_STATE_OPS: Final = frozenset({"same", "update", "replace"})
OPS: Final = NEW_STATE_OPS | OLD_STATE_OPS | BOTH_STATE_OPS
"""Every op the engine prints (``display.StepOp`` of the Pulumi CLI)."""
GONE_OPS: Final = frozenset({"delete", "discard"})
"""Steps after which the URN is no longer in the stack (a discard only stops reading it)."""


class PlanError(Exception):
    """The plan file cannot be read or is not a valid PreviewDigest."""


class PreviewFailedError(PlanError):
    """The preview did not finish: what it lists is not what the update would do."""


@dataclass(frozen=True)
class PlanResource:
    """One resource state (old or new) of a step."""

    urn: str
    type: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None
    protect: bool
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    provider: str | None
    """``<provider urn>::<provider id>`` as the engine records it."""
    retain_on_delete: bool = False
    aliases: tuple[str, ...] = ()
    """Earlier URNs of the resource (the ``aliases`` option), which the engine matches."""
    read: bool = False
    """Read by the program (``Resource.get``), not managed: its outputs are what Azure
    returned, and the stack never creates, updates or deletes it."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def provider_urn(self) -> str | None:
        return self.provider.rsplit("::", 1)[0] if self.provider else None


@dataclass(frozen=True)
class PlanStep:
    """One step of the plan, validated."""

    index: int
    op: str
    urn: str
    old_state: PlanResource | None
    new_state: PlanResource | None
    diff_reasons: tuple[str, ...]
    replace_reasons: tuple[str, ...]
    detailed_diff: dict[str, Any] | None

    @property
    def type(self) -> str:
        state = self.new_state or self.old_state
        return state.type if state else urn_type(self.urn)

    @property
    def where(self) -> str:
        return f"steps[{self.index}] ({self.op} {self.urn})"


def _brief(value: Any) -> str:
    """A value for a one-line message: its repr, cut short."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def urn_type(urn: str) -> str:
    """The resource type of a URN (the last of a ``$``-joined parent chain)."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def _valid_urn(value: Any) -> TypeGuard[str]:
    if not isinstance(value, str) or not value.startswith("urn:pulumi:"):
        return False
    parts = value[len("urn:pulumi:"):].split("::", 3)
    return len(parts) == 4 and all(parts[:3]) and ":" in parts[2]


def _clean(value: Any, where: str, depth: int = 0, *, keep_secrets: bool = False) -> Any:
    """The value with secrets unknown (or kept as ``"[secret]"`` for display); refuses
    nesting deeper than :data:`MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise PlanError(f"{where} nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        value = SECRET
    if value == SECRET and not keep_secrets:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, list):
        return [_clean(v, where, depth + 1, keep_secrets=keep_secrets) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v, where, depth + 1, keep_secrets=keep_secrets)
                for k, v in value.items()}
    return value


def _bag(state: Mapping[str, Any], key: str, where: str, keep: bool) -> dict[str, Any]:
    value = state.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PlanError(f"{where}.{key} is not an object")
    bag: dict[str, Any] = _clean(value, f"{where}.{key}", keep_secrets=keep)
    return bag


def _urns(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(_valid_urn(u) for u in value):
        raise PlanError(f"{where} is not a list of URNs")
    return tuple(value)


def _flag(state: Mapping[str, Any], key: str, where: str) -> bool:
    value = state.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise PlanError(f"{where}.{key} is {_brief(value)}, not a boolean")
    return value


def _optional_text(state: Mapping[str, Any], key: str, where: str) -> str | None:
    value = state.get(key)
    if value is not None and not isinstance(value, str):
        raise PlanError(f"{where}.{key} is not a string")
    return value or None


def _state(raw: Any, step_urn: str, where: str, keep: bool) -> PlanResource:
    if not isinstance(raw, dict):
        raise PlanError(f"{where} is not an object")
    urn, type_ = raw.get("urn", step_urn), raw.get("type")
    if urn != step_urn:
        raise PlanError(f"{where}.urn {_brief(urn)} differs from the step's URN")
    if not isinstance(type_, str) or not type_:
        raise PlanError(f"{where}.type is missing")
    raw_deps = raw.get("propertyDependencies")
    raw_deps = {} if raw_deps is None else raw_deps
    if not isinstance(raw_deps, dict):
        raise PlanError(f"{where}.propertyDependencies is not an object")
    inputs = _bag(raw, "inputs", where, keep)
    return PlanResource(
        urn=urn,
        type=type_,
        inputs=inputs,
        # A previewed create may carry no outputs; the engine then shows its inputs.
        outputs=_bag(raw, "outputs", where, keep) or inputs,
        parent=_optional_text(raw, "parent", where),
        protect=_flag(raw, "protect", where),
        dependencies=_urns(raw.get("dependencies"), f"{where}.dependencies"),
        property_dependencies={k: _urns(v, f"{where}.propertyDependencies.{k}")
                               for k, v in raw_deps.items()},
        provider=_optional_text(raw, "provider", where),
        retain_on_delete=_flag(raw, "retainOnDelete", where),
        aliases=_urns(raw.get("aliases"), f"{where}.aliases"),
    )


def _reasons(step: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = step.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlanError(f"{where}.{key} is not a list of property names")
    return tuple(value)


def _step(index: int, raw: Any, keep: bool) -> PlanStep:
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise PlanError(f"{where} is not an object")
    op, urn = raw.get("op"), raw.get("urn")
    if not isinstance(op, str) or op not in OPS:
        raise PlanError(f"{where} has op {_brief(op)}; expected one of {', '.join(sorted(OPS))}")
    if not _valid_urn(urn):
        raise PlanError(f"{where} ({op}) has URN {_brief(urn)}, which is not "
                        "urn:pulumi:<stack>::<project>::<type>::<name>")
    where = f"{where} ({op} {urn})"
    old, new = raw.get("oldState"), raw.get("newState")
    if op in NEW_STATE_OPS | BOTH_STATE_OPS and new is None:
        raise PlanError(f"{where} has no newState, which a {op} step requires")
    if op in OLD_STATE_OPS | BOTH_STATE_OPS and old is None:
        raise PlanError(f"{where} has no oldState, which a {op} step requires")
    detailed = raw.get("detailedDiff")
    if detailed is not None and not isinstance(detailed, dict):
        raise PlanError(f"{where}.detailedDiff is not an object")
    return PlanStep(
        index=index, op=op, urn=urn,
        old_state=None if old is None else _state(old, urn, f"{where}.oldState", keep),
        new_state=None if new is None else _state(new, urn, f"{where}.newState", keep),
        diff_reasons=_reasons(raw, "diffReasons", where),
        replace_reasons=_reasons(raw, "replaceReasons", where),
        detailed_diff=None if detailed is None else _clean(detailed, f"{where}.detailedDiff",
                                                           keep_secrets=keep),
    )


def read_steps(digest: Any, *, keep_secrets: bool = False) -> list[PlanStep]:
    """Every step of a PreviewDigest, validated, in plan order. ``keep_secrets`` leaves
    ``"[secret]"`` as it is (for display, as ``cmkctl diff`` does) instead of unknown."""
    if not isinstance(digest, dict) or "steps" not in digest:
        raise PlanError("not a `pulumi preview --json` plan: no steps list")
    raw_steps = digest["steps"]
    if not isinstance(raw_steps, list):
        raise PlanError("steps is not a list")
    if not raw_steps:
        raise PlanError("the plan has no steps; an empty or truncated plan is never a pass")
    return [_step(index, raw, keep_secrets) for index, raw in enumerate(raw_steps)]


READ_OPS: Final = frozenset({"read", "read-replacement"})
"""Steps that read an existing resource instead of managing it."""


def resources_after(steps: list[PlanStep]) -> list[PlanResource]:
    """The resources the stack holds after the update, each with its last new state."""
    resources: dict[str, PlanResource] = {}
    for step in steps:
        if step.op in GONE_OPS:
            resources.pop(step.urn, None)
        elif step.new_state is not None:
            resources.pop(step.urn, None)
            resources[step.urn] = (replace(step.new_state, read=True) if step.op in READ_OPS
                                   else step.new_state)
    return list(resources.values())


def unlisted_unchanged(digest: Any) -> int:
    """Unchanged resources the plan counts but does not list (``pulumi preview --json``
    without ``--show-sames``): stack rules cannot see them."""
    summary = _summary(digest)
    listed = sum(1 for step in digest.get("steps", []) if isinstance(step, dict)
                 and step.get("op") == "same") if isinstance(digest, dict) else 0
    return max(0, summary.get("same", 0) - listed)


def _summary(digest: Any) -> dict[str, int]:
    """``changeSummary`` as op -> count; entries that are not counts are refused."""
    summary = digest.get("changeSummary") if isinstance(digest, dict) else None
    if summary is None:
        return {}
    if not isinstance(summary, dict):
        raise PlanError("changeSummary is not an object")
    for op, count in summary.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise PlanError(f"changeSummary.{op} is {_brief(count)}, not a count")
    return dict(summary)


@dataclass(frozen=True)
class Diagnostic:
    """One engine diagnostic of the preview (``PreviewDiagnostic`` of the CLI)."""

    severity: str
    message: str
    urn: str = ""


def _diagnostics(digest: Mapping[str, Any]) -> tuple[Diagnostic, ...]:
    raw = digest.get("diagnostics")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PlanError("diagnostics is not a list")
    found = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise PlanError(f"diagnostics[{index}] is not an object")
        severity, message, urn = (entry.get(k) or "" for k in ("severity", "message", "urn"))
        if not all(isinstance(v, str) for v in (severity, message, urn)):
            raise PlanError(f"diagnostics[{index}] has a severity, message or urn that is not "
                            "a string")
        found.append(Diagnostic(severity, message, urn))
    return tuple(found)


@dataclass(frozen=True)
class Plan:
    """A plan read once: what every command consumes."""

    steps: tuple[PlanStep, ...]
    change_summary: Mapping[str, int]
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def missing_steps(self) -> int:
        """Changes the summary counts (other than ``same``) that no step lists."""
        listed = Counter(step.op for step in self.steps)
        return sum(max(0, count - listed[op]) for op, count in self.change_summary.items()
                   if op != "same")

    @property
    def unlisted_same(self) -> int:
        """Unchanged resources counted but not listed (a preview without --show-sames)."""
        listed = sum(step.op == "same" for step in self.steps)
        return max(0, self.change_summary.get("same", 0) - listed)

    @property
    def failure(self) -> str | None:
        """Why nothing in the plan can be judged, or None."""
        errors = self.errors
        if errors:
            first = " ".join(errors[0].message.split())
            first = first if len(first) <= 200 else first[:199] + "…"
            return (f"the preview failed: {len(errors)} error(s); nothing can be judged "
                    f"(first: {first}). Fix the program and preview again.")
        if self.missing_steps:
            return (f"the preview failed: its changeSummary counts {self.missing_steps} "
                    "change(s) that no step lists (a preview that stopped part way or a "
                    "truncated file); nothing can be judged. Preview again.")
        return None

    def require_judgeable(self) -> Plan:
        """The plan itself, or :class:`PreviewFailedError` when the preview failed."""
        failure = self.failure
        if failure is not None:
            raise PreviewFailedError(failure)
        return self

    @property
    def partial(self) -> str | None:
        """Why answers about the whole stack cannot be given from this plan, or None."""
        if not self.unlisted_same:
            return None
        return (f"the plan counts {self.unlisted_same} unchanged resource(s) it does not list "
                f"(a preview without --show-sames); {SHOW_SAMES_FIX}")

    def require_complete(self, what: str) -> Plan:
        """The plan itself, or a :class:`PlanError` saying ``what`` needs every resource."""
        if self.partial is not None:
            raise PlanError(f"{what} needs every resource of the stack, but {self.partial}")
        return self

    def resources_after(self) -> list[PlanResource]:
        return resources_after(list(self.steps))


def parse_plan(digest: Any, *, keep_secrets: bool = False) -> Plan:
    """A PreviewDigest read into a :class:`Plan` (not yet judged: see
    :meth:`Plan.require_judgeable`). A failed preview with no step at all is a failed
    preview, not an empty plan."""
    if not isinstance(digest, dict) or "steps" not in digest:
        raise PlanError("not a `pulumi preview --json` plan: no steps list")
    summary, diagnostics = _summary(digest), _diagnostics(digest)
    if not digest["steps"] and any(d.severity == "error" for d in diagnostics):
        return Plan((), summary, diagnostics)
    return Plan(tuple(read_steps(digest, keep_secrets=keep_secrets)), summary, diagnostics)


def read_plan(digest: Any) -> list[PlanResource]:
    """Resources of a PreviewDigest after the update, in step order."""
    return resources_after(read_steps(digest))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are unique: a repeated key could hide the value a rule reads."""
    found = dict(pairs)
    if len(found) != len(pairs):
        twice = [key for key, count in Counter(k for k, _ in pairs).items() if count > 1]
        raise PlanError(f"key {_brief(twice[0])} appears twice in one object")
    return found


def decode(data: bytes) -> Any:
    """JSON from UTF-8 or UTF-16 (PowerShell), with or without byte-order mark, or UTF-32."""
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(f"larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB")
    encoding = "utf-8"
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            encoding = name
            break
    else:
        # No BOM: JSON starts with ASCII, so a NUL in the first two bytes is UTF-16 (RFC 4627).
        if data[1:2] == b"\x00":
            encoding = "utf-16-le"
        elif data[:1] == b"\x00":
            encoding = "utf-16-be"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise PlanError(f"not {encoding} text ({error.reason} at byte {error.start}); save "
                        "the plan as UTF-8 or UTF-16 with a byte-order mark") from error
    try:
        # NaN and Infinity stay numbers: a rule that needs a finite number reports them.
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as error:
        raise PlanError(f"not valid JSON ({error})") from error
    except RecursionError as error:
        raise PlanError(f"nests deeper than {MAX_DEPTH} levels") from error


def load_digest(path: str) -> Any:
    """The decoded JSON of a plan file, not yet validated (see :func:`read_steps`)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as error:
        raise PlanError(error.strerror or str(error)) from error
    return decode(data)


def load(path: str, *, keep_secrets: bool = False) -> Plan:
    """A plan file read into a :class:`Plan`; any failure is a :class:`PlanError`."""
    return parse_plan(load_digest(path), keep_secrets=keep_secrets)


def load_steps(path: str) -> list[PlanStep]:
    """Every validated step of a plan file; any failure is a :class:`PlanError`."""
    return read_steps(load_digest(path))


def load_plan(path: str) -> list[PlanResource]:
    """The resources a plan file leaves in the stack."""
    return resources_after(load_steps(path))
