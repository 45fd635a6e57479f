"""Build hook: ship the repository's ``notebooks/`` inside the package (``canbao/notebooks``).

Users open and edit the notebooks in ``notebooks/`` of a checkout; a wheel install has
no checkout, so the build copies them into the package, where
:func:`canbao.orchestrate.default_notebook_dir` finds them. Everything else about the
build is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


class BuildPyWithNotebooks(build_py):
    """``build_py``, then ``notebooks/*.ipynb`` → ``<build>/canbao/notebooks/``."""

    def run(self) -> None:
        super().run()
        dest = Path(self.build_lib) / "canbao" / "notebooks"
        dest.mkdir(parents=True, exist_ok=True)
        for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
            shutil.copyfile(nb, dest / nb.name)


setup(cmdclass={"build_py": BuildPyWithNotebooks})
