"""``cmkctl fleet`` under hostile or broken input: every shard accounted for, runs that end,
names that are data, stack files that stay in their directory."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmkctl import cli
from cmkctl.fleet import pool
from cmkctl.fleet import run as fleet
from cmkctl.fleet.generate import write_fleet
from cmkctl.fleet.job import FleetJob
from cmkctl.fleet.pool import run_stacks
from cmkctl.fleet.run import Output
from cmkctl.fleet.select import SelectionError, select
from cmkctl.fleet.summary import Part, Rules
from cmkctl.plan.recorder import ROOT
from cmkctl.stacks.names import StackNameError, check_stack_name

SEED = 7


def summary_of(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "summary.json").read_text())
    return document


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five generated stacks run as three shards (s1, s2, s3) and as one run (all)."""
    base = tmp_path_factory.mktemp("shards")
    write_fleet(5, base / "stacks", SEED)
    common = ["fleet", "--stack-dir", str(base / "stacks"), "--jobs", "1", "--format", "json"]
    for index in (1, 2, 3):
        assert cli.main([*common, "--shard", f"{index}/3", "--out-dir",
                         str(base / f"s{index}")]) == 0
    assert cli.main([*common, "--out-dir", str(base / "all")]) == 0
    return base


def copy_shards(shards: Path, target: Path) -> list[Path]:
    copies = []
    for index in (1, 2, 3):
        copies.append(target / f"s{index}")
        shutil.copytree(shards / f"s{index}", copies[-1])
    return copies


def merge(capsys: pytest.CaptureFixture[str], *dirs: Path, out: Path) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["fleet", "merge", *map(str, dirs), "--out-dir", str(out), "--format",
                     "json"])
    return code, capsys.readouterr().err


def test_each_shard_records_its_place_in_the_fleet(shards: Path) -> None:
    whole = summary_of(shards / "all")
    for index in (1, 2, 3):
        part = summary_of(shards / f"s{index}")
        assert part["shard"] == {"index": index, "count": 3}
        assert part["selection"] == whole["selection"]
    assert whole["shard"] == {"index": 1, "count": 1}
    assert whole["selection"]["stacks"] == 5 and len(whole["selection"]["digest"]) == 64


def test_a_complete_set_merges_into_the_one_run(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = merge(capsys, shards / "s3", shards / "s1", shards / "s2", out=tmp_path / "m")
    assert (code, err) == (0, "")
    assert summary_of(tmp_path / "m") == summary_of(shards / "all")
    # The merged summary is itself one complete set.
    assert merge(capsys, tmp_path / "m", out=tmp_path / "again") == (0, "")


def test_a_missing_shard_is_a_failure_not_all_pass(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = merge(capsys, shards / "s1", shards / "s3", out=tmp_path / "m")
    assert (code, err) == (2, "cmkctl fleet merge: shard 2/3 missing (have 1/3, 3/3); a shard "
                              "that crashed or was not downloaded cannot be counted as "
                              "passing\n")
    assert not (tmp_path / "m" / "summary.json").exists()


def test_a_shard_given_twice_is_refused(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(shards / "s2", tmp_path / "again")
    code, err = merge(capsys, shards / "s1", shards / "s2", tmp_path / "again", shards / "s3",
                      out=tmp_path / "m")
    assert (code, err) == (2, f"cmkctl fleet merge: shard 2/3 is given twice ({shards / 's2'} "
                              f"and {tmp_path / 'again'}); give each shard's directory once\n")


def test_shards_of_other_cuts_or_fleets_are_refused(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = merge(capsys, shards / "s1", shards / "all", out=tmp_path / "m")
    assert code == 2
    assert err == ("cmkctl fleet merge: the shards were cut differently (N = [1, 3]); every "
                   "shard of one run uses the same --shard I/N\n")
    other = tmp_path / "other"
    write_fleet(6, other, SEED)
    assert cli.main(["fleet", "--stack-dir", str(other), "--stacks", "adatum*", "--jobs", "1",
                     "--shard", "2/3", "--out-dir", str(tmp_path / "o2"),
                     "--format", "json"]) == 0
    code, err = merge(capsys, shards / "s1", tmp_path / "o2", shards / "s3", out=tmp_path / "m")
    assert code == 2
    assert err.startswith("cmkctl fleet merge: the shards come from different fleets")


@pytest.mark.parametrize(("forge", "message"), [
    (lambda d: d["stacks"].pop(),
     "the shards hold 4 stacks, not the 5 stacks their selection names (digest differs); a "
     "summary was edited or comes from another fleet"),
    (lambda d: d["stacks"].append({**d["stacks"][0], "stack": "zz-extra"}),
     "the shards hold 6 stacks, not the 5 stacks their selection names (digest differs); a "
     "summary was edited or comes from another fleet"),
    (lambda d: d.pop("shard"),
     "{summary}: no valid shard {{index, count}}; written by an older cmkctl or not by cmkctl "
     "fleet: rerun the shard"),
    (lambda d: d.update(shard={"index": 4, "count": 3}),
     "{summary}: no valid shard {{index, count}}; written by an older cmkctl or not by cmkctl "
     "fleet: rerun the shard"),
    (lambda d: d["selection"].update(stacks="5"),
     "{summary}: no valid selection {{patterns, stacks, digest}}; written by an older cmkctl "
     "or not by cmkctl fleet: rerun the shard"),
    (lambda d: d["stacks"][0].update(stack="../outside/leak"),
     "{summary}: stacks[0].stack '../outside/leak' is not a stack name the Pulumi CLI "
     "accepts; refusing the summary"),
    (lambda d: d["stacks"][0].update(stack="/etc/passwd"),
     "{summary}: stacks[0].stack '/etc/passwd' is not a stack name the Pulumi CLI accepts; "
     "refusing the summary"),
    (lambda d: d["stacks"][0].update(stack="<img src=x onerror=alert(1)>"),
     "{summary}: stacks[0].stack '<img src=x onerror=alert(1)>' is not a stack name the "
     "Pulumi CLI accepts; refusing the summary"),
])
def test_a_forged_shard_summary_is_refused(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], forge: Any, message: str
) -> None:
    dirs = copy_shards(shards, tmp_path)
    document = summary_of(dirs[0])
    forge(document)
    (dirs[0] / "summary.json").write_text(json.dumps(document))
    code, err = merge(capsys, *dirs, out=tmp_path / "m")
    assert (code, err) == (2, "cmkctl fleet merge: "
                              + message.format(summary=dirs[0] / "summary.json") + "\n")
    assert not (tmp_path / "m").exists()


def test_a_stack_moved_to_another_shard_is_refused(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = copy_shards(shards, tmp_path)
    first, second = summary_of(dirs[0]), summary_of(dirs[1])
    second["stacks"].append(first["stacks"].pop())
    (dirs[0] / "summary.json").write_text(json.dumps(first))
    (dirs[1] / "summary.json").write_text(json.dumps(second))
    code, err = merge(capsys, *dirs, out=tmp_path / "m")
    assert (code, err) == (2, f"cmkctl fleet merge: {dirs[0] / 'summary.json'}: shard 1/3 does "
                              "not hold the stacks --shard gives it; a summary was edited\n")


def test_merge_copies_plans_only_from_inside_the_shard(
    shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = copy_shards(shards, tmp_path)
    stack = summary_of(dirs[0])["stacks"][0]["stack"]
    secret = tmp_path / "secret.json"
    secret.write_text('{"private": "do not copy"}')
    (dirs[0] / f"{stack}.json").unlink()
    (dirs[0] / f"{stack}.json").symlink_to(secret)
    assert merge(capsys, *dirs, out=tmp_path / "m")[0] == 0
    assert not (tmp_path / "m" / f"{stack}.json").exists()
    assert len(list((tmp_path / "m").glob("*.json"))) == 5  # four plans and the summary


@pytest.mark.parametrize(("name", "message"), [
    ("", "a stack name may not be empty"),
    ("x" * 101, "a stack name cannot exceed 100 characters"),
    ("my bad", "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
               "invalid character ' ' at position 2"),
    ("foo/bar", "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
                "invalid character '/' at position 3"),
    ("!my stack!", "a stack name may only contain alphanumeric, hyphens, underscores, or "
                   "periods: invalid character '!' at position 0"),
    ("ok\n", "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
             "invalid character '\\n' at position 2"),
    ("kv-é", "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
             "invalid character 'é' at position 3"),
])
def test_stack_names_follow_the_pulumi_clis_rules(name: str, message: str) -> None:
    """The cases and messages of the CLI's own test (sdk/go/common/tokens/stack_name_test.go),
    plus a line break and a letter outside ASCII."""
    with pytest.raises(StackNameError) as error:
        check_stack_name(name)
    assert str(error.value) == message
    for good in ("my-stack", "stack", "s-92", "stack_foo", "foo_bar_123", "a.b", "x" * 100):
        assert check_stack_name(good) == good


def test_a_stack_file_with_a_hostile_name_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_fleet(1, tmp_path, SEED)
    hostile = "Pulumi.<img src=x onerror=alert(1)>.yaml"
    shutil.copy(next(tmp_path.iterdir()), tmp_path / hostile)
    with pytest.raises(SelectionError) as error:
        select(tmp_path, None)
    assert str(error.value) == (
        f"{tmp_path}: '{hostile}': a stack name may only contain alphanumeric, hyphens, "
        "underscores, or periods: invalid character '<' at position 0; rename the file "
        "(Pulumi.<stack>.yaml)")
    assert cli.main(["fleet", "--stack-dir", str(tmp_path), "--out-dir",
                     str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"cmkctl fleet: {error.value}\n"
    assert not (tmp_path / "out").exists()


def customer_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.customer.yaml").read_text())
    return config


def test_stack_files_that_lead_outside_or_never_end_are_refused(tmp_path: Path) -> None:
    """A link out of the stack directory is not read (its content never reaches a message);
    a FIFO, as the stack itself or behind a stack reference, fails at once instead of
    waiting for a writer that never comes."""
    stacks, outside = tmp_path / "stacks", tmp_path / "outside"
    stacks.mkdir()
    outside.mkdir()
    (outside / "Pulumi.leak.yaml").write_text("TOP-SECRET-ONE-LINER\n")
    (stacks / "Pulumi.leak.yaml").symlink_to(outside / "Pulumi.leak.yaml")
    os.mkfifo(stacks / "Pulumi.pipe.yaml")
    ours = customer_config()
    del ours["config"]["dedicated-cmk:providerAppClientId"]
    ours["config"]["dedicated-cmk:providerStack"] = "acme/dedicated-cmk/pipe"
    (stacks / "Pulumi.ours.yaml").write_text(yaml.safe_dump(ours))
    (stacks / "Pulumi.inside.yaml").write_text(yaml.safe_dump(customer_config()))
    (stacks / "Pulumi.linked.yaml").symlink_to(stacks / "Pulumi.inside.yaml")
    assert select(stacks, None) == ["inside", "leak", "linked", "ours", "pipe"]
    (tmp_path / "out").mkdir()
    started = time.monotonic()
    results = {r["stack"]: r for r in run_stacks(FleetJob(ROOT, stacks, tmp_path / "out",
                                                         stack_timeout=60), select(stacks, None),
                                                2, lambda _: None)}
    assert time.monotonic() - started < 60
    errors = {stack: r["error"] for stack, r in results.items()}
    assert errors == {
        "inside": None,
        "linked": None,  # a link that stays in the directory is an ordinary stack file
        "leak": "Pulumi.leak.yaml: is a symbolic link to a file outside its "
                "directory; refusing to read it (copy the file into the directory instead)",
        "pipe": "Pulumi.pipe.yaml: is not a regular file (a FIFO, device or directory); a "
                "stack file must be a plain YAML file",
        "ours": "stack 'ours' (ours): providerStack acme/dedicated-cmk/pipe: Pulumi.pipe.yaml: "
                "is not a regular file (a FIFO, device or directory); a stack file must be a "
                "plain YAML file",
    }
    assert "TOP-SECRET" not in json.dumps(results)


HANGING_PROGRAM = '''\
"""A program that never ends, two ways: a Python loop, and a read of a FIFO no one writes;
and one that takes its process down."""
import os
from pathlib import Path

import pulumi

if pulumi.get_stack() == "dies":
    os._exit(9)

if pulumi.get_stack() == "loops":
    while True:
        pass
if pulumi.get_stack() == "blocks":
    (Path(__file__).parent / "never.fifo").read_text()
'''


def hanging_project(tmp_path: Path) -> Path:
    """A project whose program loops for stack ``loops``, blocks for ``blocks``, exits its
    process for ``dies`` and does nothing for ``fine``; every stack file is valid."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "__main__.py").write_text(HANGING_PROGRAM)
    os.mkfifo(root / "never.fifo")
    for stack in ("blocks", "dies", "fine", "loops"):
        shutil.copy(ROOT / "Pulumi.customer.yaml", root / f"Pulumi.{stack}.yaml")
    return root


def test_stuck_stacks_are_killed_at_the_stack_timeout_and_the_fleet_ends(
    tmp_path: Path
) -> None:
    root = hanging_project(tmp_path)
    job = FleetJob(root, root, tmp_path / "out", stack_timeout=3)
    (tmp_path / "out").mkdir()
    started = time.monotonic()
    results = run_stacks(job, ["loops", "dies", "blocks", "fine"], 2, lambda _: None)
    assert time.monotonic() - started < 90
    by_name = {r["stack"]: r for r in results}
    assert [r["stack"] for r in results] == ["blocks", "dies", "fine", "loops"]
    assert by_name["dies"]["error"] == (
        "the worker process running this stack died before reporting (killed or out of "
        "memory); rerun the fleet with fewer --jobs")
    for stack in ("blocks", "loops"):
        assert by_name[stack]["stopped"] == "stack timeout"
        assert by_name[stack]["error"] == (
            "stopped after 3 s (--stack-timeout): the program did not finish (a loop, or an "
            "output that never resolves?); its worker process was killed")
    assert (by_name["fine"]["error"], by_name["fine"]["stopped"]) == (None, None)


PID_PROGRAM = '''\
"""Writes the id of the process that runs it, one file per stack."""
import os
from pathlib import Path

import pulumi

(Path(__file__).parent / "pids" / pulumi.get_stack()).write_text(str(os.getpid()))
'''


def test_a_worker_is_replaced_after_its_share_of_stacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays bounded by the workers, not the fleet: each serves at most its share."""
    root = tmp_path / "project"
    (root / "pids").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "__main__.py").write_text(PID_PROGRAM)
    stacks = [f"s{index}" for index in range(5)]
    for stack in stacks:
        shutil.copy(ROOT / "Pulumi.customer.yaml", root / f"Pulumi.{stack}.yaml")
    monkeypatch.setattr(pool, "STACKS_PER_WORKER", 2)
    job = FleetJob(root, root, tmp_path / "out")
    (tmp_path / "out").mkdir()
    results = run_stacks(job, stacks, 1, lambda _: None)
    assert [r["error"] for r in results] == [None] * 5
    pids = [(root / "pids" / stack).read_text() for stack in stacks]
    assert [pids.index(pid) for pid in pids] == [0, 0, 2, 2, 4]


def test_the_fork_server_loads_snowflake_only_for_a_fleet_that_has_a_snowflake_stack(
    tmp_path: Path
) -> None:
    """Snowflake's SDK is loaded once for all workers when a stack needs it, never for a fleet
    without one; a stack file that cannot be read (a FIFO) is the run's to report, not a hang."""
    os.mkfifo(tmp_path / "Pulumi.pipe.yaml")
    for stack in ("customer", "snowflake"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    common = ["cmkctl.fleet.preload", "pulumiverse_time"]
    assert pool.preload(tmp_path, ["pipe", "customer", "missing"]) == common
    assert pool.preload(tmp_path, ["pipe", "customer", "snowflake"]) == [
        *common, "components.provider.snowflake_tss"]


def test_the_fleet_deadline_ends_the_run_and_the_summary_marks_what_did_not_finish(
    tmp_path: Path
) -> None:
    root = hanging_project(tmp_path)
    job = FleetJob(root, root, tmp_path / "out", stack_timeout=600, fleet_timeout=3)
    out, err = io.StringIO(), io.StringIO()
    stacks = ["blocks", "fine", "loops"]
    started = time.monotonic()
    code = fleet.run(stacks, job, 1, Rules(), Output("json", out, err), Part.whole(stacks))
    assert time.monotonic() - started < 90
    assert code == 1
    summary = summary_of(tmp_path / "out")
    assert json.loads(out.getvalue()) == summary
    deadline = "the fleet deadline (3 s, --fleet-timeout)"
    assert {s["stack"]: (s["stopped"], s["error"]) for s in summary["stacks"]} == {
        "blocks": ("fleet deadline", f"stopped at {deadline} before it finished; its worker "
                                     "process was killed"),
        "fine": ("fleet deadline", f"not run: {deadline} came first"),
        "loops": ("fleet deadline", f"not run: {deadline} came first"),
    }
    assert (summary["totals"]["stopped"], summary["totals"]["failed"]) == (3, 3)


def test_the_gate_judges_plans_made_elsewhere_and_takes_nothing_else_on_trust(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The code under review makes the plans (and may lie in its summary); the gate run
    from a trusted checkout (``--plans-dir``) checks every plan itself, fails a stack
    whose plan is missing, and reads the producer's summary only for why."""
    stacks, head, gate = tmp_path / "stacks", tmp_path / "head", tmp_path / "gate"
    write_fleet(3, stacks, SEED)
    run = ["fleet", "--stack-dir", str(stacks), "--jobs", "1", "--format", "json"]
    assert cli.main([*run, "--out-dir", str(head)]) == 0
    with_vault = next(s for s in select(stacks, None)
                      if '"azure-native:keyvault:Vault"' in (head / f"{s}.json").read_text())
    plan = json.loads((head / f"{with_vault}.json").read_text())
    for step in plan["steps"]:
        if step["newState"]["type"] == "azure-native:keyvault:Vault":
            step["newState"]["inputs"]["properties"]["enablePurgeProtection"] = False
    (head / f"{with_vault}.json").write_text(json.dumps(plan))
    missing = next(s for s in select(stacks, None) if s != with_vault)
    (head / f"{missing}.json").unlink()
    claimed = summary_of(head)
    for entry in claimed["stacks"]:
        entry["error"] = "crashed" if entry["stack"] == missing else None
    (head / "summary.json").write_text(json.dumps(claimed))
    capsys.readouterr()
    assert cli.main([*run, "--plans-dir", str(head), "--out-dir", str(gate)]) == 1
    judged = {s["stack"]: s for s in summary_of(gate)["stacks"]}
    assert [v["policy"] for v in judged[with_vault]["violations"]
            if v["level"] == "mandatory"] == ["vault-purge-protection"]
    assert judged[missing]["error"] == (
        f"no plan {missing}.json in {head}: the preview of this stack did not produce one; "
        "its run reported: crashed")
    assert sum(s["ok"] for s in judged.values()) == 1
