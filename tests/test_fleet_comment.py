"""The fleet's pull-request comment: what changed first, grouped by rule, small, escaped.

The golden file is the comment for a generated 100-stack fleet in which a pull request
renames a vault, resizes a storage account, changes a key's rotation, breaks one stack's
config and adds a stack. Regenerate it after an intended change with
CMKCTL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_fleet_comment.py
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from cmkctl import cli
from cmkctl.fleet.fixes import CONFIG_FIXES
from cmkctl.fleet.generate import write_fleet
from cmkctl.fleet.job import stack_result
from cmkctl.fleet.progress import progress
from cmkctl.fleet.report import (
    GITHUB_COMMENT_LIMIT,
    MARKER,
    destructive_items,
    first_problem,
    markdown,
    print_table,
)
from cmkctl.fleet.summary import Part, Rules, summarise
from components.config.keys import KEYS

GOLDEN = Path(__file__).parent / "golden" / "fleet_comment.md"
SEED = 11
RENAMED, RESIZED, ROTATED, BROKEN = "adatum0020", "adatum0000", "adatum0040", "contoso0004"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path.name, old)
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def comment_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The judged summary of the edited fleet against the original one. The head is
    previewed once; the base plans of unchanged stacks are those same plans, the edited
    stacks' base plans come from their original files; the gate judges with --plans-dir."""
    work = tmp_path_factory.mktemp("comment")
    original, head = work / "original", work / "head"
    write_fleet(100, original, SEED)
    shutil.copytree(original, head)
    edit(head / f"Pulumi.{RENAMED}.yaml", f"kv-{RENAMED}-cmk", f"kv-{RENAMED}-new")
    edit(head / f"Pulumi.{RESIZED}.yaml", "storageSku: Standard_ZRS", "storageSku: Standard_GZRS")
    edit(head / f"Pulumi.{ROTATED}.yaml", "keyRotateAfterDays: 90", "keyRotateAfterDays: 180")
    edit(head / f"Pulumi.{BROKEN}.yaml", "vaultName: kv-", "vaultName: kv--")
    write_fleet(101, work / "more", SEED)
    added = next(p for p in (work / "more").iterdir() if not (head / p.name).exists())
    shutil.copy(added, head / added.name)
    run = ["fleet", "--jobs", "2", "--format", "json"]
    assert cli.main([*run, "--stack-dir", str(head), "--out-dir", str(work / "plans")]) == 1
    edited = [RENAMED, RESIZED, ROTATED, BROKEN]
    assert cli.main([*run, "--stack-dir", str(original), "--stacks", *edited,
                     "--out-dir", str(work / "was")]) == 0
    assert json.loads((work / "plans" / "summary.json").read_text())["totals"]["errors"] == 1
    base = work / "base"
    base.mkdir()
    for plan in (work / "plans").glob("*.json"):
        if plan.stem not in {"summary", added.name.split(".")[1], *edited}:
            shutil.copy(plan, base / plan.name)
    for stack in edited:
        shutil.copy(work / "was" / f"{stack}.json", base / f"{stack}.json")
    assert cli.main([*run, "--stack-dir", str(head), "--plans-dir", str(work / "plans"),
                     "--base-dir", str(base), "--out-dir", str(work / "judged")]) == 1
    summary: dict[str, Any] = json.loads((work / "judged" / "summary.json").read_text())
    summary["options"]["base"] = "origin/main"  # the label a --base-ref run shows
    return summary


def test_the_comment_matches_the_golden_file(comment_summary: dict[str, Any]) -> None:
    text = markdown(comment_summary)
    if os.environ.get("CMKCTL_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "the fleet comment changed; if intended: CMKCTL_UPDATE_GOLDEN=1 .venv/bin/python -m "
        "pytest tests/test_fleet_comment.py")


def test_the_comment_leads_with_what_changed(comment_summary: dict[str, Any]) -> None:
    text = markdown(comment_summary)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert [h.split(" (")[0] for h in headings] == [
        "### ❌ cmkctl fleet: 2 of 101 stacks fail", "#### ❌ Failed to run",
        "#### ⚠️ Destructive changes", "#### Other changes", "#### Compliance findings by rule"]
    items = destructive_items(comment_summary)
    assert {stack for stack, _ in items} == {RENAMED}
    # The heading's count is the number of items listed, and the verdict says the same.
    listed = [line for line in text.splitlines() if line.startswith(f"- `{RENAMED}`")]
    assert len(listed) == len(items)
    assert f"#### ⚠️ Destructive changes ({len(items)})" in headings
    assert headings[0].endswith(f"; {len(items)} destructive changes)")
    # The failed stack's first real problem names the file and the key.
    assert (f"- `{BROKEN}`: Pulumi\\.{BROKEN}\\.yaml\\: dedicated\\-cmk\\:vaultName\\: "
            f"\\'kv\\-\\-{BROKEN}\\-cmk\\'") in text
    # The notice diff prints for a rotation change reaches the comment.
    assert "key properties change that Azure will not apply" in text
    # One line per rule, with the config key that fixes it and the value as YAML spells it.
    rbac = [line for line in text.splitlines() if "`vault-rbac-authorization`" in line]
    assert len(rbac) == 1
    assert "is false\\; set it to true\\." in rbac[0]
    assert "Fix: `pulumi config set vaultPermissionModel rbac`." in rbac[0]
    assert "False" not in text
    assert text.rstrip().endswith("stacks unchanged against `origin/main`.")
    assert len(text.encode()) < 10_000


def test_every_config_fix_names_a_key_the_program_reads() -> None:
    for rule, fix in CONFIG_FIXES.items():
        match = re.fullmatch(r"pulumi config set (\w+) \S+", fix)
        assert match and match[1] in KEYS, rule


def quiet_fleet(count: int) -> list[dict[str, Any]]:
    stacks = [{**stack_result(f"customer-{i:03d}"), "resources": 20,
               "changes": {"create": 0, "update": 0, "replace": 0, "delete": 0, "same": 20},
               "findings": [], "notices": [], "newStack": False, "baseError": None}
              for i in range(count)]
    return stacks


def test_five_hundred_stacks_with_five_changes_stay_small_and_list_every_destructive_one(
) -> None:
    stacks = quiet_fleet(500)
    advisory = {"policy": "vault-rbac-authorization", "urn": "urn:pulumi:x::p::t::v",
                "level": "advisory", "message": "properties.enableRbacAuthorization is false; "
                "set it to true.", "undecided": False}
    for stack in stacks[:150]:
        stack |= {"advisory": 1, "violations": [advisory]}
    finding = {"urn": "urn:pulumi:x::dedicated-cmk::azure-native:keyvault:Vault::customer-vault",
               "type": "azure-native:keyvault:Vault", "op": "replace", "risk": "data-loss",
               "title": "replace of key vault", "what": "The vault is deleted and created "
               "again; every key in it is lost.", "safe": "Keep the name."}
    for stack in stacks[200:205]:
        stack |= {"changes": {**stack["changes"], "replace": 3, "same": 17},
                  "findings": [finding] * 3, "destructive": 3}
    summary = summarise(stacks, Rules(), "origin/main",
                        Part.whole([s["stack"] for s in stacks]).document())
    text = markdown(summary)
    assert len(text.encode()) < 10_000
    assert text.count("replace of key vault") == 15
    assert "#### ⚠️ Destructive changes (15)" in text
    assert "495 of 500 stacks unchanged" in text


def test_destructive_changes_are_never_cut_even_when_the_rest_must_go() -> None:
    stacks = quiet_fleet(40)
    finding = {"urn": "urn:pulumi:x::p::azure-native:keyvault:Key::k", "op": "delete",
               "type": "azure-native:keyvault:Key", "risk": "data-loss",
               "title": "delete of key", "what": "w " * 20, "safe": "s"}
    violation = {"policy": f"rule-{0}", "urn": "", "level": "mandatory",
                 "message": "m " * 200, "undecided": False}
    for index, stack in enumerate(stacks):
        stack |= {"findings": [finding], "destructive": 1,
                  "violations": [{**violation, "policy": f"rule-{index}"}], "mandatory": 1}
    summary = summarise(stacks, Rules(), "b", Part.whole([s["stack"] for s in stacks]).document())
    text = markdown(summary, limit=8_000)
    assert text.count("delete of key") == 40
    assert "lines of compliance findings left out" in text
    assert text.splitlines()[0] == MARKER


def test_a_fleet_wide_destructive_change_is_listed_briefly_but_whole() -> None:
    """Three hundred destructive changes with their explanations would be ten times over
    GitHub's limit: each is still listed (stack, resource, type, class, title)."""
    stacks = quiet_fleet(100)
    finding = {"urn": "urn:pulumi:x::p::azure-native:keyvault:Key::customer-key",
               "type": "azure-native:keyvault:Key", "op": "replace", "risk": "data-loss",
               "title": "replace of key", "what": "w " * 250, "safe": "s " * 100}
    for stack in stacks:
        stack |= {"findings": [finding] * 3, "destructive": 3,
                  "changes": {**stack["changes"], "replace": 3, "same": 17}}
    text = markdown(summarise(stacks, Rules(), "b", Part.whole([s["stack"] for s in stacks])
                              .document()))
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert text.count("**data\\-loss**, replace of key.") == 300
    assert "_Listed briefly to fit one comment" in text
    assert "w w w" not in text


def test_huge_texts_never_push_the_comment_over_the_limit() -> None:
    """Titles, messages, errors and the base ref are free text from plans and stack files:
    however long, the comment fits, and every failed stack and destructive change is in it."""
    huge = "111:::::::::::" * 700
    stacks = quiet_fleet(30)
    finding = {"urn": f"urn:pulumi:x::p::azure-native:keyvault:Key::{huge}", "op": "delete",
               "type": huge, "risk": "data-loss", "title": huge, "what": huge, "safe": huge}
    violation = {"policy": "rule", "urn": "", "level": "mandatory", "message": huge,
                 "undecided": False}
    for stack in stacks[:10]:
        stack |= {"findings": [finding], "destructive": 1, "changes": {"delete": 1},
                  "violations": [violation], "mandatory": 1}
    for stack in stacks[10:20]:
        stack |= {"error": f"invalid stack configuration (1 problem)\n  - {huge}",
                  "changes": None}
    summary = summarise(stacks, Rules(), huge, Part.whole([s["stack"] for s in stacks])
                        .document())
    text = markdown(summary)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "#### ⚠️ Destructive changes (10)" in text
    assert all(f"`{s['stack']}`" in text for s in stacks[:20])


def test_more_destructive_changes_than_a_comment_holds_are_counted_per_stack() -> None:
    """Four thousand destructive changes cannot be listed one by one in 65,536 characters:
    every stack that has them is still named, with its count per class."""
    stacks = quiet_fleet(500)
    finding = {"urn": "urn:pulumi:x::p::azure-native:keyvault:Key::customer-key-with-a-name",
               "type": "azure-native:keyvault:Key", "op": "replace", "risk": "data-loss",
               "title": "replace of key", "what": "w", "safe": "s"}
    for stack in stacks:
        stack |= {"findings": [finding] * 8, "destructive": 8,
                  "changes": {**stack["changes"], "replace": 8}}
    text = markdown(summarise(stacks, Rules(), "b", Part.whole([s["stack"] for s in stacks])
                              .document()))
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "#### ⚠️ Destructive changes (4000 in 500 stacks)" in text
    assert text.count(": 8 data\\-loss") == 500


HOSTILE = [
    "<img src=x onerror=alert(1)>", "</details><details open>", "`x` | y", "a\n### b",
    "@everyone", "<!-- cmkctl-fleet -->", "[link](javascript:alert(1))", "&lt;b&gt;",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_names_and_messages_stay_text_in_every_section(hostile: str) -> None:
    """Names come validated from stack files, but the comment does not rely on it: a name,
    URN, type, title or message that tries to be HTML, a heading, a fence, a mention or the
    marker is shown as text everywhere (failed, destructive, notices, rules, folds)."""
    finding = {"urn": f"urn:pulumi:s::p::t::{hostile}", "type": hostile, "op": "delete",
               "risk": hostile, "title": hostile, "what": hostile, "safe": hostile}
    violation = {"policy": hostile, "urn": hostile, "level": "advisory", "message": hostile,
                 "undecided": False}
    stacks = [
        {**stack_result(hostile, f"invalid stack configuration (1 problem)\n  - {hostile}"),
         "changes": None},
        {**stack_result(f"{hostile}-d"), "findings": [finding], "destructive": 1,
         "changes": {"delete": 1}, "notices": [finding]},
        *({**stack_result(f"{hostile}-{i}"), "violations": [violation], "advisory": 1,
           "changes": {"update": 1}, "notices": [finding]} for i in range(12)),
    ]
    text = markdown(summarise(stacks, Rules(), hostile,
                              Part.whole([s["stack"] for s in stacks]).document()))
    lines = text.splitlines()
    rest = re.sub(r"(`+).+?\1", "", text)  # code spans show anything literally
    assert lines[0] == MARKER and rest.count(MARKER) == 1
    # Outside code spans, only the comment's own HTML: the marker and the folds it writes.
    assert set(re.findall(r"(?<!\\)<[!/]?[A-Za-z-]*", rest)) <= {
        "<!--", "<details", "<summary", "</summary", "</details"}
    assert len(re.findall(r"(?<!\\)<details", rest)) == 1
    assert len(re.findall(r"(?<!\\)</details", rest)) == 1
    assert [line for line in lines if line.startswith("#")] == [
        line for line in lines if re.match(r"#### (❌ Failed|⚠️ Destructive|Other|Compliance)|### ",
                                           line)]
    assert "@everyone" not in rest
    assert not re.search(r"(?<!\\)\]\(", rest)  # no link


def test_first_problem_names_the_file_and_the_first_real_problem() -> None:
    error = ("invalid stack configuration (2 problems); nothing was created:\n"
             "  - dedicated-cmk:vaultName: 'kv--x' has two hyphens in a row\n"
             "    fix: pulumi config set vaultName kv-x\n"
             "  - dedicated-cmk:keySize: 1024 is below 2048\n    fix: x")
    assert first_problem(stack_result("s1", error)) == (
        "Pulumi.s1.yaml: dedicated-cmk:vaultName: 'kv--x' has two hyphens in a row "
        "(fix: pulumi config set vaultName kv-x) (and 1 more)")
    assert first_problem(stack_result("s2", "Pulumi.s2.yaml: is not a regular file")) == \
        "Pulumi.s2.yaml: is not a regular file"


def test_the_terminal_outputs_show_rich_markup_in_plan_data_as_text() -> None:
    """A message quoting ``[/x]`` or ``[bold]`` (a config value, a plan's text) is printed
    as it is by the progress bar and the table, never parsed by rich (which would crash)."""
    error = "invalid stack configuration (1 problem)\n  - k: '[/x] [bold]y\x1b[31m' is bad"
    out = io.StringIO()
    with progress(1, out, terminal=True) as done:
        done(stack_result("bad", error))
    assert "Pulumi.bad.yaml: k: '[/x] [bold]y [31m' is bad" in out.getvalue()
    summary = summarise([stack_result("bad", error)], Rules(), None,
                        Part.whole(["bad"]).document())
    table = io.StringIO()
    print_table(summary, table, terminal=False)
    assert "'[/x] [bold]y [31m' is bad" in table.getvalue()
