"""Benchmark of offline previews: one stack against its import floor, fleets, the plan cache.

Not a test: it prints figures for docs/benchmark.md. Run from the project root:

    .venv/bin/python bench/fleet_bench.py [--stack dev] [--repeat 7] [--sizes 50 500]
        [--fleet-repeat 3]

- one stack: ``cmkctl fleet --stacks STACK --jobs 1`` (preview and check in one process, as
  ``make preview`` does for each stack) against its floor, a fresh interpreter importing
  ``pulumi`` and the SDK modules that define the resource types of the plan that run wrote
  (:mod:`bench.floor`). The two alternate, ``--repeat`` times each; medians and their ratio;
- fleets: ``cmkctl fleet --jobs N`` on generated stacks, cold (no cache), the sizes
  alternating ``--fleet-repeat`` times: medians of wall time, time per stack, peak memory of
  the whole process tree (PSS, so pages shared by forked workers count once) and of its
  largest process of each role (parent, fork server, worker), and CPU utilisation;
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


def one_stack(stack: str, repeat: int, scratch: Path) -> tuple[dict[str, Any], list[str]]:
    """Preview + check of ``stack`` against its floor, alternating, medians; and the floor's
    command, which the fleets are measured against too."""
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
            "preview_runs_s": [round(t, 2) for t in previews]}, floor_run


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _role(process: psutil.Process, root: psutil.Process) -> str:
    """``parent`` (the cmkctl command), ``fork server`` (its child that forks the workers),
    ``worker`` (the fork server's children) or ``other`` (multiprocessing's resource tracker):
    which part's memory grows with the fleet's size, if any."""
    if process.pid == root.pid:
        return "parent"
    parent = process.ppid()
    if parent == root.pid:
        return "fork server" if "forkserver" in " ".join(process.cmdline()) else "other"
    return "worker" if "forkserver" in " ".join(psutil.Process(parent).cmdline()) else "other"


def measured(command: list[str], cwd: Path = ROOT) -> dict[str, Any]:
    """Wall time, peak PSS of the process tree and of its largest process of each role, and
    the tree's CPU seconds, sampled every 0.1 s."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV)
    root = psutil.Process(child.pid)
    peak_pss = 0
    peak_role: dict[str, int] = {}
    cpu: dict[int, float] = {}
    while child.poll() is None:
        pss = 0
        for process in _tree(root):
            try:
                own = process.memory_full_info().pss
                role = _role(process, root)
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            pss += own
            peak_role[role] = max(peak_role.get(role, 0), own)
            cpu[process.pid] = times.user + times.system
        peak_pss = max(peak_pss, pss)
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if child.returncode not in (0, 1):  # 1: findings; the run itself completed
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}")
    return {"wall_s": round(wall, 2), "peak_tree_pss_mib": round(peak_pss / 2**20),
            "peak_pss_mib_by_role": {role: round(size / 2**20)
                                     for role, size in sorted(peak_role.items())},
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


def fleets(sizes: list[int], jobs: int, repeat: int, scratch: Path,
           floor_run: list[str] | None) -> list[dict[str, Any]]:
    """``cmkctl fleet`` on generated fleets of each size, cold, no cache; the sizes alternate,
    ``repeat`` runs each, so load that comes and goes hits every size alike. Medians. With
    ``floor_run``, the floor runs just before each fleet and each fleet's wall time is also
    given in floors, which compares across machines and across a machine's slow and fast
    hours."""
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for size in sizes:
        _generate(size, scratch / f"stacks-{size}")
    for _ in range(repeat):
        for size in sizes:
            out = scratch / f"out-{size}"
            floor_s = _timed(floor_run) if floor_run else None
            figures = measured([*CMKCTL, "fleet", "--stack-dir", str(scratch / f"stacks-{size}"),
                                "--out-dir", str(out), "--jobs", str(jobs), "--format", "json"])
            _ok(out, size)
            if floor_s is not None:
                figures["in_floors"] = figures["wall_s"] / floor_s
            runs[size].append(figures)
    return [_fleet_figures(size, runs[size]) for size in sizes]


def _fleet_figures(size: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    def median(name: str) -> float:
        return round(float(statistics.median(run[name] for run in runs)), 2)

    wall, cpu = median("wall_s"), median("cpu_s")
    cores = len(os.sched_getaffinity(0))
    roles = sorted({role for run in runs for role in run["peak_pss_mib_by_role"]})
    return {"stacks": size, "runs": len(runs), "wall_s": wall, "cpu_s": cpu,
            "peak_tree_pss_mib": median("peak_tree_pss_mib"),
            "peak_pss_mib_by_role": {role: statistics.median(
                run["peak_pss_mib_by_role"].get(role, 0) for run in runs) for role in roles},
            "per_stack_ms": round(1000 * wall / size),
            "cpu_utilisation": round(cpu / (wall * cores), 2),
            "wall_runs_s": [run["wall_s"] for run in runs],
            "peak_tree_pss_runs_mib": [run["peak_tree_pss_mib"] for run in runs],
            **({"wall_in_floors": median("in_floors"),
                "wall_in_floors_runs": [round(run["in_floors"], 1) for run in runs]}
               if all("in_floors" in run for run in runs) else {})}


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
    parser.add_argument("--fleet-repeat", type=int, default=3,
                        help="alternating runs of each fleet size")
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
        floor_run = None
        if "one" not in args.skip:
            report["one_stack"], floor_run = one_stack(args.stack, args.repeat, scratch)
        if "fleets" not in args.skip:
            report["fleets"] = fleets(args.sizes, args.jobs, args.fleet_repeat, scratch,
                                      floor_run)
        if "cache" not in args.skip:
            report["cache"] = cache_runs(max(args.sizes), args.jobs, scratch)
    report["load_average_1_5_15_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
