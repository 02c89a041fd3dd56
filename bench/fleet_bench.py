"""Benchmark of offline previews: one stack against its import floor, fleets, the plan cache.

Not a test: it prints figures for docs/benchmark.md. Run from the project root:

    .venv/bin/python bench/fleet_bench.py [--stack dev] [--repeat 7] [--sizes 50 500]

- one stack: ``cmkctl fleet --stacks STACK --jobs 1`` (preview and check in one process, as
  ``make preview`` does for each stack) against its floor, a fresh interpreter importing
  ``pulumi`` and the SDK modules that define the resource types of the plan that run wrote
  (:mod:`bench.floor`). The two alternate, ``--repeat`` times each; medians and their ratio;
- fleets: ``cmkctl fleet --jobs N`` on generated stacks, cold (no cache): wall time, time per
  stack, peak memory of the whole process tree (PSS, so pages shared by forked workers count
  once) and CPU utilisation;
- plan cache, on the largest fleet in a throwaway git repository: filling the cache (as a
  run on the main branch does), a run where every stack hits, and a pull request that
  changes one stack file, run with ``--base-ref`` (previewed, checked and diffed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.floor import FLOOR_SCRIPT, floor_arguments, floor_of, plan_types  # noqa: E402

CMKCTL = (sys.executable, "-m", "cmkctl")
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
"""Every run may write and reuse bytecode, as on a developer's machine or a CI runner."""


def _timed(command: list[str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def one_stack(stack: str, repeat: int, scratch: Path) -> dict[str, Any]:
    """Preview + check of ``stack`` against its floor, alternating, medians."""
    out = scratch / "one"
    preview = [*CMKCTL, "fleet", "--stacks", stack, "--jobs", "1", "--out-dir", str(out)]
    _timed(preview)  # writes the plan the floor is derived from (and warms the disk cache)
    floor = floor_of(plan_types(json.loads((out / f"{stack}.json").read_text())))
    floor_run = [sys.executable, "-c", FLOOR_SCRIPT, *floor_arguments(floor)]
    floors, previews = [], []
    for _ in range(repeat):
        floors.append(_timed(floor_run))
        previews.append(_timed(preview))
    floor_s, preview_s = statistics.median(floors), statistics.median(previews)
    return {"stack": stack, "floor_modules": ["pulumi", *floor],
            "floor_s": round(floor_s, 2), "preview_and_check_s": round(preview_s, 2),
            "ratio": round(preview_s / floor_s, 2),
            "floor_runs_s": [round(t, 2) for t in floors],
            "preview_runs_s": [round(t, 2) for t in previews]}


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def measured(command: list[str], cwd: Path = ROOT) -> dict[str, float]:
    """Wall time, peak PSS of the process tree and its CPU seconds, sampled every 0.1 s."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV)
    root = psutil.Process(child.pid)
    peak_pss = 0
    cpu: dict[int, float] = {}
    while child.poll() is None:
        pss = 0
        for process in _tree(root):
            try:
                pss += process.memory_full_info().pss
                times = process.cpu_times()
                cpu[process.pid] = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        peak_pss = max(peak_pss, pss)
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if child.returncode not in (0, 1):  # 1: findings; the run itself completed
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}")
    return {"wall_s": round(wall, 2), "peak_tree_pss_mib": round(peak_pss / 2**20),
            "cpu_s": round(sum(cpu.values()), 1)}


def _generate(count: int, directory: Path) -> None:
    subprocess.run([*CMKCTL, "fleet", "generate", "--count", str(count), "--out-dir",
                    str(directory), "--seed", "1"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env=ENV)


def _ok(out: Path, stacks: int) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    totals = summary["totals"]
    assert (totals["stacks"], totals["errors"]) == (stacks, 0), totals
    return summary


def fleet(size: int, jobs: int, scratch: Path) -> dict[str, Any]:
    """``cmkctl fleet`` on ``size`` generated stacks, cold, no cache."""
    stacks, out = scratch / f"stacks-{size}", scratch / f"out-{size}"
    _generate(size, stacks)
    figures = measured([*CMKCTL, "fleet", "--stack-dir", str(stacks), "--out-dir", str(out),
                        "--jobs", str(jobs), "--format", "json"])
    _ok(out, size)
    cores = len(os.sched_getaffinity(0))
    return {"stacks": size, **figures, "per_stack_ms": round(1000 * figures["wall_s"] / size),
            "cpu_utilisation": round(figures["cpu_s"] / (figures["wall_s"] * cores), 2)}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
                    *args], cwd=repo, check=True, capture_output=True)


def cache_runs(size: int, jobs: int, scratch: Path) -> dict[str, Any]:
    """The plan cache on ``size`` stacks kept in a git repository, as a pull request sees it."""
    repo = scratch / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".venv", ".git", "out", "tests", "plans", "bench", ".tools", "*.pyc", "__pycache__",
        ".mypy_cache", ".ruff_cache", ".hypothesis"))
    _generate(size, repo / "fleet")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    store = scratch / "plan-cache"
    run = [*CMKCTL, "--project-dir", str(repo), "fleet", "--stack-dir", str(repo / "fleet"),
           "--jobs", str(jobs), "--cache-dir", str(store), "--format", "json"]
    fill = measured([*run, "--out-dir", str(scratch / "fill")])
    _ok(scratch / "fill", size)
    hits = measured([*run, "--out-dir", str(scratch / "hits")])
    _ok(scratch / "hits", size)
    changed = next(path for path in sorted((repo / "fleet").glob("Pulumi.*.yaml"))
                   if "keyRotateAfterDays: 365" in path.read_text())
    changed.write_text(changed.read_text().replace("keyRotateAfterDays: 365",
                                                   "keyRotateAfterDays: 180"))
    pull_request = measured([*run, "--base-ref", "HEAD", "--out-dir", str(scratch / "pr")])
    summary = _ok(scratch / "pr", size)
    return {"stacks": size, "fill": fill, "all_hits": hits,
            "one_stack_changed_with_base_ref": pull_request,
            "changed_stacks_reported": summary["totals"].get("changed")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="the one stack (default dev)")
    parser.add_argument("--repeat", type=int, default=7, help="alternating runs of each")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--skip", nargs="*", default=[], choices=("one", "fleets", "cache"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
                   f"{round(psutil.virtual_memory().total / 2**30)} GiB, Python "
                   f"{platform.python_version()}",
        "load_average_1_5_15_at_start": [round(x, 1) for x in load_before],
        "jobs": args.jobs,
    }
    with tempfile.TemporaryDirectory(prefix="cmkctl-bench-") as scratch_name:
        scratch = Path(scratch_name)
        if "one" not in args.skip:
            report["one_stack"] = one_stack(args.stack, args.repeat, scratch)
        if "fleets" not in args.skip:
            report["fleets"] = [fleet(size, args.jobs, scratch) for size in args.sizes]
        if "cache" not in args.skip:
            report["cache"] = cache_runs(max(args.sizes), args.jobs, scratch)
    report["load_average_1_5_15_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
