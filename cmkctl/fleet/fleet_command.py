"""Arguments of ``cmkctl fleet``, ``cmkctl fleet merge`` and ``cmkctl fleet generate``."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmkctl.fleet.run import Output
    from cmkctl.fleet.summary import Rules

DEFAULT_OUT = "out/fleet"
FORMATS = ("text", "json", "markdown")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _verdict_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true",
                        help="as check --strict: a mandatory rule undecided until apply fails too")
    parser.add_argument("--allow-destructive", action="store_true",
                        help="report destructive changes against the base without failing")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text: table; json: the summary; markdown: one PR comment")


def register(commands: Any) -> None:
    fleet = commands.add_parser(
        "fleet", help="preview and check many stacks in one run (one summary, one PR comment)")
    fleet.add_argument("--stack-dir", type=Path,
                       help="directory of Pulumi.<stack>.yaml files (default: the project's, "
                            "stackConfigDir of Pulumi.yaml when set)")
    fleet.add_argument("--stacks", nargs="+", metavar="GLOB",
                       help="stack names to run, as globs (default: all)")
    fleet.add_argument("--out-dir", type=Path, default=Path(DEFAULT_OUT),
                       help=f"plans <stack>.json and summary.json go here (default {DEFAULT_OUT})")
    fleet.add_argument("--jobs", type=_positive, default=len(os.sched_getaffinity(0)),
                       help="worker processes (default: the number of cores)")
    fleet.add_argument("--shard", metavar="I/N", help="run only share I of N (CI matrix)")
    fleet.add_argument("--config", help="policy pack config (the --policy-pack-config JSON)")
    fleet.add_argument("--stack-timeout", type=_positive, default=600, metavar="SECONDS",
                       help="stop a stack's worker process after this long and report the "
                            "stack as stopped (default 600)")
    fleet.add_argument("--fleet-timeout", type=_positive, default=3600, metavar="SECONDS",
                       help="stop the whole run after this long, report unfinished stacks "
                            "as stopped and write the summary (default 3600); keep it under "
                            "the CI job's timeout")
    fleet.add_argument("--plans-dir", type=Path, metavar="DIR",
                       help="judge the plans DIR/<stack>.json made elsewhere (the pull "
                            "request's own `cmkctl fleet` run, or `pulumi preview --json` "
                            "files) instead of previewing: run this from a trusted checkout so "
                            "the code under review cannot judge itself")
    fleet.add_argument("--cache-dir", type=Path,
                       help="plan cache: reuse the plan and verdict of every stack (and base "
                            "stack) whose program, SDKs, project, stack files and policy "
                            "config are unchanged; record the others")
    base = fleet.add_mutually_exclusive_group()
    base.add_argument("--base-dir", type=Path,
                      help="diff every stack against the plan <stack>.json in this directory")
    base.add_argument("--base-ref", metavar="GIT_REF",
                      help="diff against plans built from this git ref (e.g. origin/main) in "
                           "a temporary worktree; they are kept in OUT_DIR/base")
    _verdict_options(fleet)
    fleet.set_defaults(handler=_run)
    actions = fleet.add_subparsers(dest="fleet_action", metavar="{merge,generate}")
    merge = actions.add_parser("merge", help="combine shards' summary.json into one report")
    merge.add_argument("dirs", nargs="+", type=Path, metavar="DIR",
                       help="out dirs of the shards")
    merge.add_argument("--out-dir", type=Path, default=Path(DEFAULT_OUT),
                       help=f"merged summary.json goes here (default {DEFAULT_OUT})")
    _verdict_options(merge)
    merge.set_defaults(handler=_merge)
    generate = actions.add_parser("generate", help="write N synthetic customer stack files")
    generate.add_argument("--count", type=_positive, required=True, help="number of stacks")
    generate.add_argument("--out-dir", type=Path, required=True, help="directory to write to")
    generate.add_argument("--seed", type=int, default=0, help="same seed, same fleet")
    generate.set_defaults(handler=_generate)


def _rules(args: argparse.Namespace) -> Rules:
    from cmkctl.fleet.summary import Rules  # noqa: PLC0415

    return Rules(strict=args.strict, allow_destructive=args.allow_destructive)


def _output(args: argparse.Namespace) -> Output:
    from cmkctl.fleet.run import Output  # noqa: PLC0415

    return Output(args.format, sys.stdout, sys.stderr)


def _run(args: argparse.Namespace) -> int:
    # Imported here: the SDKs load only when a fleet actually runs.
    from cmkctl.fleet import run as fleet  # noqa: PLC0415
    from cmkctl.fleet.base import BaseRefError  # noqa: PLC0415
    from cmkctl.fleet.cache import program_digest  # noqa: PLC0415
    from cmkctl.fleet.job import FleetJob, pack_problem  # noqa: PLC0415
    from cmkctl.fleet.select import (  # noqa: PLC0415
        SelectionError,
        parse_shard,
        project_stack_dir,
        select,
        shard,
    )
    from cmkctl.fleet.summary import EXIT_USAGE, Part  # noqa: PLC0415

    try:
        stack_dir = args.stack_dir or project_stack_dir(args.project_dir)
        fleet_stacks = select(stack_dir, args.stacks)
        index, count = parse_shard(args.shard) if args.shard else (1, 1)
        stacks = shard(fleet_stacks, index, count)
    except SelectionError as error:
        print(f"cmkctl fleet: {error}", file=sys.stderr)
        return EXIT_USAGE
    if problem := pack_problem(args.config):
        print(f"cmkctl fleet: {problem}", file=sys.stderr)
        return EXIT_USAGE
    out_dir = args.out_dir.resolve()
    cache_dir = args.cache_dir.resolve() if args.cache_dir else None
    if cache_dir is not None and cache_dir.exists() and not cache_dir.is_dir():
        print(f"cmkctl fleet: --cache-dir {args.cache_dir}: not a directory", file=sys.stderr)
        return EXIT_USAGE
    try:
        base_dir, label = _base(args, stack_dir, stacks, out_dir, cache_dir)
    except BaseRefError as error:
        print(f"cmkctl fleet: --base-ref {args.base_ref}: {error}", file=sys.stderr)
        return EXIT_USAGE
    for option, directory in (("--base-dir", base_dir), ("--plans-dir", args.plans_dir)):
        if directory is not None and not directory.is_dir():
            print(f"cmkctl fleet: {option} {directory}: no such directory", file=sys.stderr)
            return EXIT_USAGE
    job = FleetJob(root=args.project_dir, stack_dir=stack_dir.resolve(), out_dir=out_dir,
                   policy_config=args.config, base_dir=base_dir,
                   plans_dir=args.plans_dir.resolve() if args.plans_dir else None,
                   stack_timeout=args.stack_timeout, fleet_timeout=args.fleet_timeout,
                   cache_dir=cache_dir,
                   program=program_digest(args.project_dir) if cache_dir else "")
    part = Part(index, count, tuple(args.stacks) if args.stacks else None, tuple(fleet_stacks))
    return fleet.run(stacks, job, args.jobs, _rules(args), _output(args), part, label)


def _base(args: argparse.Namespace, stack_dir: Path, stacks: list[str], out_dir: Path,
          cache_dir: Path | None) -> tuple[Path | None, str | None]:
    """Where the base plans are, and how the report names the base."""
    from cmkctl.fleet.base import BaseCache, build_base_plans  # noqa: PLC0415

    if args.base_dir is not None:
        return args.base_dir.resolve(), str(args.base_dir)
    if args.base_ref is None:
        return None, None
    print(f"cmkctl fleet: previewing {len(stacks)} stacks at {args.base_ref} for the diff",
          file=sys.stderr)
    base_dir = out_dir / "base"
    shutil.rmtree(base_dir, ignore_errors=True)
    cache = BaseCache(cache_dir, args.config) if cache_dir else None
    build_base_plans(args.base_ref, args.project_dir, stack_dir, stacks, base_dir, args.jobs,
                     args.fleet_timeout, cache)
    return base_dir, args.base_ref


def _merge(args: argparse.Namespace) -> int:
    from cmkctl.fleet import run as fleet  # noqa: PLC0415

    return fleet.merge(args.dirs, args.out_dir, _rules(args), _output(args))


def _generate(args: argparse.Namespace) -> int:
    from cmkctl.fleet.generate import write_fleet  # noqa: PLC0415

    written = write_fleet(args.count, args.out_dir, args.seed)
    print(f"{len(written)} stack files written to {args.out_dir}")
    return 0
