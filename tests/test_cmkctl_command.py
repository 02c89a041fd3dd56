"""The ``cmkctl`` command: installed in the venv, usable anywhere, on the right project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cmkctl import cli
from cmkctl.stacks.project import INSTALLED, ProjectDirError, project_dir

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "cmkctl"


@pytest.mark.skipif(not COMMAND.exists(), reason="make installs .venv/bin/cmkctl; run make test")
def test_installed_command_runs_from_any_directory(tmp_path: Path) -> None:
    done = subprocess.run([str(COMMAND), "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: cmkctl ")
    assert "preview" in done.stdout and "--project-dir" in done.stdout


def test_the_nearest_project_upwards_is_used(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: dedicated-cmk\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert project_dir(None, cwd=deep) == tmp_path.resolve()


def test_outside_any_project_the_installed_one_is_used(tmp_path: Path) -> None:
    assert project_dir(None, cwd=tmp_path) == INSTALLED == ROOT


def test_a_project_dir_without_pulumi_yaml_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ProjectDirError, match=r"no Pulumi\.yaml there"):
        project_dir(str(tmp_path))
    assert cli.main(["--project-dir", str(tmp_path), "preview", "--stack", "dev"]) == 2
    assert capsys.readouterr().err == (
        f"cmkctl: --project-dir {tmp_path}: no Pulumi.yaml there; give the directory that "
        "holds the project's Pulumi.yaml and Pulumi.<stack>.yaml files\n")


def test_stack_files_are_read_from_the_project_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    stack = (ROOT / "Pulumi.dev.yaml").read_text()
    assert "kv-contoso-cmk-dev" in stack
    (tmp_path / "Pulumi.dev.yaml").write_text(stack.replace("kv-contoso-cmk-dev", "kv-elsewhere"))
    assert cli.main(["--project-dir", str(tmp_path), "preview", "--stack", "dev", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    vaults = [step["newState"]["inputs"]["vaultName"] for step in plan["steps"]
              if step["newState"]["type"] == "azure-native:keyvault:Vault"]
    assert vaults == ["kv-elsewhere"]


def test_a_missing_stack_file_names_the_project_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    assert cli.main(["--project-dir", str(tmp_path), "preview", "--stack", "dev"]) == 2
    assert capsys.readouterr().err.startswith(
        f"cmkctl preview: no stack file Pulumi.dev.yaml in {tmp_path}")
