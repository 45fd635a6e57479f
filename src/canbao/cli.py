"""The ``canbao`` command: argument parsing only; every action is a library call.

Help, errors and the exit-code table are in Chinese (argparse's own English
messages are translated by :mod:`canbao.chinese_argparse`); option names and the
message codes in square brackets stay English for scripts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from canbao.chinese_argparse import (
    PROG,
    ChineseArgumentParser,
    iso_date,
    non_negative_int,
    positive_int,
)
from canbao.core import interrupt, messages
from canbao.core.errors import CanbaoError, ExitCode


class _VersionAction(argparse.Action):
    """``--version``: computed only when asked (it may call git)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        print(version_text())
        parser.exit()


def version_text() -> str:
    """``canbao 0.1.0``, plus the commit when running from a git checkout."""
    import importlib.metadata as md

    from canbao import __version__
    from canbao.run import manifest as mf

    try:
        version = md.version("canbao")
    except md.PackageNotFoundError:
        version = __version__
    text = f"{PROG} {version}"
    if mf.repo_root() is not None:
        state = mf.git_state()
        if state.get("commit"):
            text += (
                f" (git {state['commit'][:12]}{'，有未提交的修改' if state.get('dirty') else ''})"
            )
    return text


def exit_codes_text() -> str:
    """The exit-code table for ``--help`` (the ExitCode enum is the source)."""
    rows = [f"  {int(c):>3}  {messages.text('exit_' + c.name.lower())}" for c in ExitCode]
    rows.append(f"  130  {messages.text('exit_interrupted')}")
    return "退出码：\n" + "\n".join(rows)


# --------------------------------------------------------------------------- commands


def _cmd_demo(a: argparse.Namespace) -> int:
    from canbao.core import refdata
    from canbao.demo import generate

    if refdata.county_name(a.district) is None:
        raise CanbaoError("demo_unknown_district", code=a.district)
    generate(
        district_code=a.district,
        people=a.people,
        seed=a.seed,
        raw_root=Path(a.raw),
        truth_root=Path(a.truth),
        periods=a.periods,
    )
    return 0


def _cmd_run(a: argparse.Namespace) -> int:
    from canbao.run.orchestrate import run_district

    return run_district(
        Path(a.district_dir),
        out_root=Path(a.out),
        params_dir=Path(a.params or "params"),
        period=a.period,
        workers=a.workers,
        notebooks=not a.no_notebooks,
        force=a.force,
        params_explicit=a.params is not None,
    )


def _cmd_verify(a: argparse.Namespace) -> int:
    from canbao.run.verify import verify

    return verify(Path(a.report_dir))


def _cmd_export(a: argparse.Namespace) -> int:
    from canbao.registry.as_of import export_as_of_cli

    return export_as_of_cli(Path(a.registry), a.as_of, Path(a.to))


def _cmd_import_returns(a: argparse.Namespace) -> int:
    """An import writes the registry: it holds the run's lock, so an import during a run
    (or a run during an import) gets the busy message instead of a half-written registry."""
    from canbao.core.context import period_context
    from canbao.run.lock import registry_lock
    from canbao.survey import import_returns_cli

    ctx = period_context(Path(a.period_dir), Path(a.out))
    args = (Path(a.period_dir),)
    kwargs = {"out_root": Path(a.out), "params_dir": Path(a.params)}
    if not ctx.registry_path.exists():  # refused with its own message; no lock file left
        return import_returns_cli(*args, **kwargs)
    with registry_lock(ctx.district_dir):
        return import_returns_cli(*args, **kwargs)


def _cmd_status(a: argparse.Namespace) -> int:
    from canbao.run.status import status_cli

    return status_cli(
        Path(a.report_dir) if a.report_dir else None,
        out_root=Path(a.out),
        raw=Path(a.raw) if a.raw else None,
        params_dir=Path(a.params) if a.params else None,
    )


def _examples(*lines: str) -> str:
    return "示例：\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    p = ChineseArgumentParser(
        prog=PROG,
        description="全民参保登记：区县数据的清理、比对、登记库、花名册与通报（可复现分析）。",
        epilog=_examples(
            "canbao demo --people 2000 --periods 2",
            "canbao run data/raw/430302",
            "canbao status reports/430302",
        )
        + "\n\n"
        + exit_codes_text(),
    )
    p.add_argument(
        "--version", action=_VersionAction, help="显示版本（从 git 检出运行时附提交号）并退出"
    )
    sub = p.add_subparsers(dest="command", required=True, title="子命令", metavar="<子命令>")

    d = sub.add_parser(
        "demo",
        help="生成一个模拟区县（各期提取数据及其真值）",
        description="生成模拟区县：各期的户籍、常住、参保等提取文件，以及用于检验的真值。",
        epilog=_examples(
            "canbao demo",
            "canbao demo --district 430302 --people 2000 --periods 2 --raw /tmp/raw --truth /tmp/truth",
        ),
    )
    d.add_argument(
        "--district",
        default="430302",
        metavar="CODE",
        help="区县代码（GB/T 2260 六位，默认 430302 雨湖区）",
    )
    d.add_argument(
        "--people", metavar="N", type=positive_int, default=50_000, help="模拟人数（默认 50000）"
    )
    d.add_argument(
        "--seed",
        metavar="N",
        type=int,
        default=20261128,
        help="随机种子：种子相同则数据逐字节相同（默认 20261128）",
    )
    d.add_argument(
        "--periods", metavar="N", type=positive_int, default=3, help="生成的半月期数（默认 3）"
    )
    d.add_argument(
        "--raw", metavar="DIR", default="data/raw", help="提取数据的根目录（默认 data/raw）"
    )
    d.add_argument(
        "--truth", metavar="DIR", default="data/truth", help="真值的根目录（默认 data/truth）"
    )
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser(
        "run",
        help="按日期顺序运行一个区县目录 data/raw/<区县代码> 的各期",
        description="运行区县各期：已是最新（输入、参数、代码、笔记本均未变）的期次跳过。",
        epilog=_examples(
            "canbao run data/raw/430302",
            "canbao run data/raw/430302 --period 2026-01-31",
            "canbao run data/raw/430302 --out /tmp/reports --workers 2 --force",
        )
        + "\n\n"
        + exit_codes_text(),
    )
    r.add_argument(
        "district_dir", help="区县提取目录 data/raw/<区县代码>，内含各期 YYYY-MM-DD 目录"
    )
    r.add_argument(
        "--period",
        metavar="YYYY-MM-DD",
        type=iso_date,
        help="只运行到这一期（YYYY-MM-DD）；更早未运行的期次先运行",
    )
    r.add_argument("--out", metavar="DIR", default="reports", help="输出根目录（默认 reports）")
    r.add_argument(
        "--params",
        metavar="DIR",
        default=None,
        help="参数目录，内含 <区县代码>.yaml（默认 params；其中没有该文件时用默认参数）",
    )
    r.add_argument(
        "--workers",
        metavar="N",
        type=non_negative_int,
        default=None,
        help="并行执行乡镇笔记本的进程数，0 表示按 CPU 核数，最多为 CPU 核数"
        "（默认取参数文件中的 workers）",
    )
    r.add_argument(
        "--no-notebooks", action="store_true", help="只运行区级数据阶段，不执行笔记本、不生成通报"
    )
    r.add_argument("--force", action="store_true", help="即使已是最新也重新运行")
    r.set_defaults(func=_cmd_run)

    s = sub.add_parser(
        "status",
        help="列出各期状态：已是最新、输入已变、失败或未运行",
        description=(
            "列出区县各期的状态、最近运行时间和首页位置；判断“已是最新”的方法与 run 完全相同。"
        ),
        epilog=_examples(
            "canbao status", "canbao status reports/430302", "canbao status --out /tmp/reports"
        ),
    )
    s.add_argument(
        "report_dir",
        nargs="?",
        help="区县输出目录 reports/<区县代码>（省略时列出 --out 下的所有区县）",
    )
    s.add_argument(
        "--out",
        metavar="DIR",
        default="reports",
        help="省略区县目录时查找的输出根目录（默认 reports）",
    )
    s.add_argument(
        "--raw",
        metavar="DIR",
        help="区县提取目录 data/raw/<区县代码>（默认取最近一次运行记录的目录）",
    )
    s.add_argument("--params", metavar="DIR", help="参数目录（默认取最近一次运行记录的目录）")
    s.set_defaults(func=_cmd_status)

    v = sub.add_parser(
        "verify",
        help="按运行记录（manifest）重新执行一期并逐字节比对输出",
        description="在临时目录中按 manifest.json 重新执行一期，并逐一比对输出文件。",
        epilog=_examples("canbao verify reports/430302/2026-01-31"),
    )
    v.add_argument("report_dir", help="一期的输出目录 reports/<区县代码>/<YYYY-MM-DD>")
    v.set_defaults(func=_cmd_verify)

    e = sub.add_parser(
        "export",
        help="导出登记库在某一日期的状态（registry.csv）",
        description="以只读方式打开登记库，写出截至某日的 registry.csv。",
        epilog=_examples(
            "canbao export reports/430302/registry.duckdb --as-of 2026-01-31 --to /tmp/asof"
        ),
    )
    e.add_argument("registry", help="登记库文件 reports/<区县代码>/registry.duckdb")
    e.add_argument(
        "--as-of", metavar="YYYY-MM-DD", required=True, type=iso_date, help="截至日期 YYYY-MM-DD"
    )
    e.add_argument("--to", metavar="DIR", required=True, help="输出目录")
    e.set_defaults(func=_cmd_export)

    i = sub.add_parser(
        "import-returns",
        help="校验并导入一期的入户调查回收表 survey_returns/",
        description="在期次运行之外校验并导入回收的花名册；通过的行立即写入登记库。",
        epilog=_examples("canbao import-returns data/raw/430302/2026-02-15"),
    )
    i.add_argument("period_dir", help="一期的提取目录 data/raw/<区县代码>/<YYYY-MM-DD>")
    i.add_argument("--out", metavar="DIR", default="reports", help="输出根目录（默认 reports）")
    i.add_argument("--params", metavar="DIR", default="params", help="参数目录（默认 params）")
    i.set_defaults(func=_cmd_import_returns)
    return p


def _log_internal_error() -> Path:
    """Keep the traceback for the maintainer; the user gets one line naming this file."""
    import tempfile
    import traceback

    fd, name = tempfile.mkstemp(prefix="canbao-error-", suffix=".log")
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return Path(name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    interrupt.install()
    try:
        code = int(args.func(args) or 0)
    except CanbaoError as exc:
        if interrupt.seen():
            return _interrupted()
        print(f"{PROG}: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:
        if interrupt.seen():  # DuckDB's "Query interrupted" is the user's Ctrl+C
            return _interrupted()
        from canbao.run.paths import storage_failure

        reason = storage_failure(exc)
        if reason:  # a full disk or a folder without permission: the user can fix it
            print(f"{PROG}: {messages.line('os_error', reason=reason)}", file=sys.stderr)
            return int(ExitCode.USAGE)
        log = _log_internal_error()
        print(f"{PROG}: {messages.line('internal_error', log=log)}", file=sys.stderr)
        return int(ExitCode.INTERNAL)
    return _interrupted() if interrupt.seen() else code


def _interrupted() -> int:
    """Ctrl+C: one Chinese line, exit 130 (the shell's code for SIGINT)."""
    print(f"{PROG}: {messages.line('interrupted')}", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
