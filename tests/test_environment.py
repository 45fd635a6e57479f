"""The lock file, environment.yml and pyproject name the same dependencies at the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _direct() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        deps += extra
    return {_norm(re.split(r"[<>=!\[; ]", d, maxsplit=1)[0]) for d in deps}


def _conda_pip() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {_norm(p.split("==")[0]): p.split("==")[1] for p in pip}


def test_every_direct_dependency_is_pinned_in_the_lock() -> None:
    missing = _direct() - set(_lock())
    assert not missing, f"pyproject dependencies not in requirements.lock: {sorted(missing)}"


def test_environment_yml_names_the_same_dependencies_as_pyproject() -> None:
    assert set(_conda_pip()) == _direct()


def test_environment_yml_versions_match_the_lock() -> None:
    lock = _lock()
    drift = {n: (v, lock.get(n)) for n, v in _conda_pip().items() if lock.get(n) != v}
    assert not drift, f"environment.yml vs requirements.lock: {drift}"


def test_environment_yml_uses_python_311() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
