"""Runs the real Pulumi program on the SDK's mock runtime and records every resource.

One recorder serves the tests and ``cmkctl preview``: it reads a stack's config, runs
``__main__.py`` in a fresh runtime context, answers registrations with Azure-shaped fakes,
refuses invokes it does not know, and keeps what ``pulumi preview`` would show: type, name,
URN, inputs, outputs, parent, provider, dependencies and options such as ``protect``.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import json
import re
import runpy
import sys
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_in_stack

from cmkctl.plan.fake_azure import EXISTING_CONFIG, KNOWN_INVOKES, fake, read
from cmkctl.stacks.project import INSTALLED
from cmkctl.stacks.references import StackReferences
from cmkctl.stacks.stack_file import read_stack_config

PROJECT = "dedicated-cmk"
ROOT = INSTALLED
"""The project whose program and stack files are recorded unless a caller names another."""

Invoke = Callable[[Mapping[str, Any]], dict[str, Any]]


class UnknownInvokeError(Exception):
    """The program called a function the recorder has no answer for."""


class Secret:
    """A value the engine treats as secret; plans print it as ``[secret]``."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "[secret]"


@dataclass
class Recorded:
    """One registered resource, as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str
    provider: str
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    read: bool = False
    """Read, not managed (a stack reference): the plan shows it as a ``read`` step."""
    aliases: list[str] = field(default_factory=list)
    """Earlier URNs of this resource (``aliases`` option), as the engine resolves them."""


@dataclass
class Recording:
    """Everything one run registered, in registration order."""

    project: str
    stack: str
    config: dict[str, str]
    resources: list[Recorded] = field(default_factory=list)
    stack_urn: str = ""
    stack_outputs: dict[str, Any] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()
    """Config keys held encrypted: plans print their values as ``[secret]``."""
    referenced: tuple[str, ...] = ()
    """Stacks whose files the run read through stack references, at any depth."""

    def by_type(self, type_: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> Recorded:
        for resource in self.resources:
            if resource.type == type_ and resource.name == name:
                return resource
        raise KeyError(f"no {type_} named {name!r}; have {[r.name for r in self.by_type(type_)]}")

    def by_urn(self, urn: str) -> Recorded:
        return next(r for r in self.resources if r.urn == urn)


def _plain(value: Any) -> Any:
    """Deserialised engine values with secrets wrapped in ``Secret`` and values unknown
    until apply as the engine's sentinel string, as ``pulumi preview --json`` prints them."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return Secret(_plain(value.get("value")))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries numbers as doubles; ARM integers read back whole
    return value


class _Mocks(pulumi.runtime.Mocks):
    def __init__(
        self, recording: Recording, invokes: Mapping[str, Invoke], references: StackReferences
    ) -> None:
        self._recording = recording
        self._invokes = invokes
        self._references = references
        self._existing = existing_description(recording.config)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(str(args.inputs["name"]))
        provider_inputs: dict[str, Any] = {}
        if args.provider:
            urn = args.provider.rsplit("::", 1)[0]
            provider_inputs = next(
                (r.inputs for r in self._recording.resources if r.urn == urn), {}
            )
        if args.custom is None and args.resource_id:
            # Resource.get of an existing resource
            return read(args.typ, args.resource_id, provider_inputs, self._existing)
        if not args.custom:
            return "", {}  # components have no engine-side state
        inputs = _unwrap(args.inputs)
        return fake(args.typ, args.name, inputs, provider_inputs)

    def _stack_reference(self, name: str) -> tuple[str, dict[str, Any]]:
        """The referenced local stack's outputs (see ``cmkctl.stacks.references``)."""
        outputs = self._references.outputs(name, _record_reference)
        if outputs is not rpc.UNKNOWN:
            outputs = _unwrap(outputs)
        return name, {"name": name, "outputs": outputs, "secretOutputNames": []}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        try:
            answer = self._invokes[args.token]
        except KeyError:
            raise UnknownInvokeError(
                f"the program invoked {args.token} with {args.args!r}; the "
                "recorder has no answer for it"
            ) from None
        return answer(args.args), []  # the mock monitor iterates the failures


class ExistingDescriptionError(ValueError):
    """The stack file's offline description of existing resources is not usable."""


def existing_description(config: Mapping[str, str]) -> dict[str, Any]:
    """The ``cmkctl:existing`` object of the stack file (empty when absent)."""
    text = config.get(EXISTING_CONFIG)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(
            isinstance(value.get(k, {}), dict) for k in ("vault", "keys")) or (
            set(value) - {"vault", "keys"}):
        raise ExistingDescriptionError(
            f"{EXISTING_CONFIG}: expected an object with 'vault' (location, properties) and "
            "'keys' (one object per key name), in the shape Azure returns them")
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, Secret):
        return _unwrap(value.value)
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _unwrap(value.get("value"))  # a secret input, as the mock monitor hands it
        return {k: _unwrap(v) for k, v in value.items() if k != rpc._special_sig_key}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


_VERSIONED_TYPE = re.compile(r"(^|[$:])azure-(?:native|nextgen):([A-Za-z0-9]+)/[A-Za-z0-9]+:")


def _type_family(urn: str) -> str:
    """The URN with every azure-native API-version module spelled as the default module."""
    return _VERSIONED_TYPE.sub(r"\1azure-native:\2:", urn)


def _sorted_urns(urns: Any) -> list[str]:
    """The SDK collects dependencies in sets, so their order follows the hash seed; plans
    must be byte-identical across processes, hence sorted."""
    return sorted(set(urns))


class _Monitor(mocks.MockMonitor):
    """A mock monitor that also keeps the options the SDK's mocks do not pass on."""

    def __init__(self, recording: Recording, mocks_: _Mocks) -> None:
        super().__init__(mocks_)
        self._recording = recording

    def make_urn(self, parent: str, type_: str, name: str, stack: str = "",
                 project: str = "") -> str:
        """URNs as the engine builds them: the root stack is not part of a child's type chain."""
        if parent and parent != self._recording.stack_urn:
            type_ = f"{parent.split('::')[2]}${type_}"
        stack, project = stack or self._recording.stack, project or self._recording.project
        return f"urn:pulumi:{stack}::{project}::{type_}::{name}"

    def _alias_urns(self, request: Any) -> list[str]:
        """Alias specs resolved as the engine does: unset fields are the resource's own."""
        urns = []
        for alias in request.aliases:
            if alias.urn:
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else spec.parentUrn or request.parent
            urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name,
                                      spec.stack, spec.project))
        own = _type_family(self.make_urn(request.parent, request.type, request.name))
        # The azure-native SDK aliases every resource to each API-version spelling of its type;
        # those name the same resource, so plans keep only the program's own aliases.
        return sorted({u for u in urns if _type_family(u) != own})

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            self._recording.stack_urn = response.urn
            return response
        inputs = _plain(rpc.deserialize_properties(request.object, keep_unknowns=True))
        outputs = _plain(rpc.deserialize_properties(response.object, keep_unknowns=True))
        for key in request.additionalSecretOutputs:
            # The engine keeps these outputs secret whatever the provider answered.
            if key in outputs and not isinstance(outputs[key], Secret):
                outputs[key] = Secret(outputs[key])
        self._recording.resources.append(
            Recorded(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                id=response.id,
                inputs=inputs,
                outputs=outputs,
                parent=request.parent,
                provider=request.provider,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                aliases=self._alias_urns(request),
                dependencies=_sorted_urns(request.dependencies),
                property_dependencies={
                    key: _sorted_urns(request.propertyDependencies[key].urns)
                    for key in sorted(request.propertyDependencies)
                },
            )
        )
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        # The engine answers a read with the id it read (the SDK's mock leaves it empty, which
        # a preview takes for unknown): a key read inside a read vault needs the vault's id.
        response.id = request.id
        self._recording.resources.append(
            Recorded(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                id=request.id,
                inputs=_plain(rpc.deserialize_properties(request.properties, keep_unknowns=True)),
                outputs=_plain(rpc.deserialize_properties(response.properties, keep_unknowns=True)),
                parent=request.parent,
                provider=request.provider,
                protect=False,
                retain_on_delete=False,
                dependencies=_sorted_urns(request.dependencies),
                property_dependencies={},
                read=True,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn == self._recording.stack_urn:
            self._recording.stack_outputs = _plain(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def stack_config(stack: str, stack_dir: Path = ROOT, root: Path = ROOT) -> dict[str, str]:
    """Config of ``stack_dir/Pulumi.<stack>.yaml`` as the Pulumi CLI hands it to the program
    of ``root``."""
    return read_stack_config(root, stack, stack_dir)


def _record_reference(stack: str, config: dict[str, str],
                      references: StackReferences) -> dict[str, Any]:
    recording = record(stack, config, root=references.root, stack_dir=references.stack_dir,
                       references=references)
    return dict(recording.stack_outputs)


def record(
    stack: str,
    config: Mapping[str, str],
    *,
    root: Path = ROOT,
    stack_dir: Path | None = None,
    invokes: Mapping[str, Invoke] | None = None,
    secret_keys: Collection[str] = (),
    references: StackReferences | None = None,
) -> Recording:
    """Run ``root/__main__.py`` for ``stack`` with ``config`` (fully qualified keys); stack
    references read the stack files in ``stack_dir`` (default ``root``); ``secret_keys`` are
    the keys Pulumi would hold encrypted (``--secret``). ``references`` is given for a
    referenced stack's run, so the whole run shares one set of answers."""
    recording = Recording(project=PROJECT, stack=stack, config=dict(config),
                          secret_keys=frozenset(secret_keys))
    context = contextvars.Context()
    invokes_ = {**KNOWN_INVOKES, **(invokes or {})}
    refs = references or StackReferences.start(root, stack_dir or root, stack, dict(config))
    context.run(_run, recording, root, refs, invokes_, list(secret_keys))
    if refs.failure is not None:
        raise refs.failure
    recording.referenced = tuple(sorted(refs.resolved))
    recording.resources = _stable_order(recording.resources)
    return recording


def _stable_order(resources: list[Recorded]) -> list[Recorded]:
    """Registration order varies between runs; plans should not. Parents and dependencies
    come first, ties are broken by URN, so the same program always gives the same plan."""
    by_urn = {r.urn: r for r in resources}
    waiting = {
        r.urn: {
            u
            for u in (r.parent, r.provider.rsplit("::", 1)[0], *r.dependencies)
            if u in by_urn and u != r.urn
        }
        for r in resources
    }
    ready = [urn for urn, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    ordered: list[Recorded] = []
    while ready:
        urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for other, needs in waiting.items():
            if urn in needs:
                needs.discard(urn)
                if not needs:
                    heapq.heappush(ready, other)
    return ordered


class _InlineExecutor(ThreadPoolExecutor):
    """Runs each call at once, on the loop's own thread.

    The SDK sends every monitor call (register, read, invoke) through the loop's default
    executor because a real monitor is a gRPC server in another process. The mock monitor
    answers in memory, so handing each call to a pool thread and back only added thread
    switches and GIL hand-overs: a warm fleet worker's median CPU time per stack fell from
    0.137 to 0.120 s without them (``docs/benchmark.md``). The mock monitor's own waits
    (``_sync_await`` on the serialisation of plain values) then pump this loop re-entrantly,
    as a synchronous invoke in a program does on the real runtime; the example plans are
    byte-identical either way (``make plans``). A stack reference's run, the one call that
    runs a program of its own, already has its own thread and event loop
    (:mod:`cmkctl.stacks.references`)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the coroutine awaiting it, as a pool does
            future.set_exception(error)
        return future


def _run(
    recording: Recording, root: Path, references: StackReferences,
    invokes: dict[str, Invoke], secret_keys: list[str],
) -> None:
    # The loop must exist before set_mocks: the root stack it creates binds to the current loop.
    loop = asyncio.new_event_loop()
    # A failing program (a config error raised in an apply) leaves outputs and tasks behind that
    # asyncio would report on stderr when collected; the failure itself is raised from
    # run_until_complete and reported once by the caller.
    loop.set_exception_handler(lambda _loop, _context: None)
    loop.set_default_executor(_InlineExecutor(max_workers=1))
    asyncio.set_event_loop(loop)
    # The SDK's pending-output set and its lock default to objects shared by every context;
    # each run gets its own, so a run never awaits (or clears) another run's outputs.
    settings.SETTINGS.outputs = set()
    settings.SETTINGS.lock = threading.Lock()
    try:
        mocks_ = _Mocks(recording, invokes, references)
        pulumi.runtime.set_mocks(
            mocks_,
            project=recording.project,
            stack=recording.stack,
            preview=True,
            monitor=_Monitor(recording, mocks_),
        )
        # set_mocks made a finished root stack; run_in_stack makes the one that carries exports.
        settings.ROOT.set(None)
        pulumi.runtime.set_all_config(dict(recording.config), secret_keys)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        program = str(root / "__main__.py")

        def main() -> None:
            runpy.run_path(program, run_name="__main__")

        loop.run_until_complete(run_in_stack(main))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
