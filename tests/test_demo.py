"""The demo district: deterministic, in the contract's format, with a truth row for every
data row, every fault kind present, and expected statuses that obey contract §7."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from canbao.clean.idnumber import fold_id, validate_id
from canbao.core import schema
from canbao.demo import generate, load_truth
from canbao.demo.periods import period_dates
from canbao.survey import read_return_file

PEOPLE = 5000
SEED = 20261128
FINDING_CODES = {
    "ID_INVALID", "ID_UPGRADED", "ID_PRECISION_LOST", "ID_REPAIRED", "NAME_MISMATCH", "SEX_MISMATCH",
    "BIRTH_MISMATCH", "DUPLICATE_RECORD", "DUPLICATE_PENSION", "DUPLICATE_MEDICAL", "DUPLICATE_BENEFIT",
    "DUPLICATE_REGION", "DECEASED_ACTIVE", "DECEASED_BENEFIT", "NOT_IN_POPULATION", "EMPLOYER_INVALID",
    "SURVEY_REJECTED", "DUPLICATE_PERSON",
}  # fmt: skip
PER_PERSON = {c for c in FINDING_CODES if c.startswith(("DUPLICATE_", "DECEASED_"))}


def _generate(
    root: Path, *, people: int, seed: int, periods: int, district: str = "430302"
) -> list[Path]:
    """A demo district (雨湖区 unless told) with raw files under ``root/raw``, truth under
    ``root/truth``."""
    return generate(
        district,
        people=people,
        seed=seed,
        raw_root=root / "raw",
        truth_root=root / "truth",
        periods=periods,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    _generate(root, people=PEOPLE, seed=SEED, periods=3)
    return root


def _periods(root: Path) -> list[Path]:
    return sorted((root / "raw" / "430302").iterdir())


def _truth(root: Path, period: Path) -> dict[str, pd.DataFrame]:
    return load_truth(root / "truth" / "430302" / period.name)


def read_extract(path: Path) -> pd.DataFrame:
    """An extract as strings, the way a district file is opened (encoding by file)."""
    if path.suffix == ".xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return pd.DataFrame(rows[1:], columns=rows[0]).astype(object)
    enc = {"hukou.csv": "gbk", "students.csv": "gb18030", "enrollment.csv": "utf-8-sig"}.get(
        path.name, "utf-8"
    )
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)


def test_period_dates_are_half_monthly_and_end_on_2026_11_15() -> None:
    assert period_dates(3) == [dt.date(2026, 10, 15), dt.date(2026, 10, 31), dt.date(2026, 11, 15)]
    assert period_dates(4)[0] == dt.date(2026, 9, 30)
    assert period_dates(6)[:2] == [dt.date(2026, 8, 31), dt.date(2026, 9, 15)]


def test_generate_returns_the_period_folders(demo: Path) -> None:
    names = [p.name for p in _periods(demo)]
    assert names == ["2026-10-15", "2026-10-31", "2026-11-15"]


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    a = _generate(tmp_path / "a", people=1000, seed=11, periods=2)
    b = _generate(tmp_path / "b", people=1000, seed=11, periods=2)

    def files(root: Path) -> list[Path]:
        return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())

    files_a = files(tmp_path / "a")
    assert files_a == files(tmp_path / "b") and len(a) == len(b) == 2
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    c = _generate(tmp_path / "c", people=1000, seed=12, periods=1)
    assert (c[0] / "hukou.csv").read_bytes() != (a[0] / "hukou.csv").read_bytes()


def test_xlsx_properties_carry_the_period_date_not_the_clock(demo: Path) -> None:
    p = _periods(demo)[-1] / "enrollment.xlsx"
    with zipfile.ZipFile(p) as z:
        core = z.read("docProps/core.xml").decode()
        assert all(i.date_time[:3] == (2026, 11, 15) for i in z.infolist())
    assert "2026-11-15T18:00:00Z" in core


def test_every_file_has_the_contract_headers(demo: Path) -> None:
    for period in _periods(demo):
        for ex in schema.EXTRACTS:
            files = [
                period / f"{ex.name}{s}"
                for s in schema.SUFFIXES
                if (period / f"{ex.name}{s}").exists()
            ]
            assert len(files) == 1, (period, ex.name)
            df = read_extract(files[0])
            assert set(ex.columns) <= set(df.columns), (files[0], set(ex.columns) - set(df.columns))
    hukou = read_extract(_periods(demo)[0] / "hukou.csv")
    assert "备注" in hukou.columns  # an extra column, kept but ignored by the pipeline
    assert list(hukou.columns)[:14] != list(schema.HUKOU.columns)  # shuffled order


def test_every_data_row_has_exactly_one_truth_row(demo: Path) -> None:
    for period in _periods(demo):
        rows = _truth(demo, period)["rows"]
        for f in sorted(p for p in period.iterdir() if p.is_file()):
            n = len(read_extract(f))
            t = rows.loc[rows["file"] == f.name]
            assert len(t) == n, f
            assert t["source_row"].astype(int).tolist() == list(range(1, n + 1))


def test_clean_rows_carry_valid_ids_and_match_the_truth_person(demo: Path) -> None:
    period = _periods(demo)[-1]
    t = _truth(demo, period)
    persons = t["persons"].set_index("person_key")
    rows = t["rows"]
    for file, col in (
        ("enrollment.xlsx", "公民身份号码"),
        ("hukou.csv", "公民身份号码"),
        ("students.csv", "公民身份号码"),
    ):
        df = read_extract(period / file)
        r = rows.loc[rows["file"] == file].reset_index(drop=True)
        clean = (r["faults"] == "").to_numpy()
        ids = df.loc[clean, col].astype(str)
        assert all(validate_id(x).status == "valid" for x in ids), file
        keyed = r.loc[clean, "person_key"].to_numpy()
        true_ids = persons.loc[keyed, "id_number"].to_numpy()
        assert (ids.to_numpy() == true_ids).mean() > 0.999, file


def test_every_fault_kind_is_present_and_faults_are_a_minority(demo: Path) -> None:
    rows = _truth(demo, _periods(demo)[0])["rows"]
    enr = rows.loc[rows["extract"] == "enrollment"]
    tags = enr["faults"].str.split(";").explode()
    counts = tags.value_counts()
    for tag in (
        "id_one_digit", "id_transposition", "id_check_char", "id_15", "id_excel", "id_missing",
        "norm_fullwidth", "norm_spaces", "norm_lowercase_x", "name_homophone", "name_traditional",
        "birth_typo", "sex_wrong",
    ):  # fmt: skip
        assert counts.get(tag, 0) >= 2, tag
    faulty = enr["faults"].str.match(r"^(id_|name_|birth_|sex_)").mean()
    assert 0.01 < faulty < 0.05
    all_tags = set(rows["faults"].str.split(";").explode())
    assert {"pop_duplicate_household", "id_excel_numeric", "credit_check"} <= all_tags


def test_fault_rows_show_the_damage_they_are_tagged_with(demo: Path) -> None:
    period = _periods(demo)[0]
    t = _truth(demo, period)
    persons = t["persons"].set_index("person_key")
    rows = t["rows"].loc[t["rows"]["file"] == "enrollment.xlsx"].reset_index(drop=True)
    df = read_extract(period / "enrollment.xlsx")
    df["faults"], df["person_key"] = rows["faults"], rows["person_key"]
    true = persons.loc[df["person_key"]]
    for tag, check in {
        "id_15": lambda s, i: len(s) == 15 and s == i[:6] + i[8:17],
        "id_excel": lambda s, i: "E+17" in s,
        "id_missing": lambda s, i: s == "",
        "norm_fullwidth": lambda s, i: "０" <= s[0] <= "９",
        "norm_lowercase_x": lambda s, i: s.endswith("x") and s.upper() == i,
        "id_check_char": lambda s, i: s[:17] == i[:17] and s[17] != i[17],
        "id_one_digit": lambda s, i: (
            len(s) == 18 and sum(a != b for a, b in zip(s, i, strict=True)) == 1
        ),
        "id_transposition": lambda s, i: (
            sorted(s) == sorted(i) and sum(a != b for a, b in zip(s, i, strict=True)) == 2
        ),
    }.items():
        m = (df["faults"] == tag).to_numpy()
        assert m.any(), tag
        pairs = zip(df.loc[m, "公民身份号码"].astype(str), true.loc[m, "id_number"], strict=True)
        assert all(check(s, i) for s, i in pairs), tag
        if tag in ("id_one_digit", "id_transposition", "id_check_char"):
            assert all(validate_id(s).status == "invalid" for s in df.loc[m, "公民身份号码"])
    trad = (df["faults"] == "name_traditional").to_numpy()
    assert (df.loc[trad, "姓名"].str.strip() != true.loc[trad, "name"].to_numpy()).all()


def test_findings_use_contract_codes_with_row_or_person_scope(demo: Path) -> None:
    f = _truth(demo, _periods(demo)[-1])["findings"]
    assert set(f["finding"]) <= FINDING_CODES
    per_person = f["finding"].isin(PER_PERSON)
    assert (f.loc[per_person, "source_row"] == "").all()
    assert (f.loc[~per_person, "source_row"] != "").all()
    assert not f.duplicated().any()
    present = set(f["finding"])
    for code in FINDING_CODES - {"SURVEY_REJECTED"}:
        assert code in present, code


def test_survey_rejected_truth_points_at_the_bad_returned_rows(demo: Path) -> None:
    period = _periods(demo)[1]
    t = _truth(demo, period)
    f = t["findings"].loc[t["findings"]["finding"] == "SURVEY_REJECTED"]
    assert len(f) > 0 and (f["person_key"] != "").all()
    assert f["file"].str.match(r"survey_returns/\d{9}_.+\.xlsx$").all()
    prev = load_truth(demo / "truth" / "430302" / _periods(demo)[0].name)["persons"]
    id_of = dict(zip(prev["person_key"], prev["id_number"], strict=True))
    name_of = dict(zip(prev["person_key"], prev["name"], strict=True))
    changed = 0
    for file, rows in f.groupby("file"):
        data, err = read_return_file(period / file)
        assert err is None
        data = data.set_index("source_row")
        for key, row in zip(rows["person_key"], rows["source_row"].astype(int), strict=True):
            got = data.loc[row]
            assert got["id_number"] == id_of[key]  # the listed person, made bad on purpose
            assert got["outcome"] is not None  # a blank row is "not returned", not rejected
            changed += got["name"] != name_of[key]
    assert changed > 0  # some rejections are changed names


def test_one_row_several_codes_follow_section_7(demo: Path) -> None:
    t = _truth(demo, _periods(demo)[0])
    f, rows = t["findings"], t["rows"]
    codes = (
        f.loc[f["source_row"] != ""]
        .groupby(["file", "source_row"])["finding"]
        .apply(lambda s: tuple(sorted(s)))
    )
    tagged = rows.set_index(["file", "source_row"])["faults"]
    expect = {
        "id_one_digit": ("ID_INVALID", "ID_REPAIRED"),
        "id_15": ("ID_UPGRADED",),
        "id_excel": ("ID_PRECISION_LOST", "ID_REPAIRED"),
        "id_missing": ("ID_INVALID", "ID_REPAIRED"),
        "name_traditional": ("NAME_MISMATCH",),
        "norm_fullwidth": None,
        "norm_lowercase_x": None,
    }
    corrected_later = set(rows.loc[rows["faults"].str.contains("corrected_later"), "person_key"])
    keyed = rows.set_index(["file", "source_row"])["person_key"]
    for tag, want in expect.items():
        keys = tagged.index[(tagged == tag) & ~keyed.isin(corrected_later)]
        assert len(keys), tag
        for k in keys:
            got = tuple(c for c in codes.get(k, ()) if c != "NOT_IN_POPULATION") or None
            assert got == want, (tag, k, got)


def test_expected_statuses_obey_section_7(demo: Path) -> None:
    period = _periods(demo)[-1]
    t = _truth(demo, period)
    p = t["persons"]
    pop = p.loc[p["population"] != "none"]
    ref = pd.Timestamp("2026-11-15")
    birth = pd.to_datetime(pop["birth_date"])
    age = (
        ref.year
        - birth.dt.year
        - (
            (birth.dt.month > ref.month)
            | ((birth.dt.month == ref.month) & (birth.dt.day > ref.day))
        )
    )
    alive = pop["life_status"] == "alive"
    # the dead, moved and cancelled are not_applicable everywhere
    gone = pop.loc[~alive]
    assert (
        (gone[["pension_status", "medical_status", "registration"]] == "not_applicable").all().all()
    )
    # under 16 and uninsured: exempt for pension, never not_insured
    assert not ((age < 16) & alive & (pop["pension_status"] == "not_insured")).any()
    # registration order: any not_insured (and not surveyed) -> survey
    ni = alive & (
        (pop["pension_status"] == "not_insured") | (pop["medical_status"] == "not_insured")
    )
    assert pop.loc[ni, "registration"].isin(["survey", "surveyed"]).all()
    # students listed at 16+ are exempt unless insured
    students = read_extract(period / "students.csv")
    listed = pop.loc[pop["id_number"].isin(students["公民身份号码"]) & (age >= 16) & alive]
    assert len(listed) > 20
    assert listed["pension_status"].isin(["exempt", "insured_local", "insured_elsewhere"]).all()
    assert (listed["pension_status"] == "exempt").any()
    # a hand-checked person: insured_elsewhere people have a national_match row and no local pension row
    nm = read_extract(period / "national_match.xlsx")
    enr = read_extract(period / "enrollment.xlsx")
    pension_names = (
        "110",
        "120",
        "170",
        "企业职工基本养老保险",
        "机关事业单位养老保险",
        "城乡居民基本养老保险",
    )
    local_pension_ids = set(
        enr.loc[
            enr["险种类型"].isin(pension_names)
            & enr["参保状态"].isin(["1", "2", "正常参保", "暂停参保"]),
            "公民身份号码",
        ]
    )
    el = pop.loc[pop["pension_status"] == "insured_elsewhere"].head(50)
    assert len(el) and el["id_number"].isin(nm["公民身份号码"]).all()
    assert not el["id_number"].isin(local_pension_ids).any()
    # needs_correction: every such person has a row with a correction code
    f = t["findings"]
    codes = [
        "ID_REPAIRED",
        "ID_UPGRADED",
        "ID_PRECISION_LOST",
        "NAME_MISMATCH",
        "SEX_MISMATCH",
        "BIRTH_MISMATCH",
    ]
    corr = set(f.loc[f["finding"].isin(codes) & (f["file"] == "enrollment.xlsx"), "person_key"])
    nc = pop.loc[pop["registration"] == "needs_correction", "person_key"]
    assert len(nc) > 10 and nc.isin(corr).all()
    assert (pop.loc[pop["person_key"].isin(corr) & alive, "registration"] != "confirmed").all()


def test_deceased_findings_and_duplicates_need_active_rows(demo: Path) -> None:
    for k, period in enumerate(_periods(demo)):
        t = _truth(demo, period)
        p = t["persons"].set_index("person_key")
        f = t["findings"]
        dead = f.loc[f["finding"].isin(["DECEASED_ACTIVE", "DECEASED_BENEFIT"]), "person_key"]
        assert len(dead) and (p.loc[dead, "life_status"] == "deceased").all()
        # one finding per person and code
        assert not f.loc[f["source_row"] == ""].duplicated(["finding", "person_key"]).any()
        if k:  # later periods: pensioners dying with their medical row running have both
            assert dead.duplicated().sum() >= 3
        nip = f.loc[f["finding"] == "NOT_IN_POPULATION", "person_key"]
        assert (p.loc[nip, "population"] == "none").all()


def test_later_periods_have_new_deaths_moves_and_duplicates(demo: Path) -> None:
    periods = _periods(demo)
    for prev, cur in zip(periods, periods[1:], strict=False):
        before, after = _truth(demo, prev)["findings"], _truth(demo, cur)["findings"]
        changes = _truth(demo, cur)["changes"]
        for code in ("DECEASED_ACTIVE", "DECEASED_BENEFIT", "DUPLICATE_REGION",
                     "DUPLICATE_RECORD", "DUPLICATE_PENSION", "DUPLICATE_MEDICAL",
                     "DUPLICATE_BENEFIT"):  # fmt: skip
            new = set(after.loc[after["finding"] == code, "person_key"]) - set(
                before.loc[before["finding"] == code, "person_key"]
            )
            assert len(new) >= 2, (cur.name, code)  # 3 made; a few are earlier cases again
        moved = changes.loc[
            (changes["field"] == "life_status") & (changes["new_value"] == "moved_out"),
            "person_key",
        ]
        region = set(after.loc[after["finding"] == "DUPLICATE_REGION", "person_key"])
        assert len(region & set(moved)) >= 3  # moved out, still paying here, insured there


def test_most_enrollment_rows_link_on_the_exact_id(demo: Path) -> None:
    period = _periods(demo)[0]
    enr = read_extract(period / "enrollment.xlsx")
    pop_ids = set(read_extract(period / "hukou.csv")["公民身份号码"]) | set(
        read_extract(period / "residents.xlsx")["公民身份号码"].astype(str)
    )
    exact = enr["公民身份号码"].astype(str).map(lambda s: fold_id(s) or "").isin(pop_ids).mean()
    assert exact > 0.95


def test_periods_differ_by_births_deaths_and_corrections(demo: Path) -> None:
    periods = _periods(demo)
    ch = pd.concat([_truth(demo, p)["changes"] for p in periods[1:]])
    assert (ch["change"] == "added").sum() >= 1
    life = ch.loc[ch["field"] == "life_status", "new_value"]
    assert {"deceased", "moved_out"} <= set(life)
    assert {"name", "id_number"} <= set(ch["field"])
    assert (ch["field"] == "pension_status").any()
    assert "changes" not in _truth(demo, periods[0])
    h0, h2 = (read_extract(p / "hukou.csv") for p in (periods[0], periods[-1]))
    assert len(h2) > len(h0)
    assert (h2["户籍状态"] == "死亡").sum() > (h0["户籍状态"] == "死亡").sum()


@pytest.mark.parametrize("district", ["310101", "430321", "110105"])
def test_other_districts_use_their_own_codes(tmp_path: Path, district: str) -> None:
    (period,) = _generate(tmp_path, people=800, seed=3, periods=1, district=district)
    h = read_extract(period / "hukou.csv")
    assert h["村社区代码"].str.len().eq(12).all() and h["村社区代码"].str.startswith(district).all()
    assert h["乡镇街道代码"].str.len().eq(9).all()
    assert h["公民身份号码"].str.startswith(district).mean() > 0.6
