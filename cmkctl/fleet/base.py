"""Base plans from a git ref: the same stacks, previewed with the program as it was there.

The ref is checked out in a temporary worktree and its own code runs there, in a process of
its own (the base's ``components`` must not be mixed with this checkout's). Stack files come
from the ref at the same path relative to the repository; stacks kept outside the
repository (a generated fleet) are previewed from the same files with the base's program.
A stack missing at the ref has no base plan and is diffed as new; one the base program
cannot preview gets ``<stack>.base-error.txt`` instead, which the fleet reports.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cmkctl.fleet.cache import PlanSet, program_digest

# The base's own code previews its stacks; any version of this project has build_plan.
_DRIVER = r"""
import sys
from pathlib import Path
from cmkctl.plan.preview import build_plan
import json
out = Path(sys.argv[1])
for stack in sys.argv[2:]:
    try:
        plan = build_plan(stack)
    except Exception as error:
        (out / f"{stack}.base-error.txt").write_text(f"{type(error).__name__}: {error}\n")
        continue
    (out / f"{stack}.json").write_text(json.dumps(plan, indent=2) + "\n")
"""


@dataclass(frozen=True)
class BaseCache:
    """The plan cache a base build reads and fills (``cmkctl fleet --cache-dir``)."""

    cache_dir: Path
    policy_config: str | None
    """Part of every key: the same ``--config`` as the fleet's own stacks."""


class BaseRefError(Exception):
    """The ref cannot be checked out here; the message says why."""


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=False, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BaseRefError(f"git {' '.join(args)}: {error}") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise BaseRefError(f"git {' '.join(args)}: {message}")
    return done.stdout.strip()


def build_base_plans(ref: str, root: Path, stack_dir: Path, stacks: list[str],
                     out_dir: Path, jobs: int, timeout: float = 3600.0,
                     cache: BaseCache | None = None) -> Path:
    """Write ``out_dir/<stack>.json`` for every stack the base ``ref`` can preview, within
    ``timeout`` seconds (then the previews are killed and the ref is refused); with a plan
    cache, plans it holds for the base's program and stack files are reused, and the others
    are recorded in it."""
    if not ref or ref.startswith("-"):
        raise BaseRefError(f"{ref!r} is not a git ref (a branch, tag or commit)")
    top = Path(_git(root, "rev-parse", "--show-toplevel"))
    commit = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cmkctl-base-") as scratch:
        tree = Path(scratch) / "tree"
        _git(top, "worktree", "add", "--detach", "--force", str(tree), commit)
        try:
            base_root = tree / root.resolve().relative_to(top)
            _place_stack_files(top, tree, stack_dir.resolve(), base_root, stacks)
            present = [s for s in stacks if (base_root / f"Pulumi.{s}.yaml").is_file()]
            plans = None
            if cache is not None:
                plans = PlanSet(cache.cache_dir, program_digest(base_root), cache.policy_config,
                                base_root, out_dir)
                present = plans.serve(present)
            shares = [present[i::jobs] for i in range(min(jobs, len(present)))]
            workers = [subprocess.Popen([sys.executable, "-c", _DRIVER, str(out_dir), *share],
                                        cwd=base_root, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
                       for share in shares]
            try:
                _wait(workers, ref, time.monotonic() + timeout, timeout)
            finally:
                for worker in workers:
                    worker.kill()
                    worker.wait()
            if plans is not None:
                plans.record(present)
        finally:
            _git(top, "worktree", "remove", "--force", str(tree))
    return out_dir


def _wait(workers: list[subprocess.Popen[str]], ref: str, end: float, timeout: float) -> None:
    for worker in workers:
        try:
            _, errors = worker.communicate(timeout=max(end - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise BaseRefError(f"the previews of the stacks at {ref} did not finish within "
                               f"{timeout:g} s (--fleet-timeout); they were stopped") from None
        if worker.returncode != 0:
            last = (errors.strip().splitlines() or ["no output"])[-1]
            raise BaseRefError(f"the program at {ref} cannot preview offline: {last}")


def _place_stack_files(top: Path, tree: Path, stack_dir: Path, base_root: Path,
                       stacks: list[str]) -> None:
    """Put each stack's base-side file next to the base program, where its preview reads it."""
    try:
        source = tree / stack_dir.relative_to(top)
    except ValueError:
        source = stack_dir  # outside the repository: the same files, the base's program
    if source == base_root:
        return
    for stack in stacks:
        name = f"Pulumi.{stack}.yaml"
        if (source / name).is_file():
            # A link is copied as a link: the reader refuses one leading out of the directory.
            shutil.copyfile(source / name, base_root / name, follow_symlinks=False)
        else:
            (base_root / name).unlink(missing_ok=True)  # not in the base: a new stack
