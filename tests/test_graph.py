"""``cmkctl graph``: the key chain as a Mermaid flowchart, grouped by tenant, styled by op."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cmkctl import cli
from cmkctl.plan.reader import PlanResource, read_steps, resources_after
from cmkctl.plan.recorder import ROOT
from cmkctl.review import run as review
from cmkctl.review.graph import FRONTMATTER, mermaid
from policies import resource_types as t

TOOLS = Path(os.environ.get("MERMAID_NODE_PATH", ROOT / ".tools" / "node_modules"))
PARSER = Path(__file__).parent / "tools" / "mermaid_parse.mjs"


def res(type_: str, name: str, deps: tuple[str, ...] = (), provider: str | None = None,
        inputs: dict[str, Any] | None = None) -> PlanResource:
    return PlanResource(urn=f"urn:pulumi:s::p::{type_}::{name}", type=type_, inputs=inputs or {},
                        outputs={}, parent=None, protect=False, dependencies=deps,
                        property_dependencies={}, provider=provider)


CUSTOMER = res("pulumi:providers:azure-native", "customer-arm", inputs={"tenantId": "T-cust"})
ARM = f"{CUSTOMER.urn}::id"
VAULT = res(t.VAULT, "vault", provider=ARM)
KEY = res(t.KEY, "key", (VAULT.urn,), ARM)
GROUP = res(t.RESOURCE_GROUP, "rg", provider=ARM)
LOCK = res(t.LOCK, "lock", (KEY.urn,), ARM)
WAIT = res(t.SLEEP, "wait", (KEY.urn,))
DES = res(t.DISK_ENCRYPTION_SET, "des", (WAIT.urn, GROUP.urn))


def test_chain_edges_follow_dependencies_through_hidden_resources() -> None:
    chart = mermaid([CUSTOMER, GROUP, VAULT, KEY, LOCK, WAIT, DES])
    assert chart.splitlines()[:len(FRONTMATTER)] == list(FRONTMATTER)
    assert chart.splitlines()[len(FRONTMATTER):] == [
        "flowchart TD",
        '  subgraph t0["provider tenant #40;default provider#41;"]',
        '    n3["disk encryption set<br/>des"]',
        "  end",
        '  subgraph t1["customer tenant T-cust"]',
        '    n0["key vault<br/>vault"]',
        '    n1["key<br/>key"]',
        '    n2["lock<br/>lock"]',
        "  end",
        "  n0 --> n1",
        "  n1 --> n2",
        "  n1 --> n3",
    ]


def test_ops_are_styled_and_explained_in_a_legend() -> None:
    chart = mermaid([CUSTOMER, VAULT, KEY], {VAULT.urn: "update", KEY.urn: "replace"},
                    deleted=[LOCK])
    lines = chart.splitlines()
    assert "  class n0 update" in lines and "  class n1 replace" in lines
    assert "  class n2 delete" in lines
    assert lines[-5:] == ['  subgraph legend["legend"]',
                          '    legend_update["changed in place"]:::update',
                          '    legend_replace["replaced"]:::replace',
                          '    legend_delete["deleted"]:::delete', "  end"]
    assert not any("classDef create" in line for line in lines)


def test_risks_win_over_ops_in_colours_of_their_own() -> None:
    chart = mermaid([CUSTOMER, VAULT, KEY], {VAULT.urn: "update", KEY.urn: "replace"},
                    deleted=[LOCK], risks={KEY.urn: "data-loss", LOCK.urn: "access-loss",
                                           VAULT.urn: "weakening"})
    lines = chart.splitlines()
    assert {"  class n0 weakening", "  class n1 dataloss", "  class n2 accessloss"} <= set(lines)
    fills = {line.split()[1]: line.split("fill:")[1].split(",")[0]
             for line in lines if line.startswith("  classDef")}
    assert fills == {"dataloss": "#b91c1c", "accessloss": "#6d28d9", "weakening": "#f59e0b"}
    assert '    legend_dataloss["DATA LOSS"]:::dataloss' in lines


def test_only_the_key_chain_by_default_every_dependency_behind_a_flag() -> None:
    identity = res(t.USER_ASSIGNED_IDENTITY, "id", provider=ARM)
    key = res(t.KEY, "key2", (VAULT.urn, GROUP.urn, identity.urn), ARM)
    default = mermaid([CUSTOMER, GROUP, VAULT, identity, key])
    assert [line for line in default.splitlines() if "-->" in line] == ["  n0 --> n2"]
    every = mermaid([CUSTOMER, GROUP, VAULT, identity, key], all_edges=True)
    assert [line for line in every.splitlines() if "-->" in line] == [
        "  n0 --> n2", "  n1 --> n2"]


def test_a_binding_to_a_key_outside_the_stack_is_drawn_from_the_key_uri() -> None:
    url = "https://kv-contoso.vault.azure.net/keys/cmk-disk/" + "a" * 32
    des = res(t.DISK_ENCRYPTION_SET, "des", inputs={"activeKey": {"keyUrl": url}})
    lines = mermaid([des]).splitlines()[len(FRONTMATTER):]
    assert lines[4:] == [
        '  subgraph tx["customer tenant#44; outside this stack"]',
        '    x0["key #40;from config#41;<br/>kv-contoso/cmk-disk"]',
        "  end",
        "  x0 --> n0",
    ]


def test_labels_are_escaped() -> None:
    odd = res(t.KEY, 'k"<b>', provider=ARM)
    assert '["key<br/>k#34;#60;b#62;"]' in mermaid([CUSTOMER, odd])
    directive = res(t.KEY, '%%{init: {"theme":"dark"}}%%\n```\nclassDef', provider=ARM)
    chart = mermaid([CUSTOMER, directive])
    assert "%%" not in chart and "`" not in chart and "{" not in chart


def test_dev_stack_groups_both_tenants(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["graph", "--plan", str(ROOT / "plans" / "dev.json")]) == 0
    chart = capsys.readouterr().out
    assert chart.count("subgraph t") == 2
    assert 'subgraph t0["provider tenant 2c3d4e#8230;4d5e6f"]' in chart
    assert 'subgraph t1["customer tenant 8f1d2a#8230;0e1f21"]' in chart


def test_a_plan_without_every_resource_is_not_drawn(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    dev = json.loads((ROOT / "plans" / "dev.json").read_text())
    dev["changeSummary"]["same"] = 3
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(dev))
    assert cli.main(["graph", "--plan", str(path)]) == 2
    assert capsys.readouterr().err == (
        "cmkctl graph: a picture of the stack needs every resource of the stack, but the plan "
        "counts 3 unchanged resource(s) it does not list (a preview without --show-sames); "
        "write it with `pulumi preview --json --show-sames`\n")


def charts() -> list[str]:
    """Every example stack, and the dev stack with its vault renamed (every risk colour)."""
    found = []
    for stack in ("dev", "customer", "provider", "credstore", "org", "snowflake"):
        plan = json.loads((ROOT / "plans" / f"{stack}.json").read_text())
        found.append(mermaid(resources_after(read_steps(plan))))
    dev = json.loads((ROOT / "plans" / "dev.json").read_text())
    head = json.loads(json.dumps(dev).replace("kv-contoso-cmk-dev", "kv-contoso-cmk-dv2"))
    found.append(review.picture([dev, head], review.compare(dev, head)))
    found.append(mermaid([CUSTOMER, res(t.KEY, '%%{init: {"theme":"dark"}}%% k"]\n`x`', (),
                                        ARM)]))
    return found


@pytest.mark.skipif(shutil.which("node") is None or not (TOOLS / "mermaid").is_dir(),
                    reason=f"needs node and the mermaid npm package in {TOOLS} "
                    "(`make mermaid-tools`, or set MERMAID_NODE_PATH)")
@pytest.mark.parametrize("index", range(8))
def test_mermaid_itself_parses_the_charts(index: int) -> None:
    chart = charts()[index]
    parsed = subprocess.run(["node", str(PARSER)], input=chart, capture_output=True, text=True,
                            env={**os.environ, "NODE_PATH": str(TOOLS)}, timeout=120,
                            check=False)
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout.strip() == "parsed: flowchart-v2"
