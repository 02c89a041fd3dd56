"""Benchmark of offline previews: the import floor, one stack, and fleets of generated stacks.

Not a test: it prints figures for the README. Run from the project root:

    .venv/bin/python bench/fleet_bench.py [--sizes 10 100 500] [--jobs 2] [--repeat 5]

- floor: a fresh interpreter importing exactly the SDK modules one stack's preview and
  check load (found by running one stack and listing them), nothing else;
- one stack: a fresh interpreter previewing and checking the ``dev`` stack
  (``cmkctl preview`` + ``cmkctl check`` in one process, as a fleet worker does);
- fleets: ``cmkctl fleet --jobs N`` on N generated stacks, with the wall time, time per
  stack, peak memory of the whole process tree (PSS, so pages shared by forked workers count
  once) and CPU utilisation (CPU seconds of the tree over wall time x cores).

Medians of ``--repeat`` runs for the first two; one run per fleet size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SDK_PACKAGES = ("pulumi", "pulumi_azure_native", "pulumi_azuread", "pulumiverse_time",
                "pulumi_policy", "pulumi_snowflake", "grpc", "google.protobuf", "yaml")

_LIST_MODULES = """
import json, sys
from pathlib import Path
from cmkctl.fleet.job import FleetJob
from cmkctl.fleet.stack import run_stack
from cmkctl.plan.recorder import ROOT
out = Path(sys.argv[1])
result = run_stack(FleetJob(ROOT, ROOT, out), "dev")
assert result["error"] is None, result["error"]
print(json.dumps(sorted(sys.modules)))
"""

_ONE_STACK = """
import sys
from pathlib import Path
from cmkctl.fleet.job import FleetJob
from cmkctl.fleet.stack import run_stack
from cmkctl.plan.recorder import ROOT
result = run_stack(FleetJob(ROOT, ROOT, Path(sys.argv[1])), "dev")
assert result["error"] is None, result["error"]
"""


def _python(code: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def sdk_modules(scratch: Path) -> list[str]:
    """The SDK modules (not the project's) that one stack's preview and check import."""
    listed = subprocess.run([sys.executable, "-c", _LIST_MODULES, str(scratch)], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    names: list[str] = json.loads(listed)
    return [n for n in names if n.split(".")[0] in {p.split(".")[0] for p in SDK_PACKAGES}]


def median_of(repeat: int, code: str, *args: str) -> float:
    return statistics.median(_python(code, *args) for _ in range(repeat))


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def fleet(size: int, jobs: int, scratch: Path) -> dict[str, float]:
    """Run ``cmkctl fleet`` on ``size`` generated stacks, sampling the process tree."""
    stacks, out = scratch / f"stacks-{size}", scratch / f"out-{size}"
    subprocess.run([sys.executable, "-m", "cmkctl", "fleet", "generate", "--count", str(size),
                    "--out-dir", str(stacks), "--seed", "1"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "cmkctl", "fleet", "--stack-dir",
                              str(stacks), "--out-dir", str(out), "--jobs", str(jobs),
                              "--format", "json"], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
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
        time.sleep(0.2)
    wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["errors"] == 0, summary["totals"]
    return {
        "stacks": size, "wall_s": round(wall, 2), "per_stack_ms": round(1000 * wall / size),
        "peak_tree_pss_mib": round(peak_pss / 2**20),
        "cpu_utilisation": round(sum(cpu.values()) / (wall * (os.cpu_count() or 1)), 2),
        "cpu_s_per_stack": round(sum(cpu.values()) / size, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cmkctl-bench-") as scratch_name:
        scratch = Path(scratch_name)
        modules = sdk_modules(scratch)
        floor = median_of(args.repeat, "import importlib, sys\n"
                          "for name in sys.argv[1:]: importlib.import_module(name)", *modules)
        one = median_of(args.repeat, _ONE_STACK, str(scratch))
        fleets = [fleet(size, args.jobs, scratch) for size in args.sizes]
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"{round(psutil.virtual_memory().total / 2**30)} GiB, Python "
                   f"{platform.python_version()}, load average at start {load:.1f}",
        "import_floor_s": round(floor, 2), "sdk_modules": len(modules),
        "one_stack_s": round(one, 2), "one_stack_over_floor": round(one / floor, 2),
        "jobs": args.jobs, "fleets": fleets,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
