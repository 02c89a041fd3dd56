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
from cmkctl.review.graph import mermaid
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
    assert chart.splitlines() == [
        "flowchart LR",
        '  subgraph t0["default provider"]',
        '    n3["disk encryption set<br/>des"]',
        "  end",
        '  subgraph t1["tenant T-cust via customer-arm"]',
        '    n0["key vault<br/>vault"]',
        '    n1["key<br/>key"]',
        '    n2["management lock<br/>lock"]',
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


def test_labels_are_escaped() -> None:
    odd = res(t.KEY, 'k"<b>', provider=ARM)
    assert '["key<br/>k#quot;#lt;b#gt;"]' in mermaid([CUSTOMER, odd])


def test_dev_stack_groups_both_tenants(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["graph", "--plan", str(ROOT / "plans" / "dev.json")]) == 0
    chart = capsys.readouterr().out
    assert chart.count("subgraph t") == 2
    assert "customer-arm, customer-graph" in chart and "provider-arm, provider-graph" in chart


def charts() -> list[str]:
    dev = json.loads((ROOT / "plans" / "dev.json").read_text())
    head = json.loads(json.dumps(dev).replace("kv-contoso-cmk-dev", "kv-contoso-cmk-dv2"))
    found = [mermaid(resources_after(read_steps(dev)))]
    found.append(review.picture([dev, head], review.compare(dev, head)))
    return found


@pytest.mark.skipif(shutil.which("node") is None or not (TOOLS / "mermaid").is_dir(),
                    reason=f"needs node and the mermaid npm package in {TOOLS} "
                    "(`make mermaid-tools`, or set MERMAID_NODE_PATH)")
@pytest.mark.parametrize("index", [0, 1])
def test_mermaid_itself_parses_the_charts(index: int) -> None:
    chart = charts()[index]
    parsed = subprocess.run(["node", str(PARSER)], input=chart, capture_output=True, text=True,
                            env={**os.environ, "NODE_PATH": str(TOOLS)}, timeout=120,
                            check=False)
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout.strip() == "parsed: flowchart-v2"
