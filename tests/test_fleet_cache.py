"""``cmkctl fleet --cache-dir``: every input a plan depends on changes its key, hits are
served without a preview, corrupt entries are misses and get rewritten, and fleets sharing
a cache directory leave it whole."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

import cmkctl.fleet.against_base as against_base_module
import cmkctl.fleet.base as base_module
from cmkctl import cli
from cmkctl.fleet import cache, pool
from cmkctl.fleet.base import BaseCache, build_base_plans
from cmkctl.plan.recorder import ROOT
from components.config.keys import Mode
from tests.stacks import committed_project, example

VERSIONS = ["pulumi==3.200.0", "pulumi-azure-native==3.29.0"]


def _program(root: Path) -> Path:
    """A small stand-in program tree: what :func:`cache.program_digest` reads."""
    for name, text in {"__main__.py": "main\n", "Pulumi.yaml": "name: dedicated-cmk\n",
                       "components/program.py": "build\n", "cmkctl/plan/fake_azure.py": "fake\n",
                       "policies/rules/vault.py": "rule\n", "Pulumi.a.yaml": "config: {}\n",
                       "Pulumi.b.yaml": "config: {}\n", "pack.json": "{}\n"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _append(path: str) -> Callable[[Path], dict[str, Any]]:
    def change(root: Path) -> dict[str, Any]:
        with (root / path).open("a") as file:
            file.write("# changed\n")
        return {}
    return change


INPUT_KINDS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "program source": _append("components/program.py"),
    "fake Azure": _append("cmkctl/plan/fake_azure.py"),
    "policy pack source": _append("policies/rules/vault.py"),
    "project file": _append("Pulumi.yaml"),
    "stack file": _append("Pulumi.a.yaml"),
    "referenced stack file": _append("Pulumi.b.yaml"),
    "policy config": _append("pack.json"),
    "installed SDK version": lambda _root: {"versions": ["pulumi==3.201.0", VERSIONS[1]]},
}


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_each_input_kind_turns_a_hit_into_a_miss(kind: str, tmp_path: Path) -> None:
    root, store = _program(tmp_path / "program"), tmp_path / "cache"

    def lookup(versions: list[str]) -> cache.Entry | None:
        key = cache.stack_key(cache.program_digest(root, versions), str(root / "pack.json"),
                              root, "a")
        assert key is not None
        return cache.load(store, key, "a", root)

    key = cache.stack_key(cache.program_digest(root, VERSIONS), str(root / "pack.json"), root,
                          "a")
    assert key is not None
    cache.store(store, key, "a", root, '{"steps": []}\n', ["b"], {"resources": 1})
    assert lookup(VERSIONS) == cache.Entry('{"steps": []}\n', {"resources": 1})
    changed = INPUT_KINDS[kind](root)
    assert lookup(changed.get("versions", VERSIONS)) is None


def test_the_same_inputs_give_the_same_key_in_another_checkout(tmp_path: Path) -> None:
    one, two = _program(tmp_path / "one"), _program(tmp_path / "two")
    assert cache.program_digest(one, VERSIONS) == cache.program_digest(two, VERSIONS)
    (one / "components" / "__pycache__").mkdir()
    (one / "components" / "__pycache__" / "program.cpython-311.pyc").write_bytes(b"\0")
    assert cache.program_digest(one, VERSIONS) == cache.program_digest(two, VERSIONS)
    assert cache.stack_key("p", None, one, "missing") is None


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """A provider stack and a customer stack that reads the provider's app through a stack
    reference (``providerStack``)."""
    directory = tmp_path / "stacks"
    directory.mkdir()
    customer = example("customer", Mode.CUSTOMER, providerAppClientId=None,
                        providerStack="acme/dedicated-cmk/provider")
    (directory / "Pulumi.customer.yaml").write_text(yaml.safe_dump({"config": customer}))
    shutil.copy(ROOT / "Pulumi.provider.yaml", directory / "Pulumi.provider.yaml")
    return directory


class Previews:
    """The stacks a fleet run hands to its worker pool (the cache serves the others)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stacks: list[str] = []
        real = pool.run_stacks

        def counted(job: Any, stacks: Iterable[str], jobs: int, done: Any) -> Any:
            stacks = list(stacks)
            self.stacks.extend(stacks)
            return real(job, stacks, jobs, done)

        monkeypatch.setattr(pool, "run_stacks", counted)

    def taken(self) -> list[str]:
        taken, self.stacks = sorted(self.stacks), []
        return taken


def _fleet(stack_dir: Path, out: Path, cache_dir: Path, *extra: str) -> dict[str, Any]:
    code = cli.main(["fleet", "--stack-dir", str(stack_dir), "--out-dir", str(out), "--jobs",
                     "1", "--cache-dir", str(cache_dir), "--format", "json", *extra])
    assert code == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def test_hits_are_served_without_a_preview_and_changes_rerun_what_they_touch(
        stacks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previews = Previews(monkeypatch)
    store = tmp_path / "cache"
    first = _fleet(stacks, tmp_path / "one", store)
    assert previews.taken() == ["customer", "provider"]
    again = _fleet(stacks, tmp_path / "two", store)
    assert previews.taken() == []
    assert again == first
    for name in ("customer.json", "provider.json"):
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    with (stacks / "Pulumi.customer.yaml").open("a") as file:
        file.write("# a comment changes the bytes, so the key\n")
    _fleet(stacks, tmp_path / "three", store)
    assert previews.taken() == ["customer"]
    with (stacks / "Pulumi.provider.yaml").open("a") as file:
        file.write("# the customer stack reads this one: both run again\n")
    _fleet(stacks, tmp_path / "four", store)
    assert previews.taken() == ["customer", "provider"]


def _entry_files(store: Path, stack: str) -> tuple[Path, Path]:
    for meta in store.glob("*/*[0-9a-f].json"):
        if json.loads(meta.read_text())["stack"] == stack:
            return meta, meta.with_name(meta.name.replace(".json", ".plan.json"))
    raise AssertionError(f"no entry for {stack}")


@pytest.mark.parametrize("damage", ["cut meta", "meta not json", "plan edited", "plan gone",
                                    "verdict reshaped", "other format"])
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(
        damage: str, stacks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previews = Previews(monkeypatch)
    store = tmp_path / "cache"
    first = _fleet(stacks, tmp_path / "one", store, "--stacks", "provider")
    previews.taken()
    meta, plan = _entry_files(store, "provider")
    document = json.loads(meta.read_text())
    if damage == "cut meta":
        meta.write_text(meta.read_text()[:40])
    elif damage == "meta not json":
        meta.write_bytes(b"\xff\xfe garbage")
    elif damage == "plan edited":
        plan.write_text(plan.read_text().replace('"protect": true', '"protect": false', 1))
    elif damage == "plan gone":
        plan.unlink()
    elif damage == "verdict reshaped":
        meta.write_text(json.dumps({**document, "verdict": {"resources": "many"}}))
    else:
        meta.write_text(json.dumps({**document, "format": cache.FORMAT + 1}))
    assert _fleet(stacks, tmp_path / "two", store, "--stacks", "provider") == first
    assert previews.taken() == ["provider"]
    assert json.loads(meta.read_text()) == document
    _fleet(stacks, tmp_path / "three", store, "--stacks", "provider")
    assert previews.taken() == []


def test_two_fleets_sharing_a_cache_leave_it_whole(stacks: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    runs = [subprocess.Popen(
        [sys.executable, "-m", "cmkctl", "fleet", "--stack-dir", str(stacks), "--out-dir",
         str(tmp_path / f"out{i}"), "--jobs", "2", "--cache-dir", str(store), "--format",
         "json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert json.loads(outputs[0][0]) == json.loads(outputs[1][0])
    assert sorted(p.name.startswith(".") for p in store.rglob("*") if p.is_file()) == [False] * 4
    program = cache.program_digest(ROOT)
    for stack in ("customer", "provider"):
        key = cache.stack_key(program, None, stacks, stack)
        assert key is not None
        entry = cache.load(store, key, stack, stacks)
        assert entry is not None
        assert entry.plan_text == (tmp_path / "out0" / f"{stack}.json").read_text()


def test_concurrent_writers_never_show_a_reader_a_wrong_entry(tmp_path: Path) -> None:
    stack_dir, store = _program(tmp_path / "program"), tmp_path / "cache"
    text = json.dumps({"steps": [{"op": "create"}] * 2000}) + "\n"
    seen: set[str | None] = set()
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            cache.store(store, "ab" * 32, "a", stack_dir, text, [], {"resources": 1})

    def read() -> None:
        for _ in range(300):
            entry = cache.load(store, "ab" * 32, "a", stack_dir)
            seen.add(None if entry is None else entry.plan_text)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in writers:
        thread.start()
    read()
    stop.set()
    for thread in writers:
        thread.join()
    assert seen <= {None, text} and text in seen


def test_base_plans_are_reused_from_the_cache(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """--base-ref with a cache records the base's plans, and a second build serves them all
    without starting the base's program."""
    repo = committed_project(tmp_path / "repo")
    store = BaseCache(tmp_path / "cache", None)
    build_base_plans("HEAD", repo, repo, ["customer", "org"], tmp_path / "base1", 2,
                     cache=store)
    # The base's program would now fail: the second build must not start it at all.
    monkeypatch.setattr(base_module, "_DRIVER", "raise SystemExit('base program started')")
    build_base_plans("HEAD", repo, repo, ["customer", "org"], tmp_path / "base2", 2,
                     cache=store)
    for name in ("customer.json", "org.json"):
        assert (tmp_path / "base2" / name).read_bytes() == \
            (tmp_path / "base1" / name).read_bytes()


def test_the_cache_mains_fleet_run_fills_serves_a_later_gates_base_plans(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's main-plans job runs an ordinary fleet over main's checkout; a gate whose
    base is that commit builds its base plans in a worktree of it. The same program and stack
    files give the same keys, so the gate starts no base program, and serves the very plans."""
    repo = committed_project(tmp_path / "repo")
    code = cli.main(["--project-dir", str(repo), "fleet", "--stacks", "customer", "org",
                     "--jobs", "1", "--format", "json", "--out-dir", str(tmp_path / "main"),
                     "--cache-dir", str(tmp_path / "cache")])
    assert code in (0, 1)
    monkeypatch.setattr(base_module, "_DRIVER", "raise SystemExit('base program started')")
    build_base_plans("HEAD", repo, repo, ["customer", "org"], tmp_path / "base", 2,
                     cache=BaseCache(tmp_path / "cache", None))
    for name in ("customer.json", "org.json"):
        assert (tmp_path / "base" / name).read_bytes() == \
            (tmp_path / "main" / name).read_bytes()


def test_a_hit_against_an_identical_base_reports_what_a_full_run_does(
        stacks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry's review of its plan against itself stands in for the diff when the base
    plan has the same bytes; a run without the cache diffs for real and reports the same."""
    previews = Previews(monkeypatch)
    store = tmp_path / "cache"
    _fleet(stacks, tmp_path / "base", store)
    previews.taken()

    def no_diff(*_args: object) -> None:
        raise AssertionError("a diff was computed for a base plan with the same bytes")

    with monkeypatch.context() as patch:
        patch.setattr(against_base_module, "against_base", no_diff)
        served = _fleet(stacks, tmp_path / "served", store, "--base-dir",
                        str(tmp_path / "base"))
    assert previews.taken() == []
    code = cli.main(["fleet", "--stack-dir", str(stacks), "--out-dir", str(tmp_path / "full"),
                     "--jobs", "1", "--format", "json", "--base-dir", str(tmp_path / "base")])
    assert code == 0
    assert previews.taken() == ["customer", "provider"]
    full = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert served["stacks"] == full["stacks"]
    assert served["totals"] == full["totals"]
    assert {s["stack"]: s["changes"]["same"] for s in served["stacks"]} == \
        {"customer": 14, "provider": 15}


def test_a_stack_file_that_became_a_link_out_of_its_directory_is_refused_not_served(
        stacks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same bytes, but now read through a link to a file elsewhere: the reader refuses such a
    file, so the cache must not vouch for it either; a FIFO among the files it read is a miss,
    never a hang."""
    previews = Previews(monkeypatch)
    store = tmp_path / "cache"
    _fleet(stacks, tmp_path / "one", store)
    previews.taken()
    outside = tmp_path / "elsewhere.yaml"
    shutil.move(stacks / "Pulumi.provider.yaml", outside)
    (stacks / "Pulumi.provider.yaml").symlink_to(outside)
    code = cli.main(["fleet", "--stack-dir", str(stacks), "--out-dir", str(tmp_path / "two"),
                     "--jobs", "1", "--cache-dir", str(store), "--format", "json"])
    assert code == 1
    # The provider stack ran (and was refused); the customer stack read it, so it ran too.
    assert previews.taken() == ["customer", "provider"]
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    errors = {s["stack"]: s["error"] for s in summary["stacks"]}
    assert "symbolic link to a file outside its directory" in errors["provider"]
    (stacks / "Pulumi.provider.yaml").unlink()
    os.mkfifo(stacks / "Pulumi.provider.yaml")
    key = cache.stack_key(cache.program_digest(ROOT), None, stacks, "customer")
    assert key is not None
    assert cache.load(store, key, "customer", stacks) is None
    assert cache.stack_key(cache.program_digest(ROOT), None, stacks, "provider") is None
