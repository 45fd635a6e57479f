"""Wall time and peak RSS of the link stage alone at district scale, on canonical
tables synthesised in SQL (no demo, ingest or clean needed).

    .venv/bin/python benchmarks/link_scale.py --people 1000000 [--rows-per-person 2.5]
    .venv/bin/python benchmarks/link_scale.py --people 1000000 --incremental [--changed 0.02]
    .venv/bin/python benchmarks/link_scale.py --people 3000000 --engine spark

Fault rates follow the demo's (canbao/demo/faults.py): one-digit 0.4 %,
transposition 0.3 %, 15-digit 0.3 %, Excel float 0.2 %, missing 0.1 %, plus
0.7 % rows of people outside the population. Prints the link summary, seconds and
peak RSS, and the share of rows settled in SQL (exact + repaired).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from pypinyin import lazy_pinyin

from canbao.clean.idnumber import check_char_sql
from canbao.core.config import Config, LinkageConfig
from canbao.core.context import PeriodContext
from canbao.core.engine import DuckDBEngine

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥建文辉力斌宇浩凯俊帆鑫波宁亮林琳晨欣怡雪梅海燕春云飞鹏志国庆德福寿松柏桃李梓涵子轩一诺浩然思远嘉怡"


def chars_sql() -> str:
    chars = sorted(set(SURNAMES + GIVEN))
    values = ", ".join(f"('{c}', '{''.join(lazy_pinyin(c))}')" for c in chars)
    return f"CREATE OR REPLACE TABLE _chars AS SELECT * FROM (VALUES {values}) t(c, py)"


def persons_sql(n: int, drop_per_mille: int = 0) -> str:
    ns, ng = len(SURNAMES), len(set(GIVEN))
    body = "b17"
    return f"""
    CREATE OR REPLACE TABLE _p AS
    WITH g AS (SELECT list(c ORDER BY c) AS given FROM _chars WHERE position(c IN '{GIVEN}') > 0),
    base AS (
        SELECT i, DATE '1940-01-01' + CAST(hash(i, 1) % 29200 AS INTEGER) AS birth_date,
               CAST(hash(i, 2) % 998 + 1 AS INTEGER) AS seq,
               substr('{SURNAMES}', CAST(hash(i, 3) % {ns} AS INTEGER) + 1, 1) AS s,
               CAST(hash(i, 4) % {ng} AS INTEGER) + 1 AS g1,
               CASE WHEN hash(i, 5) % 3 = 0 THEN NULL ELSE CAST(hash(i, 6) % {ng} AS INTEGER) + 1 END AS g2
        FROM range({n}) t(i)
    ), named AS (
        SELECT i, birth_date, seq, s || g.given[g1] || coalesce(g.given[g2], '') AS name,
               '430302' || strftime(birth_date, '%Y%m%d') || lpad(CAST(seq AS VARCHAR), 3, '0') AS {body}
        FROM base, g
    )
    SELECT i, name, {body} || {check_char_sql(body)} AS id_number, birth_date,
           CASE WHEN seq % 2 = 1 THEN '1' ELSE '2' END AS sex
    FROM named
    WHERE hash(i, 13) % 1000 >= {int(drop_per_mille)}
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY i) = 1
    """


def finish_persons_sql() -> str:
    return """
    CREATE OR REPLACE TABLE persons AS
    WITH py AS (
        SELECT p.i, string_agg(c.py, '' ORDER BY k) AS name_pinyin
        FROM _p p, range(1, 4) t(k) JOIN _chars c ON c.c = substr(p.name, k, 1)
        GROUP BY p.i
    )
    SELECT 'P430302-' || lpad(CAST(p.i + 1 AS VARCHAR), 7, '0') AS person_id,
           p.id_number, p.name, p.name AS name_simp, py.name_pinyin, p.sex, p.birth_date,
           '430302100' AS township_code, '430302100001' AS village_code, 'H1' AS household_no,
           'alive' AS life_status, 'hukou.csv' AS file, CAST(p.i + 1 AS INTEGER) AS source_row, p.i
    FROM _p p JOIN py USING (i) ORDER BY person_id
    """


def enrollment_sql(rows_per_person: float) -> str:
    """Rows with the demo's fault mix (u decides the fault; values by position)."""
    reps = int(rows_per_person) + 1
    keep = rows_per_person / reps
    return f"""
    CREATE OR REPLACE TABLE enrollment AS
    WITH r AS (
        SELECT p.*, k, (hash(p.i, k, 7) % 1000000) / 1e6 AS u, hash(p.i, k, 8) AS h
        FROM persons p, range({reps}) t(k)
        WHERE (hash(p.i, k, 9) % 1000000) / 1e6 < {keep}
    ), f AS (
        SELECT *, CASE WHEN u < 0.004 THEN 'one_digit' WHEN u < 0.007 THEN 'transposition'
                       WHEN u < 0.010 THEN 'upgrade15' WHEN u < 0.012 THEN 'excel'
                       WHEN u < 0.013 THEN 'missing' WHEN u < 0.020 THEN 'outsider' END AS fault,
               CAST(h % 16 AS INTEGER) + 1 AS pos
        FROM r
    ), d AS (
        SELECT *, CASE fault
            WHEN 'one_digit' THEN substr(id_number, 1, pos - 1)
                 || CAST((CAST(substr(id_number, pos, 1) AS INTEGER) + 3) % 10 AS VARCHAR)
                 || substr(id_number, pos + 1)
            WHEN 'transposition' THEN substr(id_number, 1, pos - 1) || substr(id_number, pos + 1, 1)
                 || substr(id_number, pos, 1) || substr(id_number, pos + 2)
            END AS damaged
        FROM f
    )
    SELECT 'M' || lpad(CAST(row_number() OVER (ORDER BY i, k) AS VARCHAR), 9, '0') AS member_no,
           'enrollment.xlsx' AS file,
           CAST(row_number() OVER (ORDER BY hash(i, k, 10), i, k) AS INTEGER) AS source_row,
           CASE WHEN fault IN ('one_digit', 'transposition') THEN damaged
                WHEN fault = 'upgrade15' THEN substr(id_number, 1, 6) || substr(id_number, 9, 9)
                WHEN fault = 'excel' THEN substr(id_number, 1, 1) || '.' || substr(id_number, 2, 14) || 'E+17'
                WHEN fault = 'missing' THEN NULL
                WHEN fault = 'outsider' THEN '110105' || substr(id_number, 7)
                ELSE id_number END AS id_raw,
           CASE WHEN fault IS NULL OR fault = 'upgrade15' THEN id_number
                WHEN fault = 'outsider' THEN '110105' || substr(id_number, 7, 11)
                     || {check_char_sql("'110105' || substr(id_number, 7, 11)")} END AS id_number,
           CASE WHEN fault IS NULL OR fault = 'outsider' THEN 'valid'
                WHEN fault = 'upgrade15' THEN 'upgraded' WHEN fault = 'excel' THEN 'precision_lost'
                WHEN fault = 'missing' THEN 'missing'
                WHEN damaged = id_number THEN 'valid' ELSE 'invalid' END AS id_status,
           CASE WHEN fault IN ('one_digit', 'transposition') AND damaged <> id_number THEN 'check' END
               AS id_reason,
           CASE WHEN fault IN ('one_digit', 'transposition') AND damaged <> id_number THEN damaged END
               AS id_candidate,
           CASE WHEN fault = 'outsider' THEN '欧阳' || name ELSE name END AS name_raw,
           CASE WHEN fault = 'outsider' THEN '欧阳' || name ELSE name END AS name,
           CASE WHEN fault = 'outsider' THEN '欧阳' || name ELSE name END AS name_simp,
           CASE WHEN fault = 'outsider' THEN 'ouyang' || name_pinyin ELSE name_pinyin END AS name_pinyin,
           sex, birth_date, '170' AS scheme
    FROM d ORDER BY source_row
    """


def next_period_sql(changed: float) -> list[str]:
    """Period 2's enrollment: every row moves (source_row reshuffled) and a share
    ``changed`` of rows changes content: half get a corrected name (still exact by
    ID), a quarter lose their ID (→ Splink), a quarter become Excel floats (→ Splink)."""
    per_mille = int(round(changed * 1000))
    return [
        "CREATE OR REPLACE TABLE _enrollment1 AS SELECT * FROM enrollment",
        f"""
        CREATE OR REPLACE TABLE enrollment AS
        WITH c AS (
            SELECT *, CASE WHEN hash(member_no, 12) % 1000 < {per_mille}
                           THEN hash(member_no, 14) % 4 END AS kind
            FROM _enrollment1
        )
        SELECT member_no, file,
               CAST(row_number() OVER (ORDER BY hash(member_no, 11), member_no) AS INTEGER)
                   AS source_row,
               CASE WHEN kind = 2 THEN NULL
                    WHEN kind = 3 AND id_number IS NOT NULL
                    THEN substr(id_number, 1, 1) || '.' || substr(id_number, 2, 14) || 'E+17'
                    ELSE id_raw END AS id_raw,
               CASE WHEN kind IN (2, 3) THEN NULL ELSE id_number END AS id_number,
               CASE WHEN kind = 2 THEN 'missing' WHEN kind = 3 AND id_number IS NOT NULL
                    THEN 'precision_lost' ELSE id_status END AS id_status,
               id_reason, id_candidate,
               CASE WHEN kind IN (0, 1) THEN name_raw || '明' ELSE name_raw END AS name_raw,
               CASE WHEN kind IN (0, 1) THEN name || '明' ELSE name END AS name,
               CASE WHEN kind IN (0, 1) THEN name_simp || '明' ELSE name_simp END AS name_simp,
               CASE WHEN kind IN (0, 1) THEN name_pinyin || 'ming' ELSE name_pinyin END
                   AS name_pinyin,
               sex, birth_date, scheme
        FROM c ORDER BY source_row
        """,
    ]


def _timed(label: str, fn):
    from _measure import PeakRSS

    t0, c0 = time.perf_counter(), time.process_time()
    with PeakRSS() as rss:
        out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{label}: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss.peak / 2**20:.0f} MiB")
    return out, wall, cpu


def incremental(eng: DuckDBEngine, work: Path, args: argparse.Namespace) -> None:
    """Period 1 full; period 2 (rows moved, ~2 % changed, persons churned) incrementally,
    then the same period with full_relink and with memory emptied (same model)."""
    import dataclasses

    from canbao.linkage import link_period

    cfg = Config(district_code="430302")
    full = dataclasses.replace(cfg, linkage=dataclasses.replace(cfg.linkage, full_relink=True))
    c1 = PeriodContext("430302", dt.date(2026, 6, 30), work / "raw", work / "reports")
    c2 = PeriodContext("430302", dt.date(2026, 7, 15), work / "raw", work / "reports")
    for c in (c1, c2):
        c.out_dir.mkdir(parents=True, exist_ok=True)
    s1, *_ = _timed("period 1 (train + all rows)", lambda: link_period(eng, cfg, c1))
    print(s1)
    # Period 2: 0.2 % of persons gone, 0.3 % new (the enrollment has none of them).
    extra = int(args.people * 0.003)
    for sql in (persons_sql(args.people + extra, drop_per_mille=2), finish_persons_sql()):
        eng.execute(sql)
    for sql in next_period_sql(args.changed):
        eng.execute(sql)
    n = eng.query_df(
        "SELECT count(*) FROM enrollment e JOIN _enrollment1 o USING (member_no) "
        "WHERE e.id_raw IS DISTINCT FROM o.id_raw OR e.name_raw <> o.name_raw"
    ).iat[0, 0]
    print(f"period 2: {n} rows changed content, every row moved")
    runs = {}
    for label, c_, fn in (
        ("incremental", cfg, None),
        ("full_relink", full, None),
        ("no memory, same model", cfg, "DELETE FROM link_memory"),
    ):
        if fn:
            eng.execute(fn)
        s, wall, cpu = _timed(f"period 2 {label}", lambda c_=c_: link_period(eng, c_, c2))
        print(s)
        runs[label] = eng.query_df("SELECT * FROM links ORDER BY source, file, source_row")
    inc, fr, nm = runs["incremental"], runs["full_relink"], runs["no memory, same model"]
    print("incremental == no-memory run with the same model:", inc.equals(nm))
    key = ["source", "file", "source_row", "person_id", "method"]
    differ = (inc[key].fillna("") != fr[key].fillna("")).any(axis=1).sum()
    print(f"incremental vs full_relink (retrained): {differ} rows differ in person/method")


def main(argv: list[str] | None = None) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _measure import PeakRSS

    from canbao.linkage import link_period

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--rows-per-person", type=float, default=2.5)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument(
        "--incremental",
        action="store_true",
        help="time a second period with ~--changed rows changed, incremental vs full",
    )
    ap.add_argument("--changed", type=float, default=0.02)
    ap.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                    help="where Splink predicts (linkage.engine)")  # fmt: skip
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="canbao-linkscale-"))
    work.mkdir(parents=True, exist_ok=True)
    eng = DuckDBEngine(work / "scale.duckdb")
    t0 = time.perf_counter()
    for sql in (chars_sql(), persons_sql(args.people), finish_persons_sql()):
        eng.execute(sql)
    eng.execute(enrollment_sql(args.rows_per_person))
    n_p = eng.query_df("SELECT count(*) AS n FROM persons").iat[0, 0]
    n_e = eng.query_df("SELECT count(*) AS n FROM enrollment").iat[0, 0]
    print(f"synthesised {n_p} persons, {n_e} enrollment rows in {time.perf_counter() - t0:.1f} s")
    if args.incremental:
        incremental(eng, work, args)
        eng.close()
        return
    cfg = Config(district_code="430302", linkage=LinkageConfig(engine=args.engine))
    ctx = PeriodContext("430302", dt.date(2026, 6, 30), work / "raw", work / "reports")
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with PeakRSS() as rss:
        summary = link_period(eng, cfg, ctx)
    secs = time.perf_counter() - t0
    print(f"link_period: {secs:.1f} s, peak RSS {rss.peak / 2**20:.0f} MiB")
    print(summary)
    settled = summary["exact_id"] + summary["repaired_id"]
    total = sum(v for k, v in summary.items() if k.startswith("rows_"))
    print(f"settled in SQL (exact + repaired): {settled}/{total} = {settled / total:.4f}")
    eng.close()


if __name__ == "__main__":
    main()
