"""The one text folding (canbao.core.text) and the one CSV decoding policy."""

from __future__ import annotations

import sys
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from canbao.clean import idnumber, names
from canbao.core import text
from canbao.ingest.decoding import decode_bytes
from canbao.survey import normalise

# What pasting from a web page or another system leaves around an ID.
MARKS = ["\u200e", "\u200f", "\ufeff", "\u2060", "\u202a", "\u202c", "\u00ad", "\x00", "\U000e0041"]
ID = "43030219900101123X"


def test_invisible_class_is_every_cf_character_and_nul() -> None:
    cf = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}
    found = {chr(c) for c in range(sys.maxunicode + 1) if text.INVISIBLE_RE.fullmatch(chr(c))}
    assert found == cf | {"\x00"}


def test_every_stage_folds_an_id_the_same_way() -> None:
    """Ingest, cleaning and the survey reader: the same ID whatever invisible mark it carries."""
    for mark in MARKS:
        pasted = f"{mark}'{ID[:6]}{mark}{ID[6:].lower()} {mark}"
        assert text.fold_id(pasted) == ID, repr(mark)
        assert idnumber.fold_id(pasted) == ID, repr(mark)
        assert normalise.fold_id(pasted) == ID, repr(mark)
        arrow = pc.replace_substring_regex(pa.array([pasted]), text.ARROW_INVISIBLE_RE, "")
        assert text.fold_id(arrow[0].as_py()) == ID


def test_every_stage_folds_a_name_the_same_way() -> None:
    for raw in ["阿依古丽\u200e．买买提", " 阿依古丽 • 买买提\u2060", "阿依古丽\x00·买买提"]:
        assert names.fold_name(raw) == normalise.fold_name(raw) == "阿依古丽·买买提"


def test_nul_in_a_free_text_cell_is_stripped_not_a_reason() -> None:
    assert text.strip_invisible("湖南省湘潭市\x00雨湖区") == "湖南省湘潭市雨湖区"


def test_one_csv_decoding_for_extracts_and_returns() -> None:
    assert decode_bytes("姓名\n张伟\n".encode("gbk")) == ("姓名\n张伟\n", "gbk")
    assert decode_bytes("\ufeff姓名\n".encode()) == ("姓名\n", "utf-8-sig")
    assert decode_bytes("姓名\n张伟\n".encode("utf-16")) == ("姓名\n张伟\n", "utf-16")
    rows = "公民身份号码,姓名\n430302199001011234,张三\n"
    assert decode_bytes(rows.encode("utf-16-le")) == (rows, "utf-16-le")
    assert decode_bytes(rows.encode("utf-16-be")) == (rows, "utf-16-be")
    assert decode_bytes(b"\x00\x01\x02\x00" * 40) is None


def test_invisible_utf8_pattern_is_invisible_re_on_the_bytes() -> None:
    """The ingest scan searches UTF-8 bytes with INVISIBLE_UTF8_RE instead of the decoded
    text with INVISIBLE_RE: the same characters, every one of them, and nothing else."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    on_text = {c for c in chars if text.INVISIBLE_RE.fullmatch(c)}
    on_bytes = {c for c in chars if text.INVISIBLE_UTF8_RE.fullmatch(c.encode("utf-8"))}
    assert on_bytes == on_text
    assert text.INVISIBLE_UTF8_RE.search("张\u200b秀英".encode()) is not None
    assert text.INVISIBLE_UTF8_RE.search("４３０３０２·（）—“”".encode()) is None


def test_gbk_holds_no_invisible_character() -> None:
    """Why a strict GBK scan only looks for NUL bytes: no GBK byte pair decodes to a Cf character."""
    found = []
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            try:
                ch = bytes([lead, trail]).decode("gbk")
            except UnicodeDecodeError:
                continue
            if text.INVISIBLE_RE.search(ch):
                found.append(ch)
    assert found == []
    assert [c for c in range(0x80) if text.INVISIBLE_RE.search(bytes([c]).decode("gbk"))] == [0]
