"""The notebooks a period runs: the district's, then per township and the bulletins.

Each becomes a ``NotebookTask`` with its parameters (paths relative to the notebook's
own folder, so an executed notebook reads the same on another machine), its title
and where its HTML and PDF go. The townships are those with people in the period's
registry export, named as everywhere else (``canbao.core.places.unit_names``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.places import district_name
from canbao.run import manifest as mf
from canbao.run.notebooks import NotebookTask
from canbao.run.request import BULLETIN_NB, DISTRICT_NB, TOWNSHIP_NB, RunRequest

RUN_LOG = mf.RUN_LOG_NAME


def township_list(cfg: Config, ctx: PeriodContext) -> list[tuple[str, str]]:
    """(code, name) of every 乡镇街道 with people in this period's registry export.

    Membership is the registry's township only (where the person is registered),
    never an employer's: a person is handled by exactly one township.
    """
    import pandas as pd

    path = ctx.exports_dir / "registry.csv"
    if not path.exists():
        return []
    codes = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["township_code"])[
        "township_code"
    ].str.strip()
    codes = sorted(c for c in set(codes) if c)
    names = _township_names(cfg, ctx)
    return [(c, names.get(c, c)) for c in codes]


def _township_names(cfg: Config, ctx: PeriodContext) -> dict[str, str]:
    """Township names by :func:`canbao.core.places.unit_names`, from the registry's population."""
    from canbao.core import places

    if not ctx.registry_path.exists():
        return places.unit_names(None, "township", ctx.district_code, cfg.township_names)
    from canbao.core.engine import open_registry_db

    eng = open_registry_db(ctx.registry_path, cfg.engine, read_only=True)
    try:
        return places.unit_names(eng, "township", ctx.district_code, cfg.township_names)
    finally:
        eng.close()


def _rel(path: Path, cwd: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), cwd.resolve())).as_posix()


def _notebook_params(req: RunRequest, ctx: PeriodContext, cwd: Path) -> dict[str, Any]:
    """Scalars for a notebook's ``parameters`` cell; paths relative to its own folder."""
    return {
        "district_code": ctx.district_code,
        "period": ctx.period.isoformat(),
        "period_dir": _rel(ctx.period_dir, cwd),
        "out_root": _rel(ctx.out_root, cwd),
        "params_dir": _rel(req.params_dir, cwd),
    }


def district_task(req: RunRequest, ctx: PeriodContext, cfg: Config) -> NotebookTask:
    """The district notebook (``10_district``): the whole pipeline for the period, once."""
    nb_dir = ctx.out_dir / "notebooks"
    stem = Path(DISTRICT_NB).stem
    return NotebookTask(
        kind="district",
        label=ctx.district_code,
        input_path=req.notebook_dir / DISTRICT_NB,
        output_path=nb_dir / DISTRICT_NB,
        out_dir=ctx.out_dir,
        parameters=_notebook_params(req, ctx, nb_dir),
        title=f"{district_name(ctx.district_code, cfg.district_name)} {ctx.period.isoformat()} "
        "全民参保登记比对",
        html_path=ctx.out_dir / "html" / f"{stem}.html",
        log_path=ctx.out_dir / RUN_LOG,
    )


def _unit_task(
    req: RunRequest,
    ctx: PeriodContext,
    kind: str,
    notebook: str,
    code: str,
    name: str,
    title: str,
    html_path: Path | None = None,
    pdf_path: Path | None = None,
) -> NotebookTask:
    """``notebook`` for one township, or the district when ``code`` is ''.

    Named ``<notebook stem>_<code or district code>``; HTML goes to ``html/`` unless
    ``html_path`` says otherwise.
    """
    nb_dir = ctx.out_dir / "notebooks"
    key = code or ctx.district_code
    stem = f"{Path(notebook).stem}_{key}"
    return NotebookTask(
        kind=kind,
        label=f"{name} ({key})",
        input_path=req.notebook_dir / notebook,
        output_path=nb_dir / f"{stem}.ipynb",
        out_dir=ctx.out_dir,
        parameters={
            **_notebook_params(req, ctx, nb_dir),
            "township_code": code,
            "township_name": name,
        },
        title=title,
        html_path=html_path or ctx.out_dir / "html" / f"{stem}.html",
        pdf_path=pdf_path,
        log_path=ctx.out_dir / RUN_LOG,
    )


def township_tasks(
    req: RunRequest, ctx: PeriodContext, cfg: Config, townships: list[tuple[str, str]]
) -> list[NotebookTask]:
    """Township notebooks, then bulletins per township and for the district (if present)."""
    period = ctx.period.isoformat()
    tasks: list[NotebookTask] = []
    if (req.notebook_dir / TOWNSHIP_NB).exists():
        for code, name in townships:
            title = f"{name} {period} 全民参保登记比对结果"
            tasks.append(_unit_task(req, ctx, "township", TOWNSHIP_NB, code, name, title))
    if (req.notebook_dir / BULLETIN_NB).exists():
        district = district_name(ctx.district_code, cfg.district_name)
        out = ctx.out_dir / "bulletins"
        for code, name in [*townships, ("", district)]:
            key = code or ctx.district_code
            title = f"{name} 全民参保登记工作进展通报 {period}"
            tasks.append(
                _unit_task(
                    req,
                    ctx,
                    "bulletin",
                    BULLETIN_NB,
                    code,
                    name,
                    title,
                    html_path=out / f"bulletin_{key}.html",
                    pdf_path=out / f"bulletin_{key}.pdf",
                )
            )
    return tasks
