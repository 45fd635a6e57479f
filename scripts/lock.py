"""Regenerate requirements.lock and environment.yml from the working venv.

Run after adding a dependency to pyproject.toml and installing it:
    .venv/bin/python scripts/lock.py
requirements.lock pins every package (pip freeze --all, editable canbao excluded);
environment.yml names the project's direct dependencies at the same versions for conda
users. tests/test_environment.py fails when the two drift apart.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def direct_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        names += extra
    return [re.split(r"[<>=!\[; ]", n, maxsplit=1)[0] for n in names]


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> None:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    pins = sorted(
        (line for line in frozen if "==" in line and not line.lower().startswith("canbao")),
        key=lambda s: norm(s.split("==")[0]),
    )
    (ROOT / "requirements.lock").write_text(
        "# Exact versions installed by scripts/bootstrap.sh (pip install --no-deps -r).\n"
        "# Regenerate with: .venv/bin/python scripts/lock.py\n" + "\n".join(pins) + "\n"
    )
    versions = {norm(p.split("==")[0]): p.split("==")[1] for p in pins}
    lines = [
        "# conda users: conda env create -f environment.yml && pip install --no-deps -e .",
        "# Same direct dependencies and versions as requirements.lock (tests/test_environment.py).",
        "name: canbao",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
    ]
    for dep in sorted(set(direct_dependencies()), key=norm):
        lines.append(f"      - {dep}=={versions[norm(dep)]}")
    (ROOT / "environment.yml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
