"""The pack itself: rule list, metadata, schemas, the served entry point and the docs table."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from cmkctl.check.pack_config import parse_pack_config, schema_errors
from policies.framework import RuleMeta
from policies.pack import PACK_NAME, RULES, build_policies, rule_metas
from tests.policies.cmk_plan_fixtures import Case, baseline, build_plan, results
from tests.policies.test_policy_clouds import CASES as CLOUD_CASES
from tests.policies.test_policy_resource_rules import CASES as RESOURCE_CASES
from tests.policies.test_policy_stack_rules import CASES as STACK_CASES

ROOT = Path(__file__).resolve().parents[2]
M, A = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY

CATALOGUE = {
    "vault-soft-delete": (M, "resource"),
    "vault-purge-protection": (M, "resource"),
    "vault-soft-delete-retention": (M, "resource"),
    "vault-rbac-authorization": (A, "resource"),
    "vault-network-firewall": (M, "resource"),
    "key-type-and-size": (M, "resource"),
    "key-wrap-operations": (M, "resource"),
    "key-state": (M, "resource"),
    "key-rotation-policy": (A, "resource"),
    "key-expiry": (A, "resource"),
    "key-material-locks": (M, "stack"),
    "key-material-protected": (M, "stack"),
    "cmk-chain-protected": (M, "stack"),
    "vault-resource-group-protected": (A, "stack"),
    "provider-grant-least-privilege": (M, "stack"),
    "access-policy-no-purge": (A, "resource"),
    "purge-role-only-administrators": (A, "stack"),
    "vault-region-failover": (A, "resource"),
    "consumed-key-granted": (M, "stack"),
    "customer-key-granted": (A, "stack"),
    "binding-vault-in-stack": (A, "stack"),
    "federated-credential-claims": (M, "resource"),
    "federated-credential-subject": (M, "stack"),
    "single-cloud": (M, "stack"),
    "provider-app-no-secrets": (M, "stack"),
    "storage-cross-tenant-cmk": (M, "resource"),
    "sql-cross-tenant-cmk": (M, "stack"),
    "disk-encryption-set-cross-tenant-cmk": (M, "resource"),
    "disk-encryption-set-region": (M, "stack"),
    "consumed-key-size-per-service": (M, "stack"),
    "federated-credential-limit": (M, "stack"),
    "binding-federated-client-id": (M, "stack"),
    "references-match-dependencies": (M, "stack"),
    "app-credential-expiry": (A, "resource"),
    "app-client-secret": (A, "resource"),
    "unchecked-resource-spelling": (A, "resource"),
}


def test_pack_builds_the_catalogue_with_default_levels() -> None:
    policies = build_policies()
    kinds = {ResourceValidationPolicy: "resource", StackValidationPolicy: "stack"}
    assert {p.name: (p.enforcement_level, kinds[type(p)]) for p in policies} == CATALOGUE
    assert len(policies) == len(RULES) == len({p.name for p in policies})
    assert [p.name for p in policies] == [m.name for m in rule_metas()]


@pytest.mark.parametrize("policy", build_policies(), ids=lambda p: p.name)
def test_every_rule_carries_its_metadata(policy: ResourceValidationPolicy) -> None:
    assert policy.description.endswith(".") and policy.severity is not None
    assert policy.remediation_steps and policy.url and policy.url.startswith("https://")
    assert policy.framework is not None and policy.framework.reference
    assert policy.tags and all(":" in tag for tag in policy.tags[1:])
    guids = [t.split(":", 1)[1] for t in policy.tags if t.startswith("azure-policy:")]
    assert all(re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", g) for g in guids)


@pytest.mark.parametrize("meta", rule_metas(), ids=lambda m: m.name)
def test_parameter_defaults_satisfy_their_schema(meta: RuleMeta) -> None:
    for key, spec in meta.parameters.items():
        assert spec.get("description"), key
        assert schema_errors(spec["default"], spec, key) == []


def test_every_rule_has_pass_and_fail_fixtures() -> None:
    cases: dict[str, list[Case]] = {}
    for table in (RESOURCE_CASES, STACK_CASES, CLOUD_CASES):
        for name, listed in table.items():
            cases.setdefault(name, []).extend(listed)
    for meta in rule_metas():
        ids = [c.id for c in cases.get(meta.name, [])]
        assert any(i.startswith("pass_") for i in ids), meta.name
        assert any(i.startswith("fail_") for i in ids), meta.name
    for name, rule_cases in cases.items():
        for case in rule_cases:
            assert case.id.split("_", 1)[0] in ("pass", "fail", "undecided"), case.id
            assert bool(case.violating) == case.id.startswith("fail_"), (name, case.id)
            assert bool(case.undecided) == case.id.startswith("undecided_"), (name, case.id)


def test_main_only_serves_the_pack_built_by_pack_py() -> None:
    """Parsed, never imported: building a PolicyPack starts a server and never returns."""
    tree = ast.parse((ROOT / "policies" / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    names = [ast.unparse(c.func) for c in calls]
    assert set(names) == {"Path(__file__).resolve", "Path",
                          "importlib.util.spec_from_file_location",
                          "str", "ImportError", "importlib.util.module_from_spec",
                          "_SPEC.loader.exec_module", "PolicyPack", "build_policies"}
    pack = next(c for c in calls if ast.unparse(c.func) == "PolicyPack")
    keywords = {k.arg: ast.unparse(k.value) for k in pack.keywords}
    assert keywords["name"] == "PACK_NAME" and keywords["policies"] == "build_policies()"
    assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body)
    assert sum(name == "PolicyPack" for name in names) == 1
    assert PACK_NAME == "cmk-prerequisites"


def test_example_config_is_valid_and_keeps_a_compliant_stack_compliant() -> None:
    data = json.loads((ROOT / "policies" / "config.example.json").read_text())
    parse_pack_config(data, build_policies())
    assert [r for r in results(build_plan(baseline()), data)
            if r.level == EnforcementLevel.MANDATORY] == []


def test_docs_table_lists_every_rule_with_its_default_level() -> None:
    doc = (ROOT / "docs" / "policy-pack.md").read_text()
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `([a-z0-9-]+)` \| (\w+) \|", doc, re.M)}
    assert rows == {name: level.value for name, (level, _) in CATALOGUE.items()}
