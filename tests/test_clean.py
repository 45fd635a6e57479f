"""Stage 2 (clean): canonical tables from raw_*: IDs, names, codes, insured/active, empties."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from canbao.clean.stage import TABLE_COLUMNS, standardise
from canbao.core.config import Config
from canbao.core.context import period_context
from canbao.ingest import load_period
from tests.support.ingest import ENROLL_HEADER, HUKOU_HEADER, hukou_row, write_csv, write_xlsx

PERIOD = "2026-06-30"


def enroll_row(member, id_, name, scheme, status, benefit="0", sex="1", birth="1949-12-31"):
    return [member, id_, name, sex, birth, scheme, status, benefit, "2015-01-01", "", "430302"]


def make_period(tmp_path: Path, hukou, enrollment, **others) -> Path:
    d = tmp_path / "raw" / "430302" / PERIOD
    d.mkdir(parents=True)
    write_csv(d / "hukou.csv", HUKOU_HEADER, hukou, encoding="gbk")
    write_csv(d / "enrollment.csv", ENROLL_HEADER, enrollment)
    for name, (header, rows) in others.items():
        write_csv(d / f"{name}.csv", header, rows)
    return d


def run(engine, period: Path, cfg: Config | None = None) -> None:
    cfg = cfg or Config(district_code="430302")
    ctx = period_context(period, period.parents[2] / "reports")
    load_period(engine, cfg, ctx)
    standardise(engine, cfg, ctx)


def rows(engine, table: str) -> pd.DataFrame:
    return engine.query_df(f"SELECT * FROM {table} ORDER BY file, source_row")


HUKOU = [
    hukou_row("11010519491231002X", "张秀英", 性别="女", 民族="汉族"),
    hukou_row(
        " ４４０５２４１８８００１０１００１４ ", "欧阳 娜娜", 性别="男"
    ),  # full-width, spaces
    hukou_row("'11010219840406970x", "阿依古丽.买买提", 性别="2"),  # apostrophe, lowercase x
    hukou_row("110105491231002", "李建国"),  # 15 digits
    hukou_row("110105194912310021", "王伟"),  # wrong check char
    hukou_row("34052419800101001X", "赵丽", status="死亡", 状态变更日期="2026-03-01"),
    hukou_row("110101199003077838", "孫偉", status="其它"),  # 繁体, unknown 户籍状态
    hukou_row("", "无名氏"),
]


def test_population_ids_names_and_life_status(tmp_path, engine):
    period = make_period(
        tmp_path, HUKOU, [enroll_row("1", "11010519491231002X", "张秀英", "170", "1")]
    )
    run(engine, period)
    pop = rows(engine, "population")
    assert list(pop.columns) == TABLE_COLUMNS["population"]
    assert pop.source.unique().tolist() == ["hukou"]
    assert pop.id_number.tolist()[:4] == [
        "11010519491231002X",
        "440524188001010014",
        "11010219840406970X",
        "11010519491231002X",
    ]
    assert pop.id_status.tolist() == [
        "valid", "valid", "valid", "upgraded", "invalid", "valid", "valid", "missing",
    ]  # fmt: skip
    assert pop.id_reason[4] == "check" and pop.id_candidate[4] == "110105194912310021"
    assert pop.id_raw[1] == " ４４０５２４１８８００１０１００１４ "  # raw kept as received
    assert pop.name.tolist()[1:3] == ["欧阳娜娜", "阿依古丽·买买提"]
    assert pop.name_simp[6] == "孙伟"
    assert pop.sex.tolist()[:3] == ["2", "1", "2"]
    assert pop.birth_date[0] == pd.Timestamp(1949, 12, 31)
    assert pop.life_status.tolist()[5:7] == ["deceased", "alive"]
    assert pop.status_date[5] == pd.Timestamp(2026, 3, 1)
    assert pop.ethnicity.tolist()[:2] == ["01", "01"]  # 汉族 and 01 are one code
    assert pop.township_code[0] == "430302001" and pop.village_code[0] == "430302001001"
    recon = engine.query_df("SELECT * FROM reconciliation").set_index("file")
    assert recon.loc["hukou.csv", "unknown_codes"] == 1  # 其它


def test_excel_numeric_id_is_precision_lost(tmp_path, engine):
    period = make_period(tmp_path, HUKOU[:1], [])
    (period / "enrollment.csv").unlink()
    write_xlsx(
        period / "enrollment.xlsx",
        ENROLL_HEADER,
        [["1", 430302199001011234, "王五", 1, dt.date(1990, 1, 1), 170, 1, 0, None, None, 430302],
         ["2", "11010519491231002X", "张秀英", 2, 19491231, 390, 1, 0, None, None, 430302]],
    )  # fmt: skip
    run(engine, period)
    en = rows(engine, "enrollment")
    assert en.id_raw[0] == "4.30302199001011E+17"
    assert en.id_status.tolist() == ["precision_lost", "valid"]
    assert pd.isna(en.id_number[0])
    assert en.birth_date.tolist() == [pd.Timestamp(1990, 1, 1), pd.Timestamp(1949, 12, 31)]
    assert en.scheme.tolist() == ["170", "390"]


def test_codes_as_names_insured_active(tmp_path, engine):
    id_ = "11010519491231002X"
    enrollment = [
        enroll_row(
            "1", id_, "张秀英", "企业职工基本养老保险", "正常参保", "未享受"
        ),  # insured active
        enroll_row(
            "2", id_, "张秀英", "城乡居民基本医疗保险", "暂停参保", "0"
        ),  # insured, not active
        enroll_row("3", id_, "张秀英", "城乡居民基本养老保险", "终止参保", "正常享受"),  # benefit
        enroll_row("4", id_, "张秀英", "170", "4", "2"),  # paused benefit: insured, not active
        enroll_row("5", id_, "张秀英", "310", "3", "0"),  # 3 = 终止 → 4: history
        enroll_row("6", id_, "张秀英", "110", "0", "0"),  # 未参保
        enroll_row("7", id_, "张秀英", "失业保险", "1", ""),  # not a pension/medical family
        enroll_row("8", id_, "张秀英", "999", "1", "0"),  # unknown scheme
        enroll_row("9", id_, "张秀英", "城乡居保", "正常", "0"),  # local name: params
    ]
    cfg = Config(
        district_code="430302",
        codes={"scheme": {"城乡居保": "170"}, "enroll_status": {"正常": "1"}},
    )
    period = make_period(tmp_path, HUKOU[:1], enrollment)
    run(engine, period, cfg)
    en = rows(engine, "enrollment")
    assert list(en.columns) == TABLE_COLUMNS["enrollment"]
    assert en.scheme.tolist()[:7] == ["110", "390", "170", "170", "310", "110", "210"]
    assert pd.isna(en.scheme[7]) and en.scheme[8] == "170"
    assert en.family.tolist()[:6] == [
        "pension",
        "medical",
        "pension",
        "pension",
        "medical",
        "pension",
    ]
    assert pd.isna(en.family[6])
    assert en.enroll_status.tolist() == [1, 2, 4, 4, 4, 0, 1, 1, 1]
    assert en.benefit_status.tolist()[:6] == [0, 0, 1, 2, 0, 0]
    assert en.insured.tolist() == [True, True, True, True, False, False, True, True, True]
    assert en.active.tolist() == [True, False, True, False, False, False, True, True, True]
    assert en.member_no.tolist()[0] == "1"
    recon = engine.query_df("SELECT * FROM reconciliation").set_index("file")
    assert recon.loc["enrollment.csv", "unknown_codes"] == 1  # 999


def test_optional_tables_and_types(tmp_path, engine):
    nm_header = ["公民身份号码", "姓名", "险种类型", "参保地区划代码", "参保状态"]
    nm = [
        ["11010519491231002X", "张秀英", "城镇企业职工基本养老保险", "440304", "1"],
        ["440524188001010014", "欧阳娜娜", "390", "440304", "4"],
        ["11010219840406970X", "阿依古丽·买买提", "390", "440304", ""],
    ]
    st = [["110101199003077838", "孙伟", " 湘潭大学 "]]
    em_header = [
        "单位编号",
        "统一社会信用代码",
        "单位名称",
        "单位地址",
        "乡镇街道代码",
        "单位参保状态",
    ]
    em = [
        ["E001", "91350100M000100Y43", "湘潭某某有限公司", "雨湖区", "430302001", "正常"],
        ["E002", "91350200M000000510", "某某商店", "雨湖区", "430302001", "正常"],
        ["E003", "", "无码单位", "", "", ""],
    ]
    period = make_period(
        tmp_path,
        HUKOU,
        [],
        national_match=(nm_header, nm),
        students=(["公民身份号码", "姓名", "学校名称"], st),
        employers=(em_header, em),
    )
    (period / "enrollment.csv").unlink()
    write_csv(
        period / "enrollment.csv",
        ENROLL_HEADER,
        [enroll_row("1", "11010519491231002X", "张秀英", "170", "1")],
    )
    run(engine, period)
    n = rows(engine, "national_match")
    assert list(n.columns) == TABLE_COLUMNS["national_match"]
    assert n.scheme.tolist() == ["110", "390", "390"]
    assert n.family.tolist() == ["pension", "medical", "medical"]
    assert n.counts.tolist() == [True, False, True]
    s = rows(engine, "students")
    assert s.school.tolist() == ["湘潭大学"] and s.id_number.tolist() == ["110101199003077838"]
    e = rows(engine, "employers")
    assert list(e.columns) == TABLE_COLUMNS["employers"]
    assert e.credit_valid.tolist() == [True, False, False]
    assert e.credit_reason[2] == "missing"
    # residents missing: empty population part, the table still has every column
    assert engine.scalar("SELECT count(*) FROM population WHERE source = 'resident'") == 0


def test_missing_optional_extracts_give_empty_typed_tables(tmp_path, engine):
    period = make_period(
        tmp_path, HUKOU[:2], [enroll_row("1", "11010519491231002X", "张秀英", "170", "1")]
    )
    run(engine, period)
    expected_types = {
        "source_row": "INTEGER",
        "birth_date": "DATE",
        "enroll_status": "INTEGER",
        "counts": "BOOLEAN",
        "credit_valid": "BOOLEAN",
        "id_number": "VARCHAR",
    }
    for table, columns in TABLE_COLUMNS.items():
        desc = engine.query_df(f"DESCRIBE {table}").set_index("column_name").column_type
        assert list(desc.index) == columns, table
        for c, t in expected_types.items():
            if c in desc.index:
                assert desc[c] == t, (table, c)
    for table in ("national_match", "students", "employers"):
        assert engine.scalar(f"SELECT count(*) FROM {table}") == 0


def test_residents_join_population(tmp_path, engine):
    header = [
        "公民身份号码",
        "姓名",
        "性别",
        "出生日期",
        "户籍地区划代码",
        "居住地址",
        "乡镇街道代码",
        "村社区代码",
        "登记日期",
    ]
    res = [
        [
            "510102198512014567",
            "刘芳",
            "女",
            "1985-12-01",
            "510102",
            "雨湖区某路",
            "430302001",
            "430302001001",
            "2024-05-06",
        ]
    ]
    period = make_period(
        tmp_path,
        HUKOU[:1],
        [enroll_row("1", "11010519491231002X", "张秀英", "170", "1")],
        residents=(header, res),
    )
    run(engine, period)
    pop = engine.query_df("SELECT * FROM population ORDER BY source, file, source_row")
    assert pop.source.tolist() == ["hukou", "resident"]
    r = pop.iloc[1]
    assert r.id_number == "510102198512014567" and r.life_status == "alive"
    assert r.origin_region == "510102" and r.registered_date == pd.Timestamp(2024, 5, 6)
    assert r.file == "residents.csv" and r.source_row == 1


def test_maps_built_in_slices_give_the_same_tables(tmp_path, engine, monkeypatch):
    """The cleaning maps are built a slice of distinct values at a time (a million people's
    IDs never sit in pandas whole): slices of two values give the tables one slice gives."""
    from canbao.clean import stage

    enrollment = [
        enroll_row("1", "11010519491231002X", "张秀英", "170", "1"),
        enroll_row("2", "110105491231002", "李建国", "390", "1", sex="男", birth="1949年12月31日"),
        enroll_row("3", "4.30302E+17", "孙伟", "310", "不详", birth="19491231"),
        enroll_row("4", "110101199003077838", "孫偉", "999", "1", sex="9", birth="1990-02-30"),
    ]
    period = make_period(tmp_path, HUKOU, enrollment)
    run(engine, period)
    tables = ("population", "enrollment", "field_issues")
    whole = {t: engine.query_df(f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    assert whole["population"]["name_pinyin"].notna().sum() == len(HUKOU)
    assert set(whole["field_issues"]["reason"]) >= {"date_invalid", "sex_code_unknown"}

    monkeypatch.setattr(stage, "MAP_BATCH", 2)
    standardise(engine, Config(district_code="430302"), period_context(period, tmp_path / "r"))
    for t in tables:
        pd.testing.assert_frame_equal(
            engine.query_df(f"SELECT * FROM {t} ORDER BY ALL"), whole[t], check_dtype=True
        )
    left = engine.query_df(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_clean_map_%'"
    )
    assert left.empty  # the maps are dropped after the stage


def test_write_map_slices_and_types(tmp_path, engine):
    """``write_map``: every distinct non-NULL value once, typed columns, whatever the slice size."""
    from canbao.clean import idnumber
    from canbao.clean.stage import _MAP_PREFIX, write_map

    engine.execute("CREATE TABLE raw_a (id_raw VARCHAR)")
    engine.execute("CREATE TABLE raw_b (id_raw VARCHAR)")
    ids = ["11010519491231002X", "110105491231002", "110105194912310021", "abc", "4.30302E+17"]
    engine.execute("INSERT INTO raw_a VALUES " + ", ".join(f"('{v}')" for v in ids[:3]))
    engine.execute(
        "INSERT INTO raw_b VALUES " + ", ".join(f"('{v}')" for v in ids[2:]) + ", (NULL)"
    )

    def build(values: pd.Series) -> pd.DataFrame:
        return idnumber.validate_ids(values, dt.date(2026, 6, 30)).reset_index(drop=True)

    n = write_map(engine, "id", [("raw_a", "id_raw"), ("raw_b", "id_raw")], build, batch=2)
    assert n == 5
    got = engine.query_df(f"SELECT * FROM {_MAP_PREFIX}id ORDER BY raw")
    assert got["raw"].tolist() == sorted(ids)
    by_raw = got.set_index("raw")
    assert by_raw.loc["110105491231002", "id_status"] == "upgraded"
    assert by_raw.loc["110105491231002", "id_number"] == "11010519491231002X"
    assert by_raw.loc["4.30302E+17", "id_status"] == "precision_lost"
    assert by_raw.loc["110105194912310021", "id_reason"] == "check"
    types = dict(
        engine.query_df(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_name = '{_MAP_PREFIX}id'"
        ).itertuples(index=False)
    )
    assert set(types.values()) == {"VARCHAR"}

    engine.execute("DELETE FROM raw_a")
    engine.execute("DELETE FROM raw_b")
    assert write_map(engine, "id", [("raw_a", "id_raw"), ("raw_b", "id_raw")], build) == 0
    assert engine.scalar(f"SELECT count(*) FROM {_MAP_PREFIX}id") == 0
