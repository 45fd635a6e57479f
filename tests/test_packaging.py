"""A wheel carries what a run needs outside the checkout: notebooks, templates, reference lists."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """``pip wheel --no-deps`` on a copy of the sources (the build writes build/ and egg-info)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("src", "notebooks"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (path,) = out.glob("canbao-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_notebooks_templates_and_reference(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"canbao/notebooks/{nb.name}" in names
        assert wheel.read(f"canbao/notebooks/{nb.name}") == nb.read_bytes()
    templates = {n for n in names if n.startswith("canbao/templates/")}
    assert templates and any(n.endswith(".j2") or n.endswith(".json") for n in templates)
    assert "canbao/reference/counties.csv" in names
    assert not any(n.endswith(".sql") for n in names)


def test_spark_and_psutil_are_extras_and_still_locked(wheel: zipfile.ZipFile) -> None:
    meta = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    requires = [
        ln for ln in wheel.read(meta).decode().splitlines() if ln.startswith("Requires-Dist")
    ]
    spark = [r for r in requires if r.startswith("Requires-Dist: pyspark")]
    bench = [r for r in requires if r.startswith("Requires-Dist: psutil")]
    assert spark and all('extra == "spark"' in r for r in spark)
    assert bench and all('extra == "bench"' in r for r in bench)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["spark"] == ["pyspark"] and extras["bench"] == ["psutil"]
    lock = (ROOT / "requirements.lock").read_text()
    assert "\npyspark==" in lock and "\npsutil==" in lock


def test_installed_package_finds_its_notebooks_without_a_checkout(
    tmp_path: Path, monkeypatch
) -> None:
    from canbao.run import manifest as mf
    from canbao.run import request

    fake = tmp_path / "site-packages" / "canbao"
    (fake / "notebooks").mkdir(parents=True)
    monkeypatch.setattr(mf, "repo_root", lambda: None)
    monkeypatch.setattr(mf, "package_dir", lambda: fake)
    monkeypatch.setattr(request.importlib.resources, "files", lambda _: fake)
    assert request.default_notebook_dir() == fake / "notebooks"
