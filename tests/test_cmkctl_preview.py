"""``cmkctl preview``: the pulumi preview --json shape, clean failures, no plan on bad config."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import yaml

from cmkctl import cli
from cmkctl.plan import preview
from cmkctl.plan.recorder import ROOT
from components.config.keys import KEYS, Mode

APP = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"


def project(tmp_path: Path, **overrides: object) -> Path:
    """A copy of the program with a ``ci`` stack: dev's config in customer mode plus overrides."""
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    # Only the keys a customer stack takes: the rest would be refused as having no effect.
    config = {k: v for k, v in dev.items() if Mode.CUSTOMER in KEYS[k.split(":")[1]].modes}
    config.update({"dedicated-cmk:mode": "customer", "dedicated-cmk:providerAppClientId": APP})
    config.update({f"dedicated-cmk:{k}": v for k, v in overrides.items()})
    (tmp_path / "Pulumi.ci.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def run(root: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = preview.run("ci", *args, stdout=out, stderr=err, root=root)  # type: ignore[misc]
    return code, out.getvalue(), err.getvalue()


def test_plan_has_the_preview_digest_shape(tmp_path: Path) -> None:
    code, out, err = run(project(tmp_path), None, True)
    assert (code, err) == (0, "")
    plan = json.loads(out)
    assert set(plan) == {"config", "steps", "diagnostics", "duration", "changeSummary"}
    root, *steps = plan["steps"]
    assert root["urn"] == "urn:pulumi:ci::dedicated-cmk::pulumi:pulumi:Stack::dedicated-cmk-ci"
    assert root["newState"]["type"] == "pulumi:pulumi:Stack"
    assert root["newState"]["outputs"]["vaultUri"] == "https://kv-contoso-cmk-dev.vault.azure.net/"
    assert plan["changeSummary"] == {"create": len(plan["steps"])}
    assert {s["op"] for s in plan["steps"]} == {"create"}
    vault = next(s for s in steps if s["newState"]["type"] == "azure-native:keyvault:Vault")
    state = vault["newState"]
    assert set(state) == {
        "urn",
        "custom",
        "id",
        "type",
        "inputs",
        "outputs",
        "parent",
        "protect",
        "retainOnDelete",
        "dependencies",
        "provider",
        "propertyDependencies",
    }
    assert state["protect"] is True
    assert state["provider"].startswith(
        "urn:pulumi:ci::dedicated-cmk::pulumi:providers:azure-native::customer-arm::"
    )
    assert vault["provider"] == state["provider"]
    assert state["parent"].endswith("dedicated-cmk:customer:KeyVault::customer")
    assert state["inputs"]["properties"]["enablePurgeProtection"] is True
    assert plan["config"]["dedicated-cmk:vaultName"] == "kv-contoso-cmk-dev"


def test_tree_is_printed_and_plan_written_to_file(tmp_path: Path) -> None:
    out_file = tmp_path / "out" / "plan.json"
    code, out, _ = run(project(tmp_path), str(out_file), False)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "+ pulumi:pulumi:Stack  dedicated-cmk-ci  create"
    assert "+ │  ├─ azure-native:keyvault:Vault  customer-vault  create  [protected]" in lines
    assert lines[-1] == f"plan written to {out_file}"
    assert json.loads(out_file.read_text())["steps"]


def test_invalid_config_exits_1_with_every_problem_and_writes_no_plan(tmp_path: Path) -> None:
    out_file = tmp_path / "plan.json"
    code, out, err = run(project(tmp_path, vaultName="kv--x", keySize=1024), str(out_file), False)
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        "stack 'ci': invalid stack configuration (2 problems); nothing was created:"
    )
    assert "dedicated-cmk:vaultName: 'kv--x' contains '--'" in err
    assert "dedicated-cmk:keySize: 1024 is outside the allowed range 2048-4096" in err
    assert "Traceback" not in err
    assert not out_file.exists()


def test_missing_stack_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, None, True)
    assert code == 2
    assert err == (
        "cmkctl preview: no stack file Pulumi.ci.yaml in "
        f"{tmp_path}; create it with `pulumi stack init ci` and `pulumi config set`\n"
    )


def test_encrypted_config_cannot_be_previewed_offline(tmp_path: Path) -> None:
    root = project(tmp_path, sqlAdminObjectId={"secure": "v1:abc"})
    code, _, err = run(root, None, True)
    assert code == 2
    assert err == (
        "cmkctl preview: Pulumi.ci.yaml: dedicated-cmk:sqlAdminObjectId: is encrypted (secure:), "
        "which cannot be read without the stack's secrets provider; offline runs need a copy of "
        "the stack file with a plain placeholder value for it, or without it for a key that "
        "must stay secret such as credentialSecrets (line 11)\n"
    )


def test_cli_rejects_bad_arguments_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["preview"])
    assert caught.value.code == 2
    assert "--stack" in capsys.readouterr().err


def test_json_with_out_prints_the_plan_and_writes_the_same_bytes(tmp_path: Path) -> None:
    target = tmp_path / "plans" / "ci.json"
    code, out, err = run(project(tmp_path), str(target), True)
    assert (code, err) == (0, "")
    assert target.read_text(encoding="utf-8") == out
    assert json.loads(out)["steps"]
