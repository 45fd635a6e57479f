"""The mistakes people make at the command line, through ``canbao`` as a subprocess.

Typos in a subcommand or option, a file or the raw root where a district folder is
wanted, ``--out`` pointed into the extracts, a ``--params`` that is the YAML file
itself or a mistyped folder, an output folder that cannot be written, a second run on
a busy registry. Each is refused before anything is read or written, with exit code 2
(5 for a busy registry), no traceback, and one Chinese line naming the path and the
stable code. None of these cases needs real extracts: the refusal comes first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from canbao.run.lock import registry_lock

DISTRICT = "430302"
PERIOD = "2026-10-31"
CANBAO = str(Path(sys.executable).with_name("canbao"))


def canbao(*args: str | Path, cwd: Path) -> tuple[int, str]:
    res = subprocess.run(
        [CANBAO, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    seen = res.stdout + res.stderr
    assert "Traceback" not in seen, seen
    return res.returncode, seen


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """``raw/430302/2026-10-31/hukou.csv`` (content never read) and an empty ``params/``."""
    period = tmp_path / "raw" / DISTRICT / PERIOD
    period.mkdir(parents=True)
    (period / "hukou.csv").write_text("公民身份号码,姓名\n", encoding="utf-8")
    (tmp_path / "params").mkdir()
    return tmp_path


# ------------------------------------------------------------------ typing


def test_a_mistyped_subcommand_is_named_with_the_closest_one(tmp_path: Path) -> None:
    """Old code: the list of subcommands, without saying which was meant."""
    code, seen = canbao("rum", "raw/430302", cwd=tmp_path)
    assert code == 2
    assert "'rum'" in seen and "[usage_invalid_choice]" in seen
    assert "是否想输入：run [usage_did_you_mean]" in seen


def test_a_mistyped_option_is_reported_by_its_subcommand(root: Path) -> None:
    """Old code: the top-level usage and ``canbao -h``; the period swallowed as the folder."""
    code, seen = canbao("run", "--peroid", PERIOD, "raw/430302", cwd=root)
    assert code == 2
    assert "--peroid" in seen and "[usage_unrecognized]" in seen
    assert "是否想输入：--period [usage_did_you_mean]" in seen
    assert "运行 canbao run -h 查看帮助和示例" in seen


def test_workers_zero_means_the_cpu_count_as_in_the_params(root: Path) -> None:
    """Old code: the params file allowed ``workers: 0`` (one per CPU), ``--workers 0`` was refused.
    Now both agree; a negative number is refused by both."""
    code, seen = canbao("run", "raw/430302/nothing", "--workers", "0", cwd=root)
    assert code == 2 and "[district_dir_missing]" in seen  # parsed: the folder is what fails
    code, seen = canbao("run", "raw/430302", "--workers", "-1", cwd=root)
    assert code == 2 and "--workers" in seen and "[usage_not_non_negative]" in seen


def test_demo_for_a_code_that_is_no_district(tmp_path: Path) -> None:
    """Old code: an internal error (exit 9, a traceback in a log file)."""
    code, seen = canbao(
        "demo", "--district", "999999", "--people", "10", "--raw", "r", "--truth", "t", cwd=tmp_path
    )
    assert code == 2 and "999999" in seen and "[demo_unknown_district]" in seen
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------ the district folder


def test_a_file_given_instead_of_the_district_folder(root: Path) -> None:
    """Old code: 区县文件夹不存在 — but the path exists: it is the extract itself."""
    code, seen = canbao("run", f"raw/{DISTRICT}/{PERIOD}/hukou.csv", cwd=root)
    assert code == 2 and "hukou.csv" in seen and "[district_dir_is_file]" in seen


def test_the_raw_root_given_instead_of_the_district_folder(root: Path) -> None:
    """Old code: 期次文件夹须以提取日期命名, naming raw/430302 (six digits look like a date)."""
    code, seen = canbao("run", "raw", cwd=root)
    assert code == 2 and "[district_dir_is_root]" in seen
    assert f"raw/{DISTRICT}" in seen


def test_a_district_folder_named_by_its_name_not_its_code(root: Path) -> None:
    """Old code: ran, and every person ID became ``P雨湖区-0000001``; the params file
    ``雨湖区.yaml`` was looked for, the output went to ``reports/雨湖区``."""
    (root / "raw" / DISTRICT).rename(root / "raw" / "雨湖区")
    code, seen = canbao("run", "raw/雨湖区", "--no-notebooks", cwd=root)
    assert code == 2 and "raw/雨湖区" in seen and "[district_dir_not_code]" in seen
    assert not (root / "reports").exists()


# ------------------------------------------------------------------ --out and --params


@pytest.mark.parametrize("out", ["raw", f"raw/{DISTRICT}", f"raw/{DISTRICT}/{PERIOD}/out", "raw/x"])
def test_out_inside_the_extracts_is_refused_and_the_extracts_survive(root: Path, out: str) -> None:
    """Old code: ``--out raw`` made the period's output folder *the* period's extract folder,
    and the re-run's clean-up deleted every extract in it before reading them."""
    code, seen = canbao("run", f"raw/{DISTRICT}", "--out", out, "--no-notebooks", cwd=root)
    assert code == 2 and out in seen and "[out_inside_raw]" in seen
    assert sorted(p.name for p in (root / "raw" / DISTRICT / PERIOD).iterdir()) == ["hukou.csv"]


def test_out_that_cannot_be_written(root: Path) -> None:
    """Old code: an internal error (exit 9) for an OSError. A file in the way stands for a
    read-only or full disk (the tests may run as root, for whom permissions do not bite)."""
    (root / "reports").write_text("not a folder", encoding="utf-8")
    code, seen = canbao("run", f"raw/{DISTRICT}", "--out", "reports/x", "--no-notebooks", cwd=root)
    assert code == 2 and "reports/x" in seen and "[out_not_writable]" in seen


def test_params_given_as_the_yaml_file(root: Path) -> None:
    """Old code: ``--params params/430302.yaml`` looked for ``params/430302.yaml/430302.yaml``,
    found nothing and ran with the defaults without a word."""
    (root / "params" / f"{DISTRICT}.yaml").write_text("workers: 1\n", encoding="utf-8")
    code, seen = canbao(
        "run", f"raw/{DISTRICT}", "--params", f"params/{DISTRICT}.yaml", "--no-notebooks", cwd=root
    )
    assert code == 2 and f"params/{DISTRICT}.yaml" in seen and "[params_dir_is_file]" in seen
    assert "--params params" in seen


def test_a_mistyped_params_folder(root: Path) -> None:
    """Old code: ran with the defaults without a word."""
    code, seen = canbao("run", f"raw/{DISTRICT}", "--params", "parmas", "--no-notebooks", cwd=root)
    assert code == 2 and "parmas" in seen and "[params_dir_missing]" in seen


def test_a_second_run_on_a_busy_registry(root: Path) -> None:
    """Old code: exit 5 with an English sentence."""
    with registry_lock(root / "reports" / DISTRICT):
        code, seen = canbao("run", f"raw/{DISTRICT}", "--no-notebooks", cwd=root)
    assert code == 5 and "登记库正被另一个运行使用" in seen and "[registry_busy]" in seen
    assert "run.lock" in seen


def test_import_returns_while_a_run_holds_the_registry(root: Path) -> None:
    """Old code: import-returns opened the registry under a running period (no lock taken)."""
    registry = root / "reports" / DISTRICT / "registry.duckdb"
    registry.parent.mkdir(parents=True)
    registry.write_bytes(b"")  # never opened: the lock is asked first
    with registry_lock(root / "reports" / DISTRICT):
        code, seen = canbao(
            "import-returns", f"raw/{DISTRICT}/{PERIOD}", "--params", "params", cwd=root
        )
    assert code == 5 and "登记库正被另一个运行使用" in seen and "[registry_busy]" in seen
    assert "run.lock" in seen and registry.read_bytes() == b""


def test_a_params_folder_without_this_districts_file_is_said(root: Path) -> None:
    """Old code: params/ holding only another district's file ran with the defaults silently.
    Now the console says so before the period starts (here it then stops on the extracts)."""
    (root / "params" / "430321.yaml").write_text("workers: 1\n", encoding="utf-8")
    code, seen = canbao("run", f"raw/{DISTRICT}", "--params", "params", "--no-notebooks", cwd=root)
    assert (
        f"参数目录 params 中没有 {DISTRICT}.yaml，本次使用默认参数 [params_defaults_used]" in seen
    )
    assert code == 3 and "[header_required_missing]" in seen


def test_status_on_the_extracts_folder(root: Path) -> None:
    """Old code: 找不到该区县的提取目录 (exit 3) — while the folder given *is* the extracts."""
    code, seen = canbao("status", f"raw/{DISTRICT}", cwd=root)
    assert code == 2 and f"raw/{DISTRICT}" in seen and "[status_given_raw_dir]" in seen
