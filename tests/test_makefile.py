"""The Makefile says what is wrong with the interpreter instead of failing inside pip.

Each test runs a copy of the Makefile with a stand-in ``PYTHON`` (a shell script), so nothing is
installed and the project's own ``.venv`` is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PYTHON_3_10 = """#!/bin/sh
case "$1" in
  --version) echo "Python 3.10.12" ;;
  -c) case "$2" in *"version_info < (3, 11)"*) exit 1 ;; *) echo "cpython-3.10.12" ;; esac ;;
  *) exit 3 ;;
esac
"""

# A 3.11 stand-in whose ``-m venv DIR`` makes a venv whose python and pip do nothing.
PYTHON_3_11 = """#!/bin/sh
case "$1" in
  -c) case "$2" in *"version_info < (3, 11)"*) exit 0 ;; *) echo "cpython-3.11.99" ;; esac ;;
  -m) mkdir -p "$3/bin"; cp "$0" "$3/bin/python" ;;
  *) exit 0 ;;
esac
"""


def _project(tmp_path: Path, python: str) -> Path:
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    fake = tmp_path / "fake-python"
    fake.write_text(python)
    fake.chmod(0o755)
    return fake


def _make(tmp_path: Path, fake: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", f"PYTHON={fake}", *targets], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_an_old_python_stops_at_once_with_the_fix(tmp_path: Path) -> None:
    fake = _project(tmp_path, PYTHON_3_10)
    done = _make(tmp_path, fake, "preview")
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == (
        "dedicated-cmk needs Python 3.11+ (found: Python 3.10.12); set PYTHON=, "
        "e.g. make PYTHON=python3.11")
    assert not (tmp_path / ".venv").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_a_venv_built_by_another_python_is_rebuilt(tmp_path: Path) -> None:
    fake = _project(tmp_path, PYTHON_3_11)
    stale = tmp_path / ".venv" / "bin" / "python"
    stale.parent.mkdir(parents=True)
    stale.write_text('#!/bin/sh\necho "cpython-3.12.0"\n')
    stale.chmod(0o755)
    (tmp_path / ".venv" / "stale-marker").touch()
    done = _make(tmp_path, fake, ".venv/.installed-cpython-3.11.99")
    assert done.returncode == 0, done.stderr
    assert ".venv was built by another Python; rebuilding it" in done.stdout
    assert not (tmp_path / ".venv" / "stale-marker").exists()
    assert (tmp_path / ".venv" / ".installed-cpython-3.11.99").exists()
