"""Builders of small canonical tables (design.md column names) for the registry/classify tests.

No tests here: the registry, classify, eligibility and exports tests import these so
every fixture row is written in one place, with realistic 湘潭 data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import opencc
import pandas as pd
from pypinyin import lazy_pinyin

from canbao.core.config import Config
from canbao.core.context import PeriodContext
from canbao.core.engine import DuckDBEngine, Engine

DISTRICT = "430302"
TOWN = "430302001"
VILLAGE = "430302001001"
_T2S = opencc.OpenCC("t2s")
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(birth: str, seq: int, region: str = DISTRICT) -> str:
    """A valid 18-character ID: region + YYYYMMDD + 3-digit sequence + check character."""
    body = f"{region}{birth.replace('-', '')}{seq:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


def _names(name: str | None) -> dict[str, Any]:
    if name is None:
        return {"name_raw": None, "name": None, "name_simp": None, "name_pinyin": None}
    simp = _T2S.convert(name)
    return {
        "name_raw": name,
        "name": name,
        "name_simp": simp,
        "name_pinyin": "".join(lazy_pinyin(simp)),
    }


def _id_cols(id_number: str | None, id_status: str | None, id_raw: str | None) -> dict[str, Any]:
    status = id_status or ("valid" if id_number else "missing")
    canon = id_number if status in ("valid", "upgraded") else None
    return {
        "id_raw": id_raw if id_raw is not None else id_number,
        "id_number": canon,
        "id_status": status,
        "id_reason": "check" if status == "invalid" else None,
        "id_candidate": None,
    }


def pop_row(
    row: int,
    name: str | None,
    id_number: str | None,
    birth: str | None,
    sex: str | None,
    *,
    source: str = "hukou",
    household: str | None = "H0001",
    village: str = VILLAGE,
    life: str = "alive",
    id_status: str | None = None,
    id_raw: str | None = None,
    file: str | None = None,
) -> dict[str, Any]:
    """One population row (hukou by default)."""
    return {
        "file": file or ("hukou.csv" if source == "hukou" else "residents.csv"),
        "source_row": row, **_id_cols(id_number, id_status, id_raw), **_names(name),
        "sex": sex, "birth_date": dt.date.fromisoformat(birth) if birth else None,
        "source": source, "ethnicity": "01",
        "household_no": household if source == "hukou" else None,
        "relation": "02", "address": "湘潭市雨湖区云塘街道某社区", "township_code": village[:9],
        "township_name": "云塘街道", "village_code": village, "village_name": "某社区",
        "hukou_status_raw": {"alive": "管理中", "deceased": "死亡", "moved_out": "迁出",
                             "cancelled": "注销"}[life],
        "life_status": life, "status_date": None, "origin_region": None, "registered_date": None,
    }  # fmt: skip


def enr_row(
    row: int,
    name: str | None,
    id_number: str | None,
    scheme: str | None,
    enroll: int,
    benefit: int = 0,
    *,
    sex: str | None = None,
    birth: str | None = None,
    member_no: str | None = None,
    id_status: str | None = None,
    id_raw: str | None = None,
    file: str = "enrollment.csv",
) -> dict[str, Any]:
    """One enrollment row (参保状态 ``enroll``, 待遇享受状态 ``benefit``)."""
    fam = {
        "110": "pension",
        "120": "pension",
        "170": "pension",
        "310": "medical",
        "390": "medical",
    }.get(scheme or "")
    return {
        "file": file, "source_row": row, "member_no": member_no or f"M{row:05d}",
        **_id_cols(id_number, id_status, id_raw), **_names(name), "sex": sex,
        "birth_date": dt.date.fromisoformat(birth) if birth else None,
        "scheme_raw": scheme or "999", "scheme": scheme, "family": fam,
        "enroll_status": enroll, "benefit_status": benefit,
        "insured": enroll in (1, 2) or benefit in (1, 2), "active": enroll == 1 or benefit == 1,
        "enroll_date": None, "employer_no": None, "region_code": DISTRICT,
    }  # fmt: skip


def nm_row(
    row: int, id_number: str, scheme: str, status: int, region: str = "440304"
) -> dict[str, Any]:
    """One national_match row (insured in another region)."""
    return {
        "file": "national_match.csv",
        "source_row": row,
        **_id_cols(id_number, None, None),
        **_names("某某"),
        "sex": None,
        "birth_date": None,
        "scheme_raw": scheme,
        "scheme": scheme,
        "family": "pension" if scheme in ("110", "120", "170") else "medical",
        "enroll_status": status,
        "region_code": region,
        "counts": status not in (3, 4),
    }


def student_row(
    row: int, id_number: str | None, name: str = "学生", id_status: str | None = None
) -> dict[str, Any]:
    return {
        "file": "students.csv",
        "source_row": row,
        **_id_cols(id_number, id_status, None),
        **_names(name),
        "sex": None,
        "birth_date": None,
        "school": "湘潭大学",
    }


def employer_row(row: int, credit: str | None, name: str | None, valid: bool) -> dict[str, Any]:
    return {
        "file": "employers.csv",
        "source_row": row,
        "employer_no": f"E{row:04d}",
        "credit_code_raw": credit,
        "credit_code": credit if valid else None,
        "credit_valid": valid if credit else None,
        "credit_reason": None if valid or not credit else "check",
        "employer_name": name,
        "address": "湘潭市雨湖区",
        "township_code": TOWN,
        "status_raw": "正常",
    }


def config(max_share: float = 0.5) -> Config:
    from canbao.core.config import config_from_dict

    return config_from_dict(
        {"district_code": DISTRICT, "safety": {"max_unusable_id_share": max_share}}
    )


def context(period: str, root: Path) -> PeriodContext:
    return PeriodContext(
        district_code=DISTRICT,
        period=dt.date.fromisoformat(period),
        period_dir=root / "raw" / DISTRICT / period,
        out_root=root / "reports",
    )


_FRAMES = {
    "population": pop_row,
    "enrollment": enr_row,
    "national_match": nm_row,
    "students": student_row,
    "employers": employer_row,
}


@dataclass
class Period:
    """The canonical tables of one period, plus how non-exact rows are linked.

    ``links`` maps (file, source_row) of an enrollment row to (target ID number,
    method, repair); every other enrollment row links exactly by its ID or is unlinked.
    """

    population: list[dict[str, Any]]
    enrollment: list[dict[str, Any]] = field(default_factory=list)
    national_match: list[dict[str, Any]] = field(default_factory=list)
    students: list[dict[str, Any]] = field(default_factory=list)
    employers: list[dict[str, Any]] | None = None
    links: dict[tuple[str, int], tuple[str, str, str | None]] = field(default_factory=dict)
    survey_results: list[dict[str, Any]] | None = None
    survey_rejects: list[dict[str, Any]] | None = None


def _frame(rows: list[dict[str, Any]], template: dict[str, Any]) -> pd.DataFrame:
    if rows:
        return pd.DataFrame(rows)
    return pd.DataFrame({k: pd.Series([], dtype=object) for k in template})


def register_inputs(engine: Engine, p: Period) -> None:
    """Stage 1–2 stand-in: the canonical tables of ``p``."""
    templates = {
        "population": pop_row(1, "甲", None, None, None),
        "enrollment": enr_row(1, "甲", None, "110", 1),
        "national_match": nm_row(1, "x", "110", 1),
        "students": student_row(1, None),
    }
    for name, tmpl in templates.items():
        df = _frame(getattr(p, name), tmpl)
        for col in ("birth_date", "status_date", "registered_date"):
            if col in df:
                df[col] = pd.to_datetime(df[col]).dt.date
        engine.register_df(name, df)
        if name in ("population", "enrollment", "national_match", "students"):
            engine.execute(f"ALTER TABLE {name} ALTER source_row TYPE INTEGER")
            for col in ("birth_date",):
                engine.execute(f"ALTER TABLE {name} ALTER {col} TYPE DATE")
    for opt in ("employers", "survey_results", "survey_rejects"):
        rows = getattr(p, opt)
        if rows is not None:
            engine.register_df(opt, pd.DataFrame(rows))
        else:
            engine.execute(f"DROP TABLE IF EXISTS {opt}")


def link_rows(engine: Engine, p: Period) -> None:
    """Stage 4 stand-in: exact links by ID, overrides from ``p.links``, else unlinked."""
    over = pd.DataFrame(
        [(f, r, t, m, rep) for (f, r), (t, m, rep) in p.links.items()],
        columns=["file", "source_row", "target", "method", "repair"],
    ).astype({"source_row": "int64"})
    engine.register_df("_link_over", over)
    parts = []
    for source in ("enrollment", "national_match", "students"):
        member = "e.member_no" if source == "enrollment" else "CAST(NULL AS VARCHAR)"
        parts.append(f"""
            SELECT '{source}' AS source, e.file, e.source_row, {member} AS member_no,
                   coalesce(po.person_id, pe.person_id) AS person_id,
                   CASE WHEN po.person_id IS NOT NULL THEN o.method
                        WHEN pe.person_id IS NOT NULL THEN 'exact_id' ELSE 'unlinked' END AS method,
                   CASE WHEN po.person_id IS NOT NULL THEN 0.995
                        WHEN pe.person_id IS NOT NULL THEN 1.0 END AS match_probability,
                   CASE WHEN po.person_id IS NOT NULL THEN o.repair END AS repair
            FROM {source} e
            LEFT JOIN _link_over o ON o.file = e.file AND o.source_row = e.source_row
            LEFT JOIN persons po ON po.id_number = o.target
            LEFT JOIN persons pe ON pe.id_number = e.id_number""")
    engine.execute("CREATE OR REPLACE TABLE links AS " + " UNION ALL ".join(parts))


def run_period(
    engine: Engine,
    p: Period,
    period: str,
    root: Path,
    *,
    cfg: Config | None = None,
    exports: bool = True,
) -> dict[str, Path]:
    """Stages 3, (4), 6, 7, 8 on the given tables; returns the exports."""
    from canbao.classify import status as classify
    from canbao.registry.commit import commit_period
    from canbao.registry.persons import resolve_persons
    from canbao.report import exports as ex

    cfg = cfg or config()
    ctx = context(period, root)
    register_inputs(engine, p)
    resolve_persons(engine, cfg, ctx)
    link_rows(engine, p)
    classify.classify(engine, cfg, ctx)
    commit_period(engine, cfg, ctx)
    return ex.write_exports(engine, cfg, ctx) if exports else {}


def memory_engine() -> DuckDBEngine:
    return DuckDBEngine()


def status_of(engine: Engine) -> dict[str, tuple[str, str, str]]:
    """person name → (pension, medical, registration)."""
    df = engine.query_df(
        "SELECT p.name, s.pension_status, s.medical_status, s.registration "
        "FROM persons p JOIN person_status s USING (person_id) ORDER BY p.name"
    )
    return {r.name: (r.pension_status, r.medical_status, r.registration) for r in df.itertuples()}


def findings_of(engine: Engine) -> list[tuple[str, str | None, str | None, int | None]]:
    """(finding, person name, file, source_row) of every finding, sorted."""
    df = engine.query_df(
        "SELECT f.finding, p.name, f.file, f.source_row FROM findings f "
        "LEFT JOIN persons p USING (person_id) ORDER BY ALL"
    )
    out = []
    for r in df.itertuples():
        row = None if pd.isna(r.source_row) else int(r.source_row)
        out.append(
            (
                r.finding,
                None if pd.isna(r.name) else r.name,
                None if pd.isna(r.file) else r.file,
                row,
            )
        )
    return out
