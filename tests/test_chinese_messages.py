"""Chinese first: catalogue lines for reconciliation notes and reject reasons, code beside the text."""

from __future__ import annotations

import re

from canbao.core import messages
from canbao.report.views import reconciliation_note


def test_reconciliation_note_is_chinese_with_codes() -> None:
    note = reconciliation_note(10, 8, 2, "备注, 联系人", 3)
    assert note == (
        "读入 10 行 = 入库 8 行 + 拒收 2 行 [recon_balanced]；"
        "未使用的列：备注, 联系人 [recon_extra_columns]；"
        "3 个代码不在代码表中（见问题清单） [recon_unknown_codes]"
    )
    assert "[recon_unbalanced]" in reconciliation_note(10, 8, 1, None, 0)


def test_every_catalogue_code_is_snake_case_and_every_sentence_chinese() -> None:
    for code, template in messages.CATALOGUE.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
        if code.startswith("where_") or code == "legacy_message":
            continue
        assert re.search(r"[\u4e00-\u9fff]", template), code


def test_reject_reasons_have_chinese_text_in_sql_and_python() -> None:
    import duckdb

    case = messages.sql_case("r")
    rows = duckdb.sql(
        f"SELECT {case} FROM (VALUES ('summary_row'), ('no_id'), ('brand_new_reason')) t(r)"
    ).fetchall()
    assert [r[0] for r in rows] == [
        messages.text("summary_row"), messages.text("no_id"), "brand_new_reason",
    ]  # fmt: skip
