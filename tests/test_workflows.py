"""The CI workflows users copy: valid against GitHub's schema, clean under zizmor, and wired
so that code under review never holds a credential and never judges itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmkctl.fleet.report import MARKER
from cmkctl.plan.recorder import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ["offline.yml", "preview.yml"]
ZIZMOR = Path(sys.executable).parent / "zizmor"
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$")
SECRET_OR_TOKEN = re.compile(r"\$\{\{\s*secrets\.")


def workflow(name: str) -> dict[str, Any]:
    # yaml reads the key `on` as True; the workflow's own keys are what matter here.
    document: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return document


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, job_id, job) for name in NAMES
            for job_id, job in workflow(name)["jobs"].items()]


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("with", "")) for step in job["steps"])


def checkouts(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step.get("with", {}) for step in job["steps"]
            if str(step.get("uses", "")).startswith("actions/checkout@")]


def checks_out_pull_request_code(job: dict[str, Any]) -> bool:
    """A checkout without ``ref`` is the pull request's merge commit (or the dispatched ref);
    one at the base commit is trusted code."""
    return any("base.sha" not in str(given.get("ref", "")) for given in checkouts(job))


def holds_credentials(job: dict[str, Any]) -> bool:
    text = yaml.safe_dump(job)
    return (job.get("permissions", {}).get("id-token") == "write"
            or bool(SECRET_OR_TOKEN.search(text)) or "azure/login" in text)


def run_zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ZIZMOR), "--offline", "--persona=pedantic", "--no-progress",
                           *map(str, paths)], capture_output=True, text=True, check=False,
                          timeout=120)


@pytest.mark.parametrize("name", NAMES)
def test_workflow_is_valid_against_githubs_schema(name: str) -> None:
    # check-jsonschema ships SchemaStore's github-workflow schema: no network needed.
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(WORKFLOWS / name)],
        capture_output=True, text=True, check=False, timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "ok -- validation done"), done.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = workflow("offline.yml")
    broken["jobs"]["tests"]["runs-on"] = {"not": "a runner"}
    del broken["jobs"]["tests"]["steps"]
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(path)],
        capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 1


def test_zizmor_offline_finds_nothing_even_pedantic() -> None:
    done = run_zizmor(*(WORKFLOWS / name for name in NAMES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_zizmor_catches_what_the_workflows_avoid(tmp_path: Path) -> None:
    """The audit is live: an expression in run:, a tag pin and a checkout that keeps its
    token are each reported."""
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(
        "on: pull_request\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    permissions:\n      contents: read  # read\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    done = run_zizmor(bad / "bad.yml")
    assert done.returncode != 0
    for audit in ("template-injection", "unpinned-uses", "artipacked"):
        assert f"[{audit}]" in done.stdout, done.stdout


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_inside_any_run_script(name: str) -> None:
    """Values reach scripts through env:, never by expansion into the script's text."""
    for job in workflow(name)["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in str(step.get("run", "")), step


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    lines = [line for line in (WORKFLOWS / name).read_text().splitlines()
             if re.match(r"^\s*(- )?uses:", line)]
    assert lines
    assert [line for line in lines if not PINNED.match(line)] == []


def test_every_job_is_bounded_least_privileged_and_leaves_no_token_behind() -> None:
    for name in NAMES:
        assert workflow(name)["permissions"] == {}, name
    for name, job_id, job in jobs():
        where = f"{name}:{job_id}"
        assert isinstance(job.get("timeout-minutes"), int), where
        assert job["timeout-minutes"] <= 40, where
        assert job["permissions"]["contents"] == "read", where
        assert set(job["permissions"]) <= {"contents", "id-token", "pull-requests",
                                           "actions"}, where
        # Reading artifacts of other runs is the gate's alone: main's plan cache.
        if "actions" in job["permissions"]:
            assert (where, job["permissions"]["actions"]) == ("offline.yml:gate", "read")
        for given in checkouts(job):
            assert given.get("persist-credentials") is False, where


def test_code_under_review_never_holds_a_credential_outside_the_approval_gate() -> None:
    """The one job that runs pull-request code with a secret and an OIDC token is the real
    preview, and it runs only in the protected `preview` environment (required reviewers)."""
    exposed = {(name, job_id) for name, job_id, job in jobs()
               if checks_out_pull_request_code(job) and holds_credentials(job)}
    assert exposed == {("preview.yml", "preview")}
    preview = workflow("preview.yml")["jobs"]["preview"]
    assert preview["environment"] == "preview"
    assert "pull-requests" not in preview["permissions"]
    holders = {(name, job_id) for name, job_id, job in jobs() if holds_credentials(job)}
    assert holders == exposed
    text = (WORKFLOWS / "preview.yml").read_text()
    assert re.findall(r"secrets\.\w+", text) == ["secrets.PULUMI_ACCESS_TOKEN"]
    for forbidden in ("client-secret", "CLIENT_SECRET", "creds:", "password", "GITHUB_ENV"):
        assert forbidden not in text


def test_the_real_preview_uses_oidc_and_the_base_branchs_pack() -> None:
    job = workflow("preview.yml")["jobs"]["preview"]
    step = next(s for s in job["steps"] if "pulumi preview" in str(s.get("run", "")))
    assert step["env"]["ARM_USE_OIDC"] == "true"
    assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert 'ARM_OIDC_REQUEST_TOKEN="$ACTIONS_ID_TOKEN_REQUEST_TOKEN"' in step["run"]
    assert '--policy-pack "$PWD/gate/policies"' in step["run"]
    cli = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert "with" not in cli  # installs the CLI only; it runs nothing and comments nothing
    assert {c.get("path"): c.get("ref") for c in checkouts(job)} == {
        "pr": None,
        "gate": "${{ github.event.pull_request.base.sha || "
                "github.event.repository.default_branch }}"}
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    listing = workflow("preview.yml")["jobs"]["stacks"]["steps"][1]["run"]
    assert "! -regex '\\./Pulumi\\.[A-Za-z0-9_.-]{1,100}\\.yaml' | grep -q .; then" in listing


def test_the_stack_listing_refuses_names_the_cli_refuses(tmp_path: Path) -> None:
    """The preview workflow's listing script, run here on files with good and bad names."""
    script = workflow("preview.yml")["jobs"]["stacks"]["steps"][1]["run"]
    # The last line hands the names to jq for the matrix; here they are printed as they are.
    last = script.rstrip().splitlines()[-1]
    assert last.startswith('echo "stacks=$(printf') and "jq -sc" in last
    script = script.replace(last, "printf '%s\\n' \"$names\"")
    for name in ("Pulumi.dev.yaml", "Pulumi.prod-eu_1.yaml"):
        (tmp_path / name).write_text("config: {}\n")
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, check=False, timeout=60)
    assert (done.returncode, done.stdout) == (0, "dev\nprod-eu_1\n")
    for bad in ("Pulumi.a b.yaml", "Pulumi.x\ny.yaml", "Pulumi.<img>.yaml", "Pulumi..yaml"):
        (tmp_path / bad).write_text("config: {}\n")
        done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True,
                              text=True, check=False, timeout=60)
        assert (done.returncode, done.stdout) == (
            1, "::error::a Pulumi.<stack>.yaml file has a name the Pulumi CLI refuses\n"), bad
        (tmp_path / bad).unlink()


BASE_COMMIT = "${{ github.event.pull_request.base.sha }}"


def test_the_gate_and_the_comment_run_the_base_branchs_cmkctl_only() -> None:
    offline = workflow("offline.yml")["jobs"]
    verdict = workflow("preview.yml")["jobs"]["verdict"]
    for job in (offline["gate"], offline["comment"], verdict):
        scripts = "\n".join(str(s.get("run", "")) for s in job["steps"])
        commands = re.findall(r"(?m)^\s*(\S+/cmkctl|make)\b(.*)$", scripts)
        assert commands and all(program == "gate/.venv/bin/cmkctl" or args.startswith(" -C gate")
                                for program, args in commands), commands
        assert "base.sha" in str(checkouts(job)[0]["ref"])
        assert checkouts(job)[0]["path"] == "gate"
    gate = steps_text(offline["gate"])
    assert ("gate/.venv/bin/cmkctl fleet --project-dir pr --plans-dir head --base-ref "
            '"$BASE"') in gate
    assert offline["gate"]["needs"] == ["shards", "plans"]
    plans = steps_text(offline["plans"])
    assert ".venv/bin/cmkctl fleet --shard \"$SHARD\" --out-dir out/head" in plans
    assert checkouts(offline["plans"]) == [{"persist-credentials": False}]


def test_a_crash_fails_and_the_merge_counts_every_shard() -> None:
    offline = workflow("offline.yml")["jobs"]
    for job_id in ("plans", "gate"):
        script = steps_text(offline[job_id])
        assert 'if [ "$code" -gt 1 ] || ! python -m json.tool' in script
        assert "--stack-timeout 300 --fleet-timeout" in script
    comment = offline["comment"]
    assert "needs.gate.result == 'success'" in comment["if"]
    merge = steps_text(comment)
    assert "gate/.venv/bin/cmkctl fleet merge shards/fleet-* --strict" in merge
    assert 'if [ "$code" -gt 1 ]; then' in merge
    # The sticky comment is this workflow's own: the bot and the marker the report writes.
    assert f"const marker = '{MARKER}';" in merge
    assert "c.user.login === 'github-actions[bot]'" in merge and "updateComment" in merge
    assert comment["permissions"]["pull-requests"] == "write"
    assert "make plans" in steps_text(offline["plan-snapshots"])
    assert "make test" in steps_text(offline["tests"])


def test_only_the_untrusted_plans_job_keeps_a_plan_cache() -> None:
    """The pull request's code can write a cache it restores, so the gate (which judges) never
    restores one; the plans job's cache is keyed by the program's digest."""
    cached = [(name, job_id, step) for name, job_id, job in jobs() for step in job["steps"]
              if str(step.get("uses", "")).startswith("actions/cache")]
    assert [(name, job_id) for name, job_id, _ in cached] == [("offline.yml", "plans")]
    step = cached[0][2]["with"]
    digest = ("hashFiles('__main__.py', 'Pulumi.yaml', 'components/**', 'cmkctl/**', "
              "'policies/**', 'requirements.txt')")
    assert step["path"] == "out/plan-cache"
    program = f"plans-${{{{ {digest} }}}}-"
    shard = program + "${{ matrix.shard }}-"
    assert step["key"] == shard + "${{ github.run_id }}"
    assert step["restore-keys"].splitlines() == [shard, program]
    assert "--cache-dir out/plan-cache" in steps_text(workflow("offline.yml")["jobs"]["plans"])


def test_the_gate_reads_base_plans_only_from_mains_own_run_at_the_base_commit() -> None:
    """Main's code fills a plan cache on each push to main and keeps it as that run's artifact;
    the gate takes it only from a successful push run at the pull request's base commit, which
    no pull request can write."""
    offline = workflow("offline.yml")["jobs"]
    main = offline["main-plans"]
    assert main["if"] == "github.event_name == 'push'"  # on: push is main only
    assert workflow("offline.yml")[True]["push"] == {"branches": ["main"]}
    assert "--cache-dir out/plan-cache" in steps_text(main)
    upload = next(s for s in main["steps"] if str(s.get("uses", "")).startswith(
        "actions/upload-artifact"))
    assert upload["with"] == {"name": "main-plan-cache", "path": "out/plan-cache",
                              "retention-days": 30}
    gate = offline["gate"]
    find = next(s for s in gate["steps"] if s.get("id") == "main-run")
    assert find["env"]["BASE"] == "${{ github.event.pull_request.base.sha }}"
    for flag in ("--workflow offline.yml", "--branch main", "--event push", '--commit "$BASE"',
                 "--status success"):
        assert flag in find["run"]
    downloads = [s for s in gate["steps"] if s.get("with", {}).get("name") == "main-plan-cache"]
    assert [d["with"] for d in downloads] == [{
        "name": "main-plan-cache", "path": "base-cache",
        "run-id": "${{ steps.main-run.outputs.id }}", "github-token": "${{ github.token }}"}]
    assert downloads[0]["if"] == "steps.main-run.outputs.id != ''"
    assert "--cache-dir base-cache" in steps_text(gate)


def test_codeowners_guard_the_gate_and_the_workflows() -> None:
    owners = (ROOT / ".github" / "CODEOWNERS").read_text()
    rules = [line.split()[0] for line in owners.splitlines()
             if line.strip() and not line.startswith("#")]
    for path in ("/cmkctl/", "/policies/", "/.github/"):
        assert path in rules


@pytest.mark.parametrize(("writes", "exit_code", "job_fails"), [
    ('{"stacks": []}', 0, False),
    ('{"stacks": []}', 1, False),     # findings: the gate and the merge decide
    (None, 1, True),                  # a traceback is exit 1 too, but leaves no summary
    ('{"stacks": [', 1, True),        # a summary cut off mid-write
    ('{"stacks": []}', 2, True),      # bad arguments
])
def test_the_plans_step_tells_findings_from_a_crash(
    tmp_path: Path, writes: str | None, exit_code: int, job_fails: bool
) -> None:
    """The plans job's script, run with a stand-in cmkctl that exits as told."""
    step = next(s for s in workflow("offline.yml")["jobs"]["plans"]["steps"]
                if "cmkctl fleet" in str(s.get("run", "")))
    fake = tmp_path / ".venv" / "bin" / "cmkctl"
    fake.parent.mkdir(parents=True)
    write = f"printf '%s' '{writes}' > out/head/summary.json; " if writes else ""
    fake.write_text(f"#!/bin/sh\nmkdir -p out/head; {write}exit {exit_code}\n")
    fake.chmod(0o755)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "SHARD": "1/1"}
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert (done.returncode != 0) == job_fails, done.stdout + done.stderr
    crash = "::error::cmkctl fleet crashed on shard 1/1"
    assert (crash in done.stdout) == job_fails
