"""Manifest pieces: hashes, row counts of extracts in their encodings, seeds, fingerprints."""

from __future__ import annotations

import hashlib

from canbao.run import manifest as mf


def test_describe_inputs_hashes_files_without_opening_them(tmp_path):
    """A damaged extract is hashed like any file: ingest, not the fingerprint, refuses it."""
    (tmp_path / "enrollment.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "hukou.csv").write_bytes("公民身份号码\n".encode("utf-16"))
    (tmp_path / "students.xlsx").write_bytes(b"")
    got = {g["file"]: g for g in mf.describe_inputs(tmp_path)}
    assert got["students.xlsx"] == {
        "file": "students.xlsx",
        "sha256": hashlib.sha256(b"").hexdigest(),
        "bytes": 0,
    }
    assert set(got["enrollment.xlsx"]) == {"file", "sha256", "bytes"}


def test_row_counts_come_from_the_reconciliation(tmp_path):
    recon = tmp_path / "reconciliation.csv"
    recon.write_text(
        "extract,file,rows_read,rows_loaded,rows_rejected,extra_columns,unknown_codes\n"
        "hukou,hukou.csv,3,2,1,,0\n",
        encoding="utf-8",
    )
    inputs = [{"file": "hukou.csv", "sha256": "x"}, {"file": "notes.txt", "sha256": "y"}]
    mf.attach_row_counts(inputs, recon)
    assert inputs == [
        {"file": "hukou.csv", "sha256": "x", "rows": 3},
        {"file": "notes.txt", "sha256": "y"},
    ]


def test_describe_inputs_lists_survey_returns_with_hashes(tmp_path):
    (tmp_path / "survey_returns").mkdir()
    (tmp_path / "survey_returns" / "石潭镇.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "hukou.csv").write_text("a\n1\n2\n", encoding="utf-8")
    got = mf.describe_inputs(tmp_path)
    assert [g["file"] for g in got] == ["hukou.csv", "survey_returns/石潭镇.csv"]
    assert got[0]["sha256"] == hashlib.sha256(b"a\n1\n2\n").hexdigest()
    assert [g["bytes"] for g in got] == [6, 4]


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
