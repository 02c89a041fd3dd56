"""Committed plan snapshots: one per stack file, byte-identical to a fresh offline preview."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from cmkctl.plan.digest import plan_text, preview_digest
from cmkctl.plan.preview import build_plan
from cmkctl.plan.recorder import ROOT, Recording, Secret
from cmkctl.plan.tree import render_outputs
from tests.stacks import EXAMPLE_STACKS

REFRESH = "make plans"
STACKS = sorted(EXAMPLE_STACKS)  # users' own stack files beside them get no snapshot


def test_every_stack_file_has_a_snapshot_and_no_snapshot_is_orphaned() -> None:
    snapshots = sorted(p.stem for p in (ROOT / "plans").glob("*.json"))
    assert snapshots == STACKS, f"plans/ does not match the stack files; run `{REFRESH}`"


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_is_fresh(stack: str) -> None:
    committed = (ROOT / "plans" / f"{stack}.json").read_text(encoding="utf-8")
    fresh = plan_text(build_plan(stack))
    assert fresh == committed, (
        f"plans/{stack}.json is stale: the program or Pulumi.{stack}.yaml changed since it "
        f"was written. Refresh every snapshot with `{REFRESH}` and commit plans/."
    )


def test_plans_are_byte_identical_across_hash_seeds() -> None:
    """The SDK gathers dependencies in sets, so their order follows the hash seed: a process
    with a fixed seed writes the same bytes as the snapshot (written under a random seed by
    ``make plans``) and as this process (see test_snapshot_is_fresh)."""
    run = subprocess.run(
        [sys.executable, "-m", "cmkctl", "preview", "--stack", "customer", "--json"],
        cwd=ROOT, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "1"}, timeout=120,
        check=False)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.decode() == (ROOT / "plans" / "customer.json").read_text(encoding="utf-8")


def test_stack_outputs_are_listed_sorted_with_secrets_masked() -> None:
    recording = Recording(project="p", stack="s", config={})
    recording.stack_outputs = {"vaultUri": "https://kv.vault.azure.net/",
                               "adminPassword": Secret("hunter2"),
                               "grant": {"token": Secret("t0k"), "role": "reader"}}
    assert render_outputs(recording) == [
        "Outputs:",
        '    adminPassword: "[secret]"',
        '    grant: {"role": "reader", "token": "[secret]"}',
        '    vaultUri: "https://kv.vault.azure.net/"',
    ]
    document = plan_text(preview_digest(recording))
    assert "hunter2" not in document and "t0k" not in document
    assert render_outputs(Recording(project="p", stack="s", config={})) == []


def test_preview_tree_ends_with_the_stack_outputs() -> None:
    from cmkctl.plan import preview  # noqa: PLC0415

    out = io.StringIO()
    assert preview.run("customer", None, False, stdout=out, stderr=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    outputs = lines[lines.index("Outputs:") + 1 :]
    assert outputs[0].startswith("    diskKeyUri: \"https://kv-contoso-cmk-prod.vault.azure.net/keys/cmk-disk/")
    assert '    vaultUri: "https://' in "\n".join(outputs)
