"""The CI workflows: valid against GitHub's schema, and wired as docs/fleet-and-ci.md says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmkctl.fleet.report import MARKER
from cmkctl.plan.recorder import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return document


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("with", "")) for step in job["steps"])


@pytest.mark.parametrize("name", ["offline.yml", "preview.yml"])
def test_workflow_is_valid_against_githubs_schema(name: str) -> None:
    # check-jsonschema ships SchemaStore's github-workflow schema: no network needed.
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(WORKFLOWS / name)],
        capture_output=True, text=True, check=False, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "ok -- validation done"), done.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = workflow("offline.yml")
    broken["jobs"]["tests"]["runs-on"] = {"not": "a runner"}
    del broken["jobs"]["tests"]["steps"]
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(path)],
        capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 1


def test_offline_workflow_shards_the_fleet_merges_and_keeps_one_comment() -> None:
    offline = workflow("offline.yml")
    jobs = offline["jobs"]
    assert offline["permissions"] == {"contents": "read"}
    fleet = steps_text(jobs["fleet"])
    assert "cmkctl fleet --base-ref \"$BASE\" --shard \"$SHARD\" --strict" in fleet
    assert jobs["fleet"]["strategy"]["matrix"]["shard"] == \
        "${{ fromJSON(needs.shards.outputs.shards) }}"
    assert jobs["fleet"]["steps"][0]["with"] == {"fetch-depth": 0}
    merge = steps_text(jobs["comment"])
    assert "cmkctl fleet merge out/shards/fleet-* --strict" in merge
    assert "--format markdown" in merge
    # The sticky comment is found by the marker the report writes first.
    assert f"const marker = '{MARKER}';" in merge and "updateComment" in merge
    assert jobs["comment"]["permissions"]["pull-requests"] == "write"
    assert "make plans" in steps_text(jobs["plan-snapshots"])
    assert "git diff --exit-code -- plans/" in steps_text(jobs["plan-snapshots"])
    assert "make test" in steps_text(jobs["tests"])


def test_preview_workflow_uses_oidc_and_no_client_secret() -> None:
    text = (WORKFLOWS / "preview.yml").read_text()
    for forbidden in ("client-secret", "CLIENT_SECRET", "creds:", "password"):
        assert forbidden not in text
    assert re.findall(r"secrets\.\w+", text) == ["secrets.PULUMI_ACCESS_TOKEN"]
    job = workflow("preview.yml")["jobs"]["preview"]
    assert job["permissions"]["id-token"] == "write"
    assert job["env"]["ARM_USE_OIDC"] == "true"
    assert 'ARM_OIDC_REQUEST_TOKEN=$ACTIONS_ID_TOKEN_REQUEST_TOKEN" >> "$GITHUB_ENV"' \
        in steps_text(job)
    pulumi = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policies"
    login = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("azure/login@"))
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
