"""``cmkctl fleet``: preview and check every stack of the project in one run.

Exit status: 0 every stack passes, 1 any stack fails (did not run, mandatory violation,
destructive change without ``--allow-destructive``, or with ``--strict`` a mandatory rule
undecided until apply), 2 the arguments are unusable (one line on stderr says why).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cmkctl.fleet.report import markdown, print_table
from cmkctl.fleet.summary import EXIT_USAGE, Part, Rules, exit_code, summarise, write_summary

if TYPE_CHECKING:
    from cmkctl.fleet.job import FleetJob


@dataclass(frozen=True)
class Output:
    """Where and how a fleet run reports."""

    fmt: str
    """text (table), json (the summary) or markdown (one pull-request comment)."""
    out: TextIO
    """The report."""
    err: TextIO
    """Progress and errors."""


def report(summary: dict[str, Any], output: Output) -> int:
    """Print ``summary`` in the chosen format and return the fleet's exit status."""
    if output.fmt == "json":
        print(json.dumps(summary, indent=2), file=output.out)
    elif output.fmt == "markdown":
        output.out.write(markdown(summary))
    else:
        print_table(summary, output.out, output.out.isatty())
    return exit_code(summary)


def run(
    stacks: list[str],
    job: FleetJob,
    jobs: int,
    rules: Rules,
    output: Output,
    part: Part,
    base: str | None = None,
) -> int:
    """Run ``stacks`` (already selected and sharded: ``part`` says how), write plans and
    ``summary.json`` to ``job.out_dir`` and report; ``base`` names what ``job.base_dir`` was
    built from."""
    from cmkctl.fleet.hits import serve  # noqa: PLC0415
    from cmkctl.fleet.pool import run_stacks  # noqa: PLC0415 - SDKs load only for a run
    from cmkctl.fleet.progress import progress  # noqa: PLC0415

    job.out_dir.mkdir(parents=True, exist_ok=True)
    with progress(len(stacks), output.err, output.err.isatty()) as done:
        served = serve(job, stacks, done)  # cache hits, here; the pool runs the rest
        rest = [stack for stack in stacks if stack not in served]
        results = [*served.values(), *(run_stacks(job, rest, jobs, done) if rest else [])]
    summary = summarise(results, rules, base, part.document())
    write_summary(summary, job.out_dir)
    return report(summary, output)


def merge(directories: list[Path], out_dir: Path, rules: Rules, output: Output) -> int:
    """Combine shards' summaries (and copy their plans) into ``out_dir`` and report as one
    run."""
    from cmkctl.fleet.summary import SummaryError  # noqa: PLC0415
    from cmkctl.fleet.summary import merge as merge_summaries  # noqa: PLC0415

    try:
        summary, shard_of = merge_summaries(directories, rules)
    except SummaryError as error:
        print(f"cmkctl fleet merge: {error}", file=output.err)
        return EXIT_USAGE
    out_dir.mkdir(parents=True, exist_ok=True)
    for stack, shard_dir in shard_of.items():  # the plans too, as one run leaves them
        # The name was validated (no separator), and only a regular file is copied: a link
        # in a shard directory cannot pull a file from elsewhere into the merged artifact.
        plan = shard_dir / f"{stack}.json"
        if plan.is_file() and not plan.is_symlink() \
                and plan.resolve() != (out_dir / plan.name).resolve():
            shutil.copyfile(plan, out_dir / plan.name)
    write_summary(summary, out_dir)
    return report(summary, output)
