"""The ``canbao`` command: argument parsing only; every action is a library call."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from canbao.core import messages
from canbao.core.errors import CanbaoError, ExitCode


def _cmd_demo(a: argparse.Namespace) -> int:
    from canbao.demo import generate

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
    from canbao.orchestrate import run_district

    return run_district(
        Path(a.district_dir),
        out_root=Path(a.out),
        params_dir=Path(a.params),
        period=dt.date.fromisoformat(a.period) if a.period else None,
        workers=a.workers,
        notebooks=not a.no_notebooks,
        force=a.force,
    )


def _cmd_verify(a: argparse.Namespace) -> int:
    from canbao.verify import verify

    return verify(Path(a.report_dir))


def _cmd_export(a: argparse.Namespace) -> int:
    from canbao.registry import export_as_of_cli

    return export_as_of_cli(Path(a.registry), dt.date.fromisoformat(a.as_of), Path(a.to))


def _cmd_import_returns(a: argparse.Namespace) -> int:
    from canbao.survey import import_returns_cli

    return import_returns_cli(Path(a.period_dir), out_root=Path(a.out), params_dir=Path(a.params))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="canbao", description="全民参保登记: district pipeline")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="generate a synthetic demo district with its truth")
    d.add_argument("--district", default="430302")
    d.add_argument("--people", type=int, default=50_000)
    d.add_argument("--seed", type=int, default=20261128)
    d.add_argument("--periods", type=int, default=3)
    d.add_argument("--raw", default="data/raw", help="root of extract folders (default data/raw)")
    d.add_argument(
        "--truth", default="data/truth", help="root of truth folders (default data/truth)"
    )
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser("run", help="run a district folder data/raw/<district_code>")
    r.add_argument("district_dir")
    r.add_argument("--period", help="YYYY-MM-DD: one period (earlier ones first if not yet run)")
    r.add_argument("--out", default="reports")
    r.add_argument("--params", default="params")
    r.add_argument("--workers", type=int, default=None)
    r.add_argument("--no-notebooks", action="store_true", help="district stage only, no notebooks")
    r.add_argument("--force", action="store_true", help="re-run periods even if up to date")
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser("verify", help="re-execute a period from its manifest and compare outputs")
    v.add_argument("report_dir", help="reports/<district_code>/<period>")
    v.set_defaults(func=_cmd_verify)

    e = sub.add_parser("export", help="export the registry as it stood on a date")
    e.add_argument("registry", help="reports/<district_code>/registry.duckdb")
    e.add_argument("--as-of", required=True)
    e.add_argument("--to", required=True, help="output folder")
    e.set_defaults(func=_cmd_export)

    i = sub.add_parser("import-returns", help="validate and import a period's survey_returns/")
    i.add_argument("period_dir")
    i.add_argument("--out", default="reports")
    i.add_argument("--params", default="params")
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
    try:
        return int(args.func(args) or 0)
    except CanbaoError as exc:
        print(f"canbao: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("canbao: 已中断 [interrupted]", file=sys.stderr)
        return 130
    except Exception:
        log = _log_internal_error()
        print(f"canbao: {messages.line('internal_error', log=log)}", file=sys.stderr)
        return int(ExitCode.INTERNAL)


if __name__ == "__main__":
    sys.exit(main())
