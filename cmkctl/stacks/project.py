"""Which project directory a command reads: ``Pulumi.yaml``, the program and its stack files.

The Pulumi CLI works on the project in the current directory or one of its ancestors; so does
``cmkctl`` (``--project-dir`` overrides), falling back to the project it is installed from.
"""

from __future__ import annotations

from pathlib import Path

INSTALLED = Path(__file__).resolve().parents[2]
"""The project this package was installed from (an editable install of this repository)."""


class ProjectDirError(ValueError):
    """``--project-dir`` does not name a project directory."""


def project_dir(explicit: str | None, cwd: Path | None = None) -> Path:
    """``explicit`` if it holds ``Pulumi.yaml``; else the nearest ancestor of ``cwd`` that
    does; else the installed project."""
    if explicit is not None:
        chosen = Path(explicit).expanduser().resolve()
        if not (chosen / "Pulumi.yaml").is_file():
            raise ProjectDirError(
                f"--project-dir {explicit}: no Pulumi.yaml there; give the directory that "
                "holds the project's Pulumi.yaml and Pulumi.<stack>.yaml files")
        return chosen
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return INSTALLED
