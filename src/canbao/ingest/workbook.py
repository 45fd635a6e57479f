"""What a spreadsheet file is by its bytes, and the parts of an xlsx's XML that calamine
does not expose. Shared by extract ingestion and the survey-return reader, which both
judge files by content (a renamed xlsx is still an xlsx) and look in the sheet XML for
formulas saved without their result.
"""

from __future__ import annotations

import codecs
import html
import re
import zipfile

ZIP_SIGNATURE = b"PK\x03\x04"  # xlsx (an OOXML zip)
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # legacy xls, or an encrypted xlsx

_ATTR_RE = re.compile(r'([\w:]+)="([^"]*)"')


def looks_like_html(head: bytes) -> bool:
    """Many 人社 systems export "xls" files that are HTML tables."""
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    return text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta"))


def sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str | None]]:
    """(sheet name, zip member holding it or None) for every sheet, in workbook order
    (the order calamine counts sheets in)."""
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target: dict[str, str] = {}
    for tag in re.findall(r"<Relationship\b[^>]*>", rels):
        a = dict(_ATTR_RE.findall(tag))
        if "Id" in a and "Target" in a:
            t = a["Target"]
            target[a["Id"]] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    out: list[tuple[str, str | None]] = []
    for tag in re.findall(r"<sheet\b[^>]*>", zf.read("xl/workbook.xml").decode("utf-8")):
        a = dict(_ATTR_RE.findall(tag))
        rid = next((v for k, v in a.items() if k.endswith(":id")), None)
        out.append((html.unescape(a.get("name", "")), target.get(rid) if rid else None))
    return out


def column_index(letters: str) -> int:
    """A cell reference's column letters as a 0-based index (A → 0, AA → 26)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1
