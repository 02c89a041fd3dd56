"""``cmkctl fleet``: a generated fleet in a worker pool, failures, shards, merge and reports."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmkctl import cli
from cmkctl.fleet.base import BaseRefError, build_base_plans
from cmkctl.fleet.generate import write_fleet
from cmkctl.fleet.job import FleetJob, stack_result
from cmkctl.fleet.pool import run_stacks
from cmkctl.fleet.progress import progress
from cmkctl.fleet.report import GITHUB_COMMENT_LIMIT, MARKER
from cmkctl.fleet.select import SelectionError, parse_shard, project_stack_dir, select, shard
from cmkctl.fleet.stack import run_stack
from cmkctl.fleet.summary import Part
from cmkctl.plan.preview import build_plan
from cmkctl.plan.recorder import ROOT, stack_config
from cmkctl.review.diff import SUMMARY_OPS, compare
from components.config.problems import ConfigError
from components.config.stack import load
from tests.stacks import committed_project

FLEET_SIZE = 50
SEED = 7
RBAC_RULE = "vault-rbac-authorization"
VAULT_ELSEWHERE_RULE = "binding-vault-in-stack"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated fleet of 50 stacks and one pool run of it (2 workers) in ``out``."""
    base = tmp_path_factory.mktemp("fleet")
    write_fleet(FLEET_SIZE, base / "stacks", SEED)
    code = cli.main(["fleet", "--stack-dir", str(base / "stacks"), "--out-dir",
                     str(base / "out"), "--jobs", "2", "--format", "json"])
    assert code == 0
    return base


def summary_of(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / "summary.json").read_text())
    return document


def stack_files(directory: Path) -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text())["config"]
            for p in sorted(directory.glob("Pulumi.*.yaml"))}


def test_generated_fleet_passes_the_pack_in_a_pool(fleet: Path) -> None:
    summary = summary_of(fleet / "out")
    stacks = summary["stacks"]
    assert [s["stack"] for s in stacks] == select(fleet / "stacks", None)
    assert len(stacks) == FLEET_SIZE
    assert all(s["ok"] and s["error"] is None and s["mandatory"] == 0 for s in stacks)
    # The only findings are advisories: the RBAC rule exactly on the access-policy vaults, and
    # on provider-only stacks, each store bound to a vault the pack cannot see there.
    configs = {name.split(".")[1]: c for name, c in stack_files(fleet / "stacks").items()}
    access_policy = {name for name, c in configs.items()
                     if c.get("dedicated-cmk:vaultPermissionModel") == "accessPolicy"}
    provider_only = {name for name, c in configs.items()
                     if c.get("dedicated-cmk:mode") == "provider"}
    assert access_policy and provider_only
    rules = {s["stack"]: {v["policy"] for v in s["violations"]} for s in stacks}
    assert {name for name, found in rules.items() if RBAC_RULE in found} == access_policy
    assert {name for name, found in rules.items()
            if VAULT_ELSEWHERE_RULE in found} == provider_only
    assert all(found <= {RBAC_RULE, VAULT_ELSEWHERE_RULE} for found in rules.values())
    assert summary["totals"] == {
        "stacks": FLEET_SIZE, "ok": FLEET_SIZE, "failed": 0, "errors": 0,
        "resources": sum(s["resources"] for s in stacks), "mandatory": 0,
        "advisory": sum(s["advisory"] for s in stacks), "undecided": 0,
        "undecidedMandatory": 0, "destructive": 0, "stopped": 0,
    }
    assert summary["options"] == {"strict": False, "allowDestructive": False, "base": None}
    assert summary["shard"] == {"index": 1, "count": 1}
    assert summary["selection"] == {"patterns": None, "stacks": FLEET_SIZE,
                                    "digest": Part.whole(select(fleet / "stacks", None))
                                    .document()["selection"]["digest"]}
    plans = {p.stem for p in (fleet / "out").glob("*.json")} - {"summary"}
    assert plans == {s["stack"] for s in stacks}


def test_generated_fleet_covers_modes_layouts_models_and_policies(fleet: Path) -> None:
    configs = list(stack_files(fleet / "stacks").values())

    def values(key: str) -> set[Any]:
        return {c.get(f"dedicated-cmk:{key}") for c in configs}

    assert values("mode") == {"both", "customer", "provider"}
    assert values("vaultPermissionModel") == {"rbac", "accessPolicy", None}
    assert values("keyVersionPolicy") == {"latest", "pinned", None}
    assert len(values("customerLocation") - {None}) >= 5
    assert any("dedicated-cmk:sqlKeyName" in c for c in configs)  # per-service keys
    assert any("dedicated-cmk:keyName" in c and "dedicated-cmk:sqlKeyName" not in c
               and c["dedicated-cmk:mode"] != "provider" for c in configs)  # shared key


def test_generated_names_are_distinct_and_seeded(tmp_path: Path, fleet: Path) -> None:
    configs = stack_files(fleet / "stacks")
    for key in ("vaultName", "storageAccountName", "sqlServerName", "customerTenantId"):
        names = [c[f"dedicated-cmk:{key}"] for c in configs.values()
                 if f"dedicated-cmk:{key}" in c]
        assert len(names) == len(set(names)), key
    write_fleet(FLEET_SIZE, tmp_path / "again", SEED)
    write_fleet(FLEET_SIZE, tmp_path / "other", SEED + 1)
    assert stack_files(tmp_path / "again") == configs
    assert stack_files(tmp_path / "other") != configs


def test_pool_results_equal_serial_runs_in_one_process(fleet: Path, tmp_path: Path) -> None:
    """Two stacks of each mode run one after another in this process give the same
    summaries and byte-identical plans as the pool: no state leaks between runs."""
    pool = {s["stack"]: s for s in summary_of(fleet / "out")["stacks"]}
    configs = stack_files(fleet / "stacks")
    by_mode: dict[str, list[str]] = {}
    for name, config in configs.items():
        by_mode.setdefault(config["dedicated-cmk:mode"], []).append(name.split(".")[1])
    chosen = sorted(name for names in by_mode.values() for name in names[:2])
    job = FleetJob(ROOT, fleet / "stacks", tmp_path)
    # Reversed, and the first stack again at the end: order must not matter.
    order = [*reversed(chosen), chosen[-1]]
    serial = [run_stack(job, stack) for stack in order]
    assert serial[-1] == serial[0]
    for result in serial:
        stack = result["stack"]
        assert {**result, "ok": True} == pool[stack]
        assert (tmp_path / f"{stack}.json").read_bytes() == \
            (fleet / "out" / f"{stack}.json").read_bytes()


def broken_fleet(tmp_path: Path) -> Path:
    """Three good generated stacks, one with invalid config, one whose program fails."""
    stacks = tmp_path / "stacks"
    write_fleet(3, stacks, SEED)
    bad = yaml.safe_load((ROOT / "Pulumi.customer.yaml").read_text())
    bad["config"]["dedicated-cmk:vaultName"] = "kv--bad"
    (stacks / "Pulumi.zz-bad-config.yaml").write_text(yaml.safe_dump(bad))
    missing = yaml.safe_load((ROOT / "Pulumi.customer.yaml").read_text())
    del missing["config"]["dedicated-cmk:providerAppClientId"]
    missing["config"]["dedicated-cmk:providerStack"] = "acme/dedicated-cmk/nowhere"
    (stacks / "Pulumi.zz-bad-reference.yaml").write_text(yaml.safe_dump(missing))
    return stacks


def test_broken_stacks_are_reported_and_the_others_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = broken_fleet(tmp_path)
    code = cli.main(["fleet", "--stack-dir", str(stacks), "--out-dir", str(tmp_path / "out"),
                     "--jobs", "2"])
    out, err = capsys.readouterr()
    assert code == 1
    summary = summary_of(tmp_path / "out")
    failed = {s["stack"]: s["error"] for s in summary["stacks"] if not s["ok"]}
    with pytest.raises(ConfigError) as invalid:  # the message config validation gives
        load({k.split(":", 1)[1]: v for k, v in stack_config("zz-bad-config", stacks).items()})
    assert "'kv--bad'" in invalid.value.render()
    assert failed == {
        "zz-bad-config": invalid.value.render(),
        "zz-bad-reference": (
            "stack 'zz-bad-reference' (zz-bad-reference): providerStack "
            "acme/dedicated-cmk/nowhere: Pulumi.nowhere.yaml: no such stack file; create it with "
            "`pulumi stack init` and `pulumi config set`"),
    }
    assert summary["totals"]["ok"] == 3
    assert summary["totals"]["errors"] == 2
    assert not (tmp_path / "out" / "zz-bad-config.json").exists()
    # Plain progress lines (not a terminal), one per stack; the table lists failures first.
    assert "] zz-bad-config: FAILED: Pulumi.zz-bad-config.yaml: dedicated-cmk:vaultName: " \
        "'kv--bad' contains '--'" in err
    assert len([line for line in err.splitlines() if line.startswith("[")]) == 5
    table = [line for line in out.splitlines() if "zz-bad" in line]
    assert [line.split()[1] for line in table] == ["zz-bad-config", "zz-bad-reference"]
    assert out.rstrip().endswith("fleet: 2 of 5 stacks fail (2 failed to run)")


def test_shards_partition_the_fleet_exactly(fleet: Path) -> None:
    stacks = select(fleet / "stacks", None)
    for count in (1, 2, 3, 7):
        shares = [shard(stacks, index, count) for index in range(1, count + 1)]
        assert sorted(s for share in shares for s in share) == stacks
        assert sum(len(share) for share in shares) == len(stacks)
        assert max(map(len, shares)) - min(map(len, shares)) <= 1
        assert shares == [shard(list(reversed(stacks)), i, count) for i in range(1, count + 1)]
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/3", "4/3", "1", "a/b", "1/0"):
        with pytest.raises(SelectionError) as error:
            parse_shard(bad)
        assert str(error.value) == f"--shard {bad!r}: expected I/N with 1 <= I <= N, e.g. 2/4"


def test_merge_of_shards_equals_one_run(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    stacks = broken_fleet(tmp_path)
    common = ["--stack-dir", str(stacks), "--jobs", "1", "--format", "json"]
    assert cli.main(["fleet", *common, "--out-dir", str(tmp_path / "all")]) == 1
    assert cli.main(["fleet", *common, "--shard", "1/2", "--out-dir", str(tmp_path / "s1")]) == 1
    assert cli.main(["fleet", *common, "--shard", "2/2", "--out-dir", str(tmp_path / "s2")]) == 1
    capsys.readouterr()
    code = cli.main(["fleet", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
                     "--out-dir", str(tmp_path / "merged"), "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert summary_of(tmp_path / "merged") == summary_of(tmp_path / "all") == json.loads(out)
    plans = {p.name: p.read_bytes() for p in (tmp_path / "all").glob("*.json")}
    assert {p.name: p.read_bytes() for p in (tmp_path / "merged").glob("*.json")} == plans
    assert len(plans) == 4  # three plans (the two broken stacks have none) and the summary
    assert len(summary_of(tmp_path / "s1")["stacks"]) == 3


def test_merge_refuses_overlapping_shards_and_missing_summaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = tmp_path / "stacks"
    write_fleet(1, stacks, SEED)
    run = ["fleet", "--stack-dir", str(stacks), "--jobs", "1", "--format", "json"]
    assert cli.main([*run, "--out-dir", str(tmp_path / "a")]) == 0
    assert cli.main([*run, "--out-dir", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    assert cli.main(["fleet", "merge", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == (
        f"cmkctl fleet merge: shard 1/1 is given twice ({tmp_path / 'a'} and "
        f"{tmp_path / 'b'}); give each shard's directory once\n")
    assert cli.main(["fleet", "merge", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err == (
        f"cmkctl fleet merge: {tmp_path / 'nothing' / 'summary.json'}: No such file or "
        f"directory; the shard's `cmkctl fleet --out-dir {tmp_path / 'nothing'}` did not "
        "finish (or wrote elsewhere)\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "3/2"], "cmkctl fleet: --shard '3/2': expected I/N with 1 <= I <= N, "
                             "e.g. 2/4"),
        (["--stacks", "nomatch*"], "cmkctl fleet: no Pulumi.<stack>.yaml files matching "
                                   "nomatch* in {dir}; check --stack-dir and --stacks"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    write_fleet(2, tmp_path, SEED)
    assert cli.main(["fleet", "--stack-dir", str(tmp_path), *args]) == 2
    assert capsys.readouterr().err == message.format(dir=tmp_path) + "\n"


def test_jobs_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fleet", "--jobs", "0"])
    assert exit_.value.code == 2
    assert "argument --jobs: '0' is not a positive whole number" in capsys.readouterr().err


def test_stack_dir_follows_stack_config_dir(tmp_path: Path) -> None:
    assert project_stack_dir(ROOT) == ROOT
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\nstackConfigDir: stacks\n")
    assert project_stack_dir(tmp_path) == tmp_path / "stacks"
    (tmp_path / "Pulumi.yaml").write_text("name: x\nstackConfigDir: [1]\n")
    with pytest.raises(SelectionError) as error:
        project_stack_dir(tmp_path)
    assert str(error.value) == (f"{tmp_path / 'Pulumi.yaml'}: stackConfigDir must be a "
                                "directory path, not [1]")


def test_selection_by_glob_is_sorted_and_ignores_the_project_file(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "Pulumi.b-prod.yaml", "Pulumi.a-prod.yaml", "Pulumi.a-dev.yaml",
                 "Pulumi.c.yml", "notes.yaml"):
        (tmp_path / name).write_text("config: {}\n")
    assert select(tmp_path, None) == ["a-dev", "a-prod", "b-prod"]
    assert select(tmp_path, ["*-prod"]) == ["a-prod", "b-prod"]
    assert select(tmp_path, ["a-dev", "b-*"]) == ["a-dev", "b-prod"]
    shutil.rmtree(tmp_path)
    with pytest.raises(SelectionError) as error:
        select(tmp_path, None)
    assert str(error.value) == f"--stack-dir {tmp_path}: no such directory"


def test_markdown_names_the_destructive_stack_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A renamed vault in one stack (a replace of vault, keys, locks and grants) and an
    SKU change in another: the comment leads with the destructive stack and its findings."""
    stacks = tmp_path / "stacks"
    write_fleet(6, stacks, 3)
    run = ["fleet", "--stack-dir", str(stacks), "--jobs", "2"]
    assert cli.main([*run, "--out-dir", str(tmp_path / "base"), "--format", "json"]) == 0
    renamed = stacks / "Pulumi.contoso0004.yaml"
    renamed.write_text(renamed.read_text().replace("kv-contoso0004-cmk", "kv-contoso0004-new"))
    resized = stacks / "Pulumi.coho0003.yaml"
    resized.write_text(resized.read_text().replace("Standard_ZRS", "Standard_GZRS"))
    write_fleet(7, tmp_path / "seven", 3)  # the same six and one more customer
    new = next(p for p in (tmp_path / "seven").iterdir() if not (stacks / p.name).exists())
    shutil.copy(new, stacks / new.name)
    new_stack = new.name.split(".")[1]
    capsys.readouterr()
    head = [*run, "--out-dir", str(tmp_path / "head"), "--base-dir", str(tmp_path / "base")]
    assert cli.main([*head, "--format", "markdown"]) == 1
    comment = capsys.readouterr().out
    expected = compare(json.loads((tmp_path / "base" / "contoso0004.json").read_text()),
                       json.loads((tmp_path / "head" / "contoso0004.json").read_text()))
    titles = [f.title for r in expected.destructive for f in r.findings if f.risk]
    assert {"replace of key vault", "replace of key"} <= set(titles)
    findings = [(r.name, f.title) for r in expected.destructive for f in r.findings if f.risk]
    lines = comment.splitlines()
    assert lines[:2] == [MARKER, f"### ❌ cmkctl fleet: 1 of 7 stacks fail "
                                 f"({len(findings)} destructive changes)"]
    listed = [line for line in lines if line.startswith("- `contoso0004`")]
    assert [line.split("`")[3] for line in listed] == [name for name, _ in findings]
    assert lines.index(f"#### ⚠️ Destructive changes ({len(findings)})") < \
        lines.index("#### Other changes (2 stacks)")
    assert "- `coho0003`: ~1" in lines
    summary = summary_of(tmp_path / "head")
    by_name = {s["stack"]: s for s in summary["stacks"]}
    created = by_name[new_stack]["resources"] - 1  # all but the root stack
    assert f"- `{new_stack}`: +{created}, new stack" in lines
    assert by_name[new_stack]["newStack"] is True
    assert by_name["coho0003"]["changes"] == {**dict.fromkeys(SUMMARY_OPS, 0), "update": 1,
                                              "same": by_name["coho0003"]["resources"] - 2}
    assert by_name["contoso0004"]["destructive"] == len(expected.destructive)
    assert (summary["totals"]["changed"], summary["totals"]["unchanged"]) == (3, 4)
    assert len(comment) < GITHUB_COMMENT_LIMIT
    # Allowed, the same findings no longer fail (re-judged from the summary, not re-run).
    allowed = ["fleet", "merge", str(tmp_path / "head"), "--out-dir", str(tmp_path / "ok")]
    assert cli.main([*allowed, "--allow-destructive", "--format", "json"]) == 0
    assert cli.main([*allowed, "--format", "json"]) == 1


def test_base_plans_come_from_the_ref_with_its_own_program(tmp_path: Path) -> None:
    """A throwaway repository: the base plan of a stack at HEAD equals its plan here, and
    an unknown ref is one clear error."""
    repo = committed_project(tmp_path / "repo", {
        "Pulumi.broken.yaml": "config:\n  dedicated-cmk:mode: sideways\n"})
    build_base_plans("HEAD", repo, repo, ["broken", "customer", "new"], tmp_path / "base", 2)
    # "new" is not at the ref: no plan and no error, so the fleet diffs it as a new stack.
    assert {p.name for p in (tmp_path / "base").iterdir()} == {"customer.json",
                                                               "broken.base-error.txt"}
    assert "'sideways'" in (tmp_path / "base" / "broken.base-error.txt").read_text()
    base = json.loads((tmp_path / "base" / "customer.json").read_text())
    assert base == build_plan("customer")
    with pytest.raises(BaseRefError) as error:
        build_base_plans("no-such-ref", repo, repo, ["customer"], tmp_path / "x", 1)
    assert str(error.value) == "git rev-parse --verify --quiet no-such-ref^{commit}: failed"
    with pytest.raises(BaseRefError) as error:
        build_base_plans("--output=x", repo, repo, ["customer"], tmp_path / "x", 1)
    assert str(error.value) == "'--output=x' is not a git ref (a branch, tag or commit)"


def test_stack_references_resolve_in_the_stack_dir(tmp_path: Path) -> None:
    """A customer stack reading the provider's app from a provider stack kept beside it
    (not next to the program) records the reference as a read step."""
    customer = yaml.safe_load((ROOT / "Pulumi.customer.yaml").read_text())
    del customer["config"]["dedicated-cmk:providerAppClientId"]
    customer["config"]["dedicated-cmk:providerStack"] = "acme/dedicated-cmk/theirs"
    (tmp_path / "Pulumi.ours.yaml").write_text(yaml.safe_dump(customer))
    shutil.copy(ROOT / "Pulumi.provider.yaml", tmp_path / "Pulumi.theirs.yaml")
    job = FleetJob(ROOT, tmp_path, tmp_path)
    [result] = run_stacks(job, ["ours"], 1, lambda _: None)
    assert (result["error"], result["mandatory"]) == (None, 0)
    plan = json.loads((tmp_path / "ours.json").read_text())
    reads = [s["urn"] for s in plan["steps"] if s["op"] == "read"]
    assert reads == ["urn:pulumi:ours::dedicated-cmk::pulumi:pulumi:StackReference::"
                     "acme/dedicated-cmk/theirs"]


def test_terminal_progress_is_a_live_bar_with_failures_printed(tmp_path: Path) -> None:
    out = io.StringIO()
    with progress(2, out, terminal=True) as done:
        done(stack_result("good") | {"resources": 3})
        done(stack_result("bad", "invalid stack configuration (2 problems)\n  - k: x\n"
                                 "    fix: y\n  - other: wrong"))
    text = out.getvalue()
    assert "bad: FAILED: Pulumi.bad.yaml: k: x (fix: y) (and 1 more)" in text
    assert "2/2" in text and "other" not in text


def test_unusable_inputs_exit_2_before_any_stack_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_fleet(1, tmp_path / "stacks", SEED)
    config = tmp_path / "pack.json"
    config.write_text("{not json")
    run = ["fleet", "--stack-dir", str(tmp_path / "stacks"), "--out-dir", str(tmp_path / "out")]
    assert cli.main([*run, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cmkctl fleet: policy configuration {config}: ")
    assert err.count("\n") == 1
    assert cli.main([*run, "--base-dir", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err == \
        f"cmkctl fleet: --base-dir {tmp_path / 'none'}: no such directory\n"
    assert not (tmp_path / "out").exists()
