"""``cmkctl diff PREVIEW.json``: real-CLI-shaped previews, formats, exit codes, golden Markdown."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from cmkctl import cli
from cmkctl.review import run as review
from cmkctl.review.diff import Change, ResourceReview, Review, from_preview
from cmkctl.review.diff_render import COMMENT_LIMIT, as_json, as_markdown
from policies import resource_types as t

GOLDEN = Path(__file__).parent / "golden"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PREFIX = "urn:pulumi:prod::dedicated-cmk::dedicated-cmk:customer:KeyVault$"
ARM = f"urn:pulumi:prod::dedicated-cmk::pulumi:providers:azure-native::customer-arm::{UNKNOWN}"
VAULT, KEY = PREFIX + t.VAULT + "::customer-vault", PREFIX + t.KEY + "::customer-key-cmk"
GRANT, LOCK = PREFIX + t.ROLE_ASSIGNMENT + "::customer-grant", PREFIX + t.LOCK + "::vault-lock"
NEW_KEY = PREFIX + t.KEY + "::customer-key-cmk2"
SQL = "urn:pulumi:prod::dedicated-cmk::dedicated-cmk:provider:SqlCmk$" + t.SQL_SERVER + "::sql"
KEY_URL = "https://kv.vault.azure.net/keys/cmk/" + "a" * 32
ACLS = {"defaultAction": "Deny", "bypass": "AzureServices"}


def st(urn: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"urn": urn, "custom": True, "type": urn.split("::")[2].rsplit("$", 1)[-1],
            "inputs": inputs, "provider": ARM, **extra}


def real_preview() -> dict[str, Any]:
    """As the CLI prints it: sames left out but counted, one replace step per replacement
    (plus the pair with --show-replacement-steps), creates without outputs or id, an update's
    newState without outputs, detailedDiff null for one provider, secrets and unknowns."""
    vault_in = {"vaultName": "kv", "properties": {"enableRbacAuthorization": True,
                                                  "networkAcls": ACLS}}
    vault_new = {"vaultName": "kv", "properties": {"enableRbacAuthorization": False,
                                                   "networkAcls": ACLS}}
    key_in = {"keyName": "cmk", "vaultName": "kv", "properties": {"kty": "RSA", "keySize": 2048}}
    grant_in = {"principalId": "p1", "scope": "/k", "roleDefinitionId": "/r"}
    sql_in = {"serverName": "sql", "administratorLoginPassword": "[secret]", "keyId": KEY_URL,
              "__defaults": []}
    return {
        "config": {"dedicated-cmk:mode": "both"},
        "steps": [
            {"op": "update", "urn": VAULT, "provider": ARM,
             "oldState": st(VAULT, vault_in, id="/v", outputs={"name": "kv"}),
             "newState": st(VAULT, vault_new), "diffReasons": ["properties"],
             "replaceReasons": None, "detailedDiff": None},
            {"op": "replace", "urn": KEY, "provider": ARM,
             "oldState": st(KEY, key_in, id="/k", pendingReplacement=True),
             "newState": st(KEY, {**key_in, "keyName": "cmk-b"}),
             "diffReasons": ["keyName"], "replaceReasons": ["keyName"],
             "detailedDiff": {"keyName": {"kind": "update-replace", "inputDiff": True}}},
            {"op": "create-replacement", "urn": GRANT, "provider": ARM,
             "newState": st(GRANT, {**grant_in, "principalId": UNKNOWN}), "detailedDiff": None},
            {"op": "replace", "urn": GRANT, "provider": ARM,
             "oldState": st(GRANT, grant_in, id="/g"),
             "newState": st(GRANT, {**grant_in, "principalId": UNKNOWN}),
             "diffReasons": ["principalId"], "replaceReasons": ["principalId"],
             "detailedDiff": {"principalId": {"kind": "update-replace", "inputDiff": True}}},
            {"op": "delete-replaced", "urn": GRANT, "provider": ARM,
             "oldState": st(GRANT, grant_in, id="/g", delete=True), "detailedDiff": None},
            {"op": "delete", "urn": LOCK, "provider": ARM,
             "oldState": st(LOCK, {"level": "CanNotDelete", "scope": "/v"}, id="/l"),
             "detailedDiff": None},
            {"op": "create", "urn": NEW_KEY, "provider": ARM,
             "newState": st(NEW_KEY, {**key_in, "keyName": "cmk2"}), "detailedDiff": None},
            {"op": "update", "urn": SQL, "provider": ARM,
             "oldState": st(SQL, sql_in, id="/s"),
             "newState": st(SQL, {**sql_in, "keyId": UNKNOWN}),
             "diffReasons": ["keyId"], "replaceReasons": [],
             "detailedDiff": {"keyId": {"kind": "update", "inputDiff": True}}},
        ],
        "duration": 5_000_000_000,
        "changeSummary": {"same": 20, "update": 2, "replace": 2, "delete": 1, "create": 1},
    }


def test_real_preview_ops_are_trusted_and_replacement_pairs_count_once() -> None:
    found = from_preview(real_preview())
    assert [(r.name, r.op, r.risk.value if r.risk else None) for r in found.resources] == [
        ("customer-vault", "update", "access-loss"),
        ("customer-key-cmk", "replace", "data-loss"),
        ("customer-grant", "replace", "access-loss"),
        ("vault-lock", "delete", "access-loss"),
        ("customer-key-cmk2", "create", None),
        ("sql", "update", "access-loss"),
    ]
    assert found.summary == {"create": 1, "update": 2, "replace": 2, "delete": 1, "same": 19,
                             "read": 0, "import": 0, "destructive": 5, "weakening": 0}


def test_changes_from_detailed_diff_or_from_diff_reasons_when_it_is_null() -> None:
    by_name = {r.name: r for r in from_preview(real_preview()).resources}
    assert [(c.path, c.old, c.new, c.replaces) for c in by_name["customer-vault"].changes] == [
        ("properties.enableRbacAuthorization", True, False, False)]
    assert [(c.path, c.old, c.new, c.replaces) for c in by_name["customer-key-cmk"].changes] == [
        ("keyName", "cmk", "cmk-b", True)]
    assert [(c.path, c.old, c.new, c.replaces) for c in by_name["customer-grant"].changes] == [
        ("principalId", "p1", "(known after apply)", True)]
    assert [(c.path, c.new) for c in by_name["sql"].changes] == [("keyId", "(known after apply)")]


def test_json_has_the_documented_shape_and_never_a_secret_value() -> None:
    document = json.loads(as_json(from_preview(real_preview())))
    assert set(document) == {"resources", "summary"}
    vault = document["resources"][0]
    assert set(vault) == {"urn", "type", "op", "changes", "risk", "why"}
    assert vault["changes"] == [{"path": "properties.enableRbacAuthorization", "old": True,
                                 "new": False, "replaces": False}]
    assert vault["why"].startswith("permission model switch: ")
    assert document["resources"][4]["risk"] is None and document["resources"][4]["why"] is None


def test_markdown_matches_the_golden_file() -> None:
    """Regenerate after an intended change with CMKCTL_UPDATE_GOLDEN=1."""
    text = as_markdown(from_preview(real_preview()), "cmkctl diff: prod")
    golden = GOLDEN / "diff_preview.md"
    if os.environ.get("CMKCTL_UPDATE_GOLDEN"):
        golden.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == golden.read_text(encoding="utf-8"), (
        "Markdown changed; if intended: CMKCTL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest "
        "tests/test_diff_preview.py")


def test_markdown_folds_details_to_stay_under_the_comment_limit() -> None:
    many = Review(tuple(
        ResourceReview(f"urn:pulumi:s::p::{t.STORAGE_ACCOUNT}::sa{i}", t.STORAGE_ACCOUNT,
                       "update", tuple(Change(f"tags.t{j}", "x" * 100, "y" * 100, False)
                                       for j in range(5)))
        for i in range(400)))
    text = as_markdown(many)
    assert len(text) < COMMENT_LIMIT
    assert "Details folded to stay under GitHub's 65,536-character comment limit" in text
    assert "- `update` `azure-native:storage:StorageAccount` **`sa399`** (5 changes)" in text


def run(tmp_path: Path, *plans: dict[str, Any] | str, fmt: str = "text",
        allow: bool = False, encoding: str = "utf-8") -> tuple[int, str, str]:
    paths = []
    for index, content in enumerate(plans):
        path = tmp_path / f"plan{index}.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content),
                        encoding=encoding)
        paths.append(str(path))
    out, err = io.StringIO(), io.StringIO()
    code = review.run(paths, fmt, allow, None, out, err)
    return code, out.getvalue(), err.getvalue()


def test_exit_1_when_destructive_0_when_allowed_and_powershell_utf16_is_read(
        tmp_path: Path) -> None:
    code, out, err = run(tmp_path, real_preview(), encoding="utf-16")
    assert (code, err) == (1, "")
    assert out.splitlines()[-1].startswith("5 destructive change(s) (1 data-loss, 4 access-loss)")
    assert run(tmp_path, real_preview(), allow=True)[0] == 0


def test_exit_0_when_nothing_is_destructive(tmp_path: Path) -> None:
    quiet = real_preview()
    quiet["steps"] = [s for s in quiet["steps"] if s["urn"] == NEW_KEY]
    quiet["changeSummary"] = {"same": 20, "create": 1}
    code, out, _ = run(tmp_path, quiet, fmt="markdown")
    assert code == 0
    assert "**No destructive changes.**" in out


@pytest.mark.parametrize("content, message", [
    ("{not json", "cmkctl diff: plan {0}: not valid JSON"),
    ({"steps": []}, "cmkctl diff: plan {0}: the plan has no steps"),
    ({"steps": [{"op": "explode", "urn": VAULT}]}, "cmkctl diff: plan {0}: steps[0] has op"),
])
def test_unusable_plan_exits_2_with_one_line(tmp_path: Path, content: Any, message: str) -> None:
    code, out, err = run(tmp_path, content)
    assert code == 2 and out == ""
    assert err.startswith(message.format(tmp_path / "plan0.json"))
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file_and_wrong_number_of_files_exit_2(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    missing = str(tmp_path / "nope.json")
    assert review.run([missing], "text", False, None, out, err) == 2
    assert err.getvalue() == f"cmkctl diff: plan {missing}: No such file or directory\n"
    err = io.StringIO()
    assert review.run(["a", "b", "c"], "text", False, None, out, err) == 2
    assert err.getvalue() == ("cmkctl diff: expected BASE.json HEAD.json or PREVIEW.json, "
                              "got 3 files\n")


def test_cli_wires_diff_with_its_options(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(real_preview()))
    assert cli.main(["diff", str(path), "--format", "json", "--allow-destructive"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["destructive"] == 5
    with pytest.raises(SystemExit) as caught:
        cli.main(["diff", str(path), "--format", "yaml"])
    assert caught.value.code == 2


def test_a_key_change_hidden_under_secret_is_still_a_binding_key_change() -> None:
    """Key URIs from a secret stack output print as [secret] on both sides; the CLI's
    detailedDiff still says the key moved."""
    des = "urn:pulumi:prod::dedicated-cmk::" + t.DISK_ENCRYPTION_SET + "::des"
    inputs = {"diskEncryptionSetName": "des", "activeKey": {"keyUrl": "[secret]"}}
    preview = {"steps": [{
        "op": "update", "urn": des, "oldState": st(des, inputs, id="/d"),
        "newState": st(des, inputs), "diffReasons": ["activeKey"],
        "detailedDiff": {"activeKey.keyUrl": {"kind": "update", "inputDiff": True}}}]}
    [found] = from_preview(preview).resources
    assert [(c.path, c.old, c.new) for c in found.changes] == [
        ("activeKey.keyUrl", "[secret]", "[secret]")]
    assert [(f.title, f.path) for f in found.findings] == [
        ("binding key change", "activeKey.keyUrl")]
    assert "from '[secret, before]' to '[secret, after]'" in found.findings[0].what


def test_a_replace_with_null_detailed_diff_uses_replace_reasons() -> None:
    inputs = {"keyName": "cmk", "vaultName": "kv"}
    preview = {"steps": [{
        "op": "replace", "urn": KEY, "oldState": st(KEY, inputs, id="/k"),
        "newState": st(KEY, {**inputs, "vaultName": "kv2"}), "diffReasons": ["vaultName"],
        "replaceReasons": ["vaultName"], "detailedDiff": None}]}
    [key] = from_preview(preview).resources
    assert [(c.path, c.old, c.new, c.replaces) for c in key.changes] == [
        ("vaultName", "kv", "kv2", True)]
    assert key.risk is not None and key.risk.value == "data-loss"


def test_markdown_diff_embeds_the_picture_and_the_data_loss_view(tmp_path: Path) -> None:
    base = {"steps": [{"op": "create", "urn": s["urn"], "newState": s} for s in (
        st(VAULT, {"vaultName": "kv", "properties": {"enablePurgeProtection": True}}),
        st(KEY, {"keyName": "cmk", "vaultName": "kv"}, dependencies=[VAULT]))]}
    head = {"steps": base["steps"][:1]}
    code, out, err = run(tmp_path, base, head, fmt="markdown")
    assert (code, err) == (1, "")
    headings = [line for line in out.splitlines() if line.startswith("#")]
    assert headings == ["## cmkctl diff", "### Data loss", "### Picture of the plan",
                        "### Data-loss view", "### Changes per resource"]
    picture = out.split("### Picture of the plan")[1].split("### Data-loss view")[0]
    assert picture.strip().startswith("```mermaid\n---\nconfig:")
    assert "  class n1 dataloss" in picture and 'legend_dataloss["DATA LOSS"]:::dataloss' in picture
    view = out.split("### Data-loss view")[1]
    assert "| Vault or current key deleted | bound stores become inaccessible in about 10 " \
           "minutes | **recoverable within 90 days** |" in view


def test_a_section_too_large_for_one_comment_is_left_out_whole() -> None:
    huge = "```mermaid\n" + "  n0 --> n1\n" * 7000 + "```"
    text = as_markdown(from_preview(real_preview()), sections=[("Picture of the plan", huge),
                                                             ("Data-loss view", "| a |")])
    assert len(text) < COMMENT_LIMIT and "n0 --> n1" not in text
    assert "_Left out: 84,014 characters would pass GitHub's 65,536-character comment limit" in text
    assert "| a |" in text
