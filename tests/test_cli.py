"""The command line explains itself: Chinese help for every option, Chinese usage errors, --version."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from canbao import cli
from canbao.core.errors import ExitCode

CANBAO = [sys.executable, "-m", "canbao"]
HAN = re.compile(r"[\u4e00-\u9fff]")


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CANBAO, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_and_option_has_chinese_help_and_an_example() -> None:
    parser = cli.build_parser()
    subs = _subparsers(parser)
    assert set(subs) == {"demo", "run", "status", "verify", "export", "import-returns"}
    for name, sub in {"canbao": parser, **subs}.items():
        assert sub.epilog and "示例：" in sub.epilog, name
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and HAN.search(action.help), (name, action.dest)


@pytest.mark.parametrize("command", ["demo", "run", "status", "verify", "export", "import-returns"])
def test_help_subprocess_lists_every_option_with_its_text(command: str) -> None:
    res = _run(command, "--help")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("用法：canbao " + command)
    sub = _subparsers(cli.build_parser())[command]
    for action in sub._actions:
        for flag in action.option_strings or [action.dest]:
            assert flag in res.stdout, (command, flag)
        assert action.help.split("（")[0] in res.stdout, (command, action.dest)


def test_top_level_help_documents_every_exit_code() -> None:
    res = _run("--help")
    assert res.returncode == 0
    for code in ExitCode:
        assert re.search(rf"^\s+{int(code)}\s+\S", res.stdout, re.M), code
    assert "退出码" in res.stdout and "130" in res.stdout


def test_usage_errors_are_chinese_with_code_and_exit_2(tmp_path: Path) -> None:
    cases = {
        ("export", "x.duckdb"): "[usage_required]",
        ("demo", "--people", "many"): "[usage_not_positive]",
        ("run", "data/raw/430302", "--period", "2026-02-30"): "[usage_bad_date]",
        ("nonsense",): "[usage_invalid_choice]",
        ("status", "--bogus"): "[usage_unrecognized]",
        ("run",): "[usage_required]",
    }
    for args, code in cases.items():
        res = _run(*args, cwd=tmp_path)
        assert res.returncode == int(ExitCode.USAGE), args
        assert code in res.stderr and HAN.search(res.stderr.splitlines()[-2]), res.stderr
        assert "usage:" not in res.stderr and "error:" not in res.stderr, res.stderr
        assert "Traceback" not in res.stderr


def test_version_names_package_and_commit_in_a_checkout() -> None:
    res = _run("--version")
    assert res.returncode == 0
    assert re.fullmatch(r"canbao \d+\.\d+\.\d+( \(git [0-9a-f]{12}.*\))?\n", res.stdout)
    if (Path(cli.__file__).resolve().parents[2] / ".git").exists():
        assert "(git " in res.stdout


def test_version_outside_git_has_no_traceback(tmp_path: Path, monkeypatch) -> None:
    from canbao.run import manifest

    monkeypatch.setattr(manifest, "repo_root", lambda: None)
    assert cli.version_text().startswith("canbao ")
    assert "git" not in cli.version_text()


def test_errors_met_after_parsing_are_chinese_too(tmp_path: Path) -> None:
    res = _run("export", str(tmp_path / "none.duckdb"), "--as-of", "2026-01-31", "--to", "x")
    assert res.returncode == 2 and "[export_no_registry]" in res.stderr
    res = _run("run", str(tmp_path), "--no-notebooks", "--out", str(tmp_path / "out"))
    assert res.returncode == int(ExitCode.USAGE)  # a folder argument that is no district
    assert "没有以 YYYY-MM-DD 命名的期次目录 [run_no_periods]" in res.stderr
    assert "Traceback" not in res.stderr


def test_ctrl_c_turned_into_a_duckdb_error_still_exits_130(tmp_path) -> None:
    """Ctrl+C during a query ends as DuckDB's own error ("Query interrupted"), which a
    period's handler would record as a failure: the CLI remembers the key and exits 130.
    (In a child process: the signal must not reach the test runner's worker.)"""
    import subprocess
    import sys

    script = tmp_path / "press.py"
    script.write_text(
        """
import os, signal, sys, time
from canbao import cli

def pressed_during_a_query(_args):
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    except KeyboardInterrupt:
        raise RuntimeError("Query interrupted") from None
    return 0

cli._cmd_status = pressed_during_a_query
sys.exit(cli.main(["status", "reports/430302"]))
""",
        encoding="utf-8",
    )
    res = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert res.returncode == 130, res.stderr
    assert "[interrupted]" in res.stderr
    assert "RuntimeError" not in res.stderr and "Traceback" not in res.stderr
