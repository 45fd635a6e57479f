"""Manifest pieces: hashes, row counts of extracts in their encodings, seeds, fingerprints."""

from __future__ import annotations

import hashlib

import pandas as pd

from canbao import manifest as mf


def test_count_rows_reads_gbk_csv_and_xlsx_without_header_or_blank_rows(tmp_path):
    csv = tmp_path / "hukou.csv"
    csv.write_bytes(
        "公民身份号码,姓名\n430302199001011234,张伟\n,\n43030219851212002X,欧阳娜娜\n".encode("gbk")
    )
    assert mf.count_rows(csv) == 2
    bom = tmp_path / "students.csv"
    bom.write_text(
        '公民身份号码,姓名,学校名称\n430302200501011234,李娜,"湘潭大学,本部"\n',
        encoding="utf-8-sig",
    )
    assert mf.count_rows(bom) == 1
    xlsx = tmp_path / "enrollment.xlsx"
    pd.DataFrame({"个人编号": ["A1", "A2", "A3"], "姓名": ["王芳", "刘洋", "陈静"]}).to_excel(
        xlsx, index=False
    )
    assert mf.count_rows(xlsx) == 3
    assert mf.count_rows(tmp_path / "readme.txt") is None


def test_describe_inputs_lists_survey_returns_with_hashes(tmp_path):
    (tmp_path / "survey_returns").mkdir()
    (tmp_path / "survey_returns" / "石潭镇.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "hukou.csv").write_text("a\n1\n2\n", encoding="utf-8")
    got = mf.describe_inputs(tmp_path)
    assert [g["file"] for g in got] == ["hukou.csv", "survey_returns/石潭镇.csv"]
    assert got[0]["sha256"] == hashlib.sha256(b"a\n1\n2\n").hexdigest()
    assert [g["rows"] for g in got] == [2, 1]


def test_fingerprint_changes_with_each_part_and_chains_previous_period():
    inputs = [{"file": "hukou.csv", "sha256": "a" * 64}]
    base = mf.fingerprint(mf.fingerprint_parts(inputs, {"x": 1}, "code", "nb", None))
    assert base == mf.fingerprint(mf.fingerprint_parts(inputs, {"x": 1}, "code", "nb", None))
    variants = [
        mf.fingerprint_parts(
            [{"file": "hukou.csv", "sha256": "b" * 64}], {"x": 1}, "code", "nb", None
        ),
        mf.fingerprint_parts(inputs, {"x": 2}, "code", "nb", None),
        mf.fingerprint_parts(inputs, {"x": 1}, "code2", "nb", None),
        mf.fingerprint_parts(inputs, {"x": 1}, "code", "nb2", None),
        mf.fingerprint_parts(inputs, {"x": 1}, "code", "nb", base),
    ]
    assert len({base, *(mf.fingerprint(v) for v in variants)}) == 6


def test_seeds_packages_and_git_state():
    params = {"linkage": {"seed": 7, "match_threshold": 0.99}, "demo_seed": 3, "workers": 2}
    assert mf.find_seeds(params) == {"linkage.seed": 7, "demo_seed": 3}
    versions = mf.package_versions()
    assert versions["duckdb"] and versions["canbao"] == "0.1.0"
    git = mf.git_state()
    assert git["commit"] is None or len(git["commit"]) == 40
    assert git["dirty"] in (True, False, None)


def test_write_and_read_manifest_roundtrip(tmp_path):
    mf.write_manifest(tmp_path, {"period": "2026-01-15", "params": {"district_name": "雨湖区"}})
    assert mf.read_manifest(tmp_path)["params"]["district_name"] == "雨湖区"
    assert "雨湖区" in (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert mf.read_manifest(tmp_path / "absent") is None
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "registry.csv").write_text("person_id\n", encoding="utf-8")
    assert [o["file"] for o in mf.describe_outputs(tmp_path)] == ["exports/registry.csv"]
