"""Builds small ``pulumi preview --json`` plans for policy tests.

A fixture is a list of :class:`Spec`: type, name, inputs and options. Inputs may hold
:class:`Ref` to another spec's output; :func:`build_plan` resolves them to values (an
applied stack) or to the unknown sentinel (``first_preview``), and records the engine's
``propertyDependencies`` unless a reference is a literal copied from config. Outputs are
Azure-shaped (keys flattened, lock scope absent), as the real providers return them.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cmkctl.check.pack_config import parse_pack_config
from cmkctl.check.run import run
from cmkctl.check.runner import Result, evaluate
from cmkctl.plan.reader import read_plan
from policies import resource_types as rt
from policies.clouds import Cloud
from policies.pack import PACK_ENFORCEMENT_LEVEL, build_policies
from policies.resource_kinds import Kind, checked_kind

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROVIDER_TENANT = "11111111-1111-4111-8111-111111111111"
CUSTOMER_TENANT = "22222222-2222-4222-8222-222222222222"
PROVIDER_SUB = "33333333-3333-4333-8333-333333333333"
CUSTOMER_SUB = "44444444-4444-4444-8444-444444444444"
CRYPTO_USER_ROLE = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
OWNER_ROLE = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
STACK_URN = "urn:pulumi:dev::dedicated-cmk::pulumi:pulumi:Stack::dedicated-cmk-dev"


@dataclass(frozen=True)
class Ref:
    """An input computed from another spec's output (``path`` dotted for nested outputs)."""

    target: str
    path: str
    literal: bool = False
    """True for a value copied from config: same value, but no engine dependency."""
    value: Any = None
    """When set, the value the program computed instead (the dependency stays): a value
    that contradicts its dependency, such as ``rg.id`` built next to ``vault.id``."""


@dataclass(frozen=True)
class Spec:
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str | None = None
    provider: str | None = None
    protect: bool = True
    computed: Mapping[str, Any] = field(default_factory=dict)
    """Outputs Azure computes (ids, principal ids, URIs): unknown during a first preview."""


def urn(specs: Mapping[str, Spec], name: str) -> str:
    spec = specs[name]
    chain, parent = [spec.type], spec.parent
    while parent is not None:
        chain.insert(0, specs[parent].type)
        parent = specs[parent].parent
    return f"urn:pulumi:dev::dedicated-cmk::{'$'.join(chain)}::{name}"


def _arm(sub: str, group: str, kind: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/{kind}/{name}"


def _guid(purpose: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, purpose))


def _lock_target(inputs: Mapping[str, Any]) -> str:
    """A scope, or the target a resource-level lock names by its path parameters."""
    if "scope" in inputs:
        return str(inputs["scope"])
    parent = f"{inputs['parentResourcePath']}/" if inputs["parentResourcePath"] else ""
    return _arm(CUSTOMER_SUB, inputs["resourceGroupName"], inputs["resourceProviderNamespace"],
                f"{parent}{inputs['resourceType']}/{inputs['resourceName']}")


def _computed(type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What Azure / Entra would return for a resource, from its resolved inputs."""
    group = inputs.get("resourceGroupName", "rg")
    if checked_kind(type_) is Kind.VAULT:
        vault = inputs["vaultName"]
        return {"id": _arm(CUSTOMER_SUB, group, "Microsoft.KeyVault/vaults", vault),
                "name": vault, "properties": {"vaultUri": f"https://{vault}.vault.azure.net/"}}
    if checked_kind(type_) is Kind.KEY:
        vault, key = inputs["vaultName"], inputs["keyName"]
        rid = _arm(CUSTOMER_SUB, group, "Microsoft.KeyVault/vaults", f"{vault}/keys/{key}")
        uri = f"https://{vault}.vault.azure.net/keys/{key}"
        version = hashlib.sha256(rid.encode()).hexdigest()[:32]
        return {"id": rid, "name": key, "keyUri": uri, "keyUriWithVersion": f"{uri}/{version}"}
    if checked_kind(type_) in (Kind.LOCK, Kind.ROLE_ASSIGNMENT):
        child = "locks" if checked_kind(type_) is Kind.LOCK else "roleAssignments"
        return {"id": f"{_lock_target(inputs)}/providers/Microsoft.Authorization/{child}/{name}",
                "name": name}
    if checked_kind(type_) is Kind.SERVICE_PRINCIPAL:
        object_id = _guid(f"sp/{name}")
        return {"id": object_id, "objectId": object_id}
    if checked_kind(type_) is Kind.APPLICATION:
        return {"id": f"/applications/{_guid(f'app/{name}')}", "objectId": _guid(f"app/{name}"),
                "clientId": _guid(f"client/{name}")}
    if checked_kind(type_) is Kind.USER_ASSIGNED_IDENTITY:
        return {"id": _arm(PROVIDER_SUB, group, "Microsoft.ManagedIdentity/userAssignedIdentities",
                           name), "principalId": _guid(f"uami/{name}"),
                "clientId": _guid(f"uami-client/{name}"), "tenantId": PROVIDER_TENANT}
    if type_.startswith("pulumi:providers:") or type_.startswith("dedicated-cmk:"):
        return {}
    return {"id": _arm(PROVIDER_SUB, group, type_.rsplit(":", 1)[-1], name)}


def _outputs(type_: str, inputs: Mapping[str, Any], computed: Mapping[str, Any]) -> dict[str, Any]:
    """Azure-shaped outputs: keys flattened, path-only inputs (lock scope, names) absent."""
    if checked_kind(type_) is Kind.KEY:
        return {**inputs["properties"], **computed}
    if checked_kind(type_) is Kind.VAULT:
        properties = {**inputs["properties"], **computed["properties"]}
        return {"location": inputs["location"], **computed, "properties": properties}
    if checked_kind(type_) is Kind.LOCK:
        return {"level": inputs["level"], **computed}
    return {**inputs, **computed}


def _resolve(value: Any, outputs: Mapping[str, Mapping[str, Any]], first_preview: bool,
             deps: set[str], specs: Mapping[str, Spec]) -> Any:
    if isinstance(value, Ref):
        if not value.literal:
            deps.add(urn(specs, value.target))
            if first_preview:
                return UNKNOWN
        if value.value is not None:
            return value.value
        found: Any = outputs[value.target]
        for step in value.path.split("."):
            found = found[step]
        return found
    if isinstance(value, Mapping):
        return {k: _resolve(v, outputs, first_preview, deps, specs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, outputs, first_preview, deps, specs) for v in value]
    return value


def build_plan(specs: Iterable[Spec], *, first_preview: bool = False,
               property_dependencies: bool = True) -> dict[str, Any]:
    """A PreviewDigest creating ``specs`` in order (referenced specs must come first)."""
    by_name = {spec.name: spec for spec in specs}
    known: dict[str, dict[str, Any]] = {}
    steps: list[dict[str, Any]] = [{"op": "create", "urn": STACK_URN, "newState": {
        "urn": STACK_URN, "type": "pulumi:pulumi:Stack", "custom": False, "inputs": {},
        "outputs": {}}}]
    for spec in by_name.values():
        per_prop = {k: set[str]() for k in spec.inputs}
        resolved = {k: _resolve(v, known, False, set(), by_name) for k, v in spec.inputs.items()}
        shown = {k: _resolve(v, known, first_preview, per_prop[k], by_name)
                 for k, v in spec.inputs.items()}
        computed = {**_computed(spec.type, spec.name, resolved), **spec.computed}
        known[spec.name] = _outputs(spec.type, resolved, computed)
        hidden = {k: _unknown_like(v) for k, v in computed.items()} if first_preview else computed
        state: dict[str, Any] = {
            "urn": urn(by_name, spec.name), "type": spec.type,
            "custom": not spec.type.startswith("dedicated-cmk:"),
            "inputs": shown, "outputs": _outputs(spec.type, shown, hidden),
            "parent": urn(by_name, spec.parent) if spec.parent else STACK_URN,
            "protect": spec.protect, "dependencies": sorted(set().union(*per_prop.values())),
        }
        if property_dependencies:
            state["propertyDependencies"] = {k: sorted(v) for k, v in per_prop.items()}
        if spec.provider:
            state["provider"] = f"{urn(by_name, spec.provider)}::{_guid(spec.provider)}"
        steps.append({"op": "create", "urn": state["urn"], "newState": state})
    return {"config": {}, "steps": steps, "diagnostics": [], "duration": 0,
            "changeSummary": {"create": len(steps)}}


def _unknown_like(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _unknown_like(v) for k, v in value.items()}
    return UNKNOWN


# --- the complete, compliant stack both sides in one program -----------------------------

def _identity(uami: str = "uami") -> dict[str, Any]:
    return {"type": "UserAssigned", "userAssignedIdentities": [Ref(uami, "id")]}


def _key_properties(size: int = 2048) -> dict[str, Any]:
    return {"kty": "RSA", "keySize": size, "keyOps": ["wrapKey", "unwrapKey"],
            "attributes": {"enabled": True, "expires": 1893456000},
            "rotationPolicy": {"attributes": {"expiryTime": "P2Y"}, "lifetimeActions": [
                {"trigger": {"timeAfterCreate": "P180D"}, "action": {"type": "rotate"}},
                {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "notify"}}]}}


def vault_properties(rbac: bool = True) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tenantId": CUSTOMER_TENANT, "sku": {"family": "A", "name": "standard"},
        "enableSoftDelete": True, "enablePurgeProtection": True,
        "softDeleteRetentionInDays": 90, "enableRbacAuthorization": rbac,
        "publicNetworkAccess": "Enabled",
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [],
                        "virtualNetworkRules": []},
    }
    if not rbac:
        properties["accessPolicies"] = [{
            "tenantId": CUSTOMER_TENANT, "objectId": Ref("sp", "objectId"),
            "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}}]
    return properties


def baseline(rbac: bool = True) -> list[Spec]:
    """Provider app, identity and bindings plus the customer's vault, key, locks and grant."""
    c, p = "customer", "provider"
    specs = [
        Spec("pulumi:providers:azure-native", "provider-arm",
             {"tenantId": PROVIDER_TENANT, "subscriptionId": PROVIDER_SUB}),
        Spec("pulumi:providers:azuread", "provider-ad", {"tenantId": PROVIDER_TENANT}),
        Spec("pulumi:providers:azure-native", "customer-arm",
             {"tenantId": CUSTOMER_TENANT, "subscriptionId": CUSTOMER_SUB}),
        Spec("pulumi:providers:azuread", "customer-ad", {"tenantId": CUSTOMER_TENANT}),
        Spec("dedicated-cmk:provider:Identity", p, {}),
        Spec("dedicated-cmk:customer:KeyVault", c, {}),
        Spec(rt.APPLICATION, "app", {"displayName": "cmk", "signInAudience": "AzureADMultipleOrgs"},
             parent=p, provider="provider-ad"),
        Spec(rt.USER_ASSIGNED_IDENTITY, "uami", {"resourceGroupName": "rg-p",
                                                 "location": "westeurope"},
             parent=p, provider="provider-arm"),
        Spec(rt.FEDERATED_CREDENTIAL, "fic", {
            "applicationId": Ref("app", "id"), "displayName": "uami",
            "audiences": ["api://AzureADTokenExchange"],
            "issuer": f"https://login.microsoftonline.com/{PROVIDER_TENANT}/v2.0",
            "subject": Ref("uami", "principalId")}, parent=p, provider="provider-ad"),
        Spec(rt.SERVICE_PRINCIPAL, "sp", {"clientId": Ref("app", "clientId"),
                                          "useExisting": True},
             parent=c, provider="customer-ad", protect=False),
        Spec(rt.VAULT, "kv", {"resourceGroupName": "rg-c", "vaultName": "kv-cmk",
                              "location": "westeurope", "properties": vault_properties(rbac)},
             parent=c, provider="customer-arm"),
        Spec(rt.KEY, "key", {"resourceGroupName": "rg-c", "vaultName": Ref("kv", "name"),
                             "keyName": "cmk", "properties": _key_properties()},
             parent=c, provider="customer-arm"),
        Spec(rt.LOCK, "kv-lock", {"scope": Ref("kv", "id"), "level": "CanNotDelete",
                                  "lockName": "cmk"}, parent=c, provider="customer-arm"),
        Spec(rt.LOCK, "key-lock", {"scope": Ref("key", "id"), "level": "CanNotDelete",
                                   "lockName": "cmk"}, parent=c, provider="customer-arm"),
    ]
    if rbac:
        specs.append(Spec(rt.ROLE_ASSIGNMENT, "grant", {
            "principalId": Ref("sp", "objectId"), "principalType": "ServicePrincipal",
            "roleDefinitionId": role(CRYPTO_USER_ROLE), "scope": Ref("key", "id")},
            parent=c, provider="customer-arm"))
    specs += [
        Spec(rt.STORAGE_ACCOUNT, "st", {
            "resourceGroupName": "rg-p", "accountName": "stcmk", "location": "westeurope",
            "identity": _identity(),
            "encryption": {
                "keySource": "Microsoft.Keyvault",
                "keyVaultProperties": {"keyVaultUri": Ref("kv", "properties.vaultUri"),
                                       "keyName": Ref("key", "name")},
                "encryptionIdentity": {
                    "encryptionUserAssignedIdentity": Ref("uami", "id"),
                    "encryptionFederatedIdentityClientId": Ref("app", "clientId")}}},
            parent=p, provider="provider-arm"),
        Spec(rt.SQL_SERVER, "sql", {
            "resourceGroupName": "rg-p", "serverName": "sql-cmk", "location": "westeurope",
            "identity": _identity(), "primaryUserAssignedIdentityId": Ref("uami", "id"),
            "keyId": Ref("key", "keyUriWithVersion"), "federatedClientId": Ref("app", "clientId")},
            parent=p, provider="provider-arm"),
        Spec(rt.DISK_ENCRYPTION_SET, "des", {
            "resourceGroupName": "rg-p", "location": "westeurope", "identity": _identity(),
            "encryptionType": "EncryptionAtRestWithCustomerKey",
            "activeKey": {"keyUrl": Ref("key", "keyUriWithVersion")},
            "federatedClientId": Ref("app", "clientId"),
            "rotationToLatestKeyVersionEnabled": True}, parent=p, provider="provider-arm"),
    ]
    return specs


REGION_OF_CLOUD = {"public": "westeurope", "usgovernment": "usgovvirginia", "china": "chinaeast2"}


def in_cloud(specs: Iterable[Spec], cloud: Cloud) -> list[Spec]:
    """``specs`` moved to ``cloud``: providers' environment, the credential's issuer and
    audience, every location, and the vault and key URIs Azure answers there."""
    moved: list[Spec] = []
    for spec in specs:
        inputs = dict(spec.inputs)
        computed = dict(spec.computed)
        if spec.type == "pulumi:providers:azure-native":
            inputs["environment"] = cloud.arm_environment
        elif spec.type == "pulumi:providers:azuread":
            inputs["environment"] = cloud.graph_environment
        elif checked_kind(spec.type) is Kind.FEDERATED_CREDENTIAL:
            inputs["audiences"] = [cloud.audience]
            inputs["issuer"] = cloud.issuer(PROVIDER_TENANT)
        if "location" in inputs:
            inputs["location"] = REGION_OF_CLOUD[cloud.name]
        if checked_kind(spec.type) in (Kind.VAULT, Kind.KEY):
            names = {k: (v.value if isinstance(v, Ref) and v.value else
                         "kv-cmk" if isinstance(v, Ref) else v) for k, v in inputs.items()}
            answer = json.dumps(_computed(spec.type, spec.name, names))
            computed = {**json.loads(answer.replace(".vault.azure.net", f".{cloud.vault_suffix}")),
                        **computed}
        moved.append(replace(spec, inputs=inputs, computed=computed))
    return moved


def role(guid: str, sub: str = CUSTOMER_SUB) -> str:
    return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


# --- editing fixtures ---------------------------------------------------------------------

def edit(specs: Iterable[Spec], name: str, path: str, value: Any) -> list[Spec]:
    """Copy of ``specs`` with the input at dotted ``path`` of ``name`` set (``DELETE`` drops)."""
    return [_edited(spec, path, value) if spec.name == name else spec for spec in specs]


def _edited(spec: Spec, path: str, value: Any) -> Spec:
    inputs = copy.deepcopy(dict(spec.inputs))
    *parents, last = path.split(".")
    holder: Any = inputs
    for step in parents:
        holder = holder[int(step)] if isinstance(holder, list) else holder[step]
    if value is DELETE:
        del holder[int(last) if isinstance(holder, list) else last]
    elif isinstance(holder, list):
        holder[int(last)] = value
    else:
        holder[last] = value
    return replace(spec, inputs=inputs)


DELETE = object()


def modify(specs: Iterable[Spec], name: str, **changes: Any) -> list[Spec]:
    """Copy of ``specs`` with fields (protect, computed...) of ``name`` replaced."""
    return [replace(s, **changes) if s.name == name else s for s in specs]


def without(specs: Iterable[Spec], *names: str) -> list[Spec]:
    return [s for s in specs if s.name not in names]


# --- running the pack ---------------------------------------------------------------------

@dataclass(frozen=True)
class Verdicts:
    violating: frozenset[str]
    """URNs (``""`` for the stack) with a definite violation."""
    undecided: frozenset[str]
    messages: tuple[str, ...]


def results(plan: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> list[Result]:
    policies = build_policies()
    return evaluate(read_plan(json.loads(json.dumps(plan))), policies,
                    parse_pack_config(dict(config or {}), policies), PACK_ENFORCEMENT_LEVEL)


def verdicts(policy: str, plan: Mapping[str, Any],
             config: Mapping[str, Any] | None = None) -> Verdicts:
    mine = [r for r in results(plan, config) if r.policy == policy]
    return Verdicts(frozenset(r.urn for r in mine if not r.undecided),
                    frozenset(r.urn for r in mine if r.undecided),
                    tuple(r.message for r in mine))


def names(specs: Iterable[Spec], *wanted: str) -> frozenset[str]:
    """URNs of the named specs (``""`` stands for the stack itself)."""
    by_name = {s.name: s for s in specs}
    return frozenset("" if n == "" else urn(by_name, n) for n in wanted)


def check_output(plan_path: str, config_path: str | None, fmt: str,
                 *flags: str) -> tuple[int, str]:
    out = io.StringIO()
    return run(plan_path, config_path, fmt, out, strict="--strict" in flags), out.getvalue()


@dataclass(frozen=True)
class Case:
    """One fixture for one rule: specs and the exact URNs expected to violate / stay undecided."""

    id: str
    """``pass_*`` or ``fail_*`` (``undecided_*`` when only undecided verdicts are expected)."""
    specs: list[Spec]
    violating: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    config: Mapping[str, Any] | None = None
    """Parameters (and ``enforcementLevel``) for the rule under test."""
    first_preview: bool = False
    property_dependencies: bool = True


def assert_case(policy: str, case: Case) -> None:
    plan = build_plan(case.specs, first_preview=case.first_preview,
                      property_dependencies=case.property_dependencies)
    got = verdicts(policy, plan, {policy: case.config} if case.config is not None else None)
    expected = (names(case.specs, *case.violating), names(case.specs, *case.undecided))
    assert (got.violating, got.undecided) == expected, got.messages
