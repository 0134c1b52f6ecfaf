"""Where the SOPs shipped with cswork live (installed or in a source checkout)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_workflows() -> Path:
    """The directory of the shipped workflow and calendar files.

    In an installed wheel they are package data (``cswork/_shipped_workflows``);
    in a source checkout or an editable install, the repository's
    ``workflows/`` directory.
    """
    packaged = Path(str(resources.files("cswork"))) / "_shipped_workflows"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "workflows"
