"""A small, fast, byte-deterministic .xlsx writer (one sheet, inline strings).

openpyxl stamps the current time into the zip entries, so two runs differ; this
writer fixes every timestamp and writes the sheet XML in one pass, which is also
several times faster than openpyxl for the demo's 100k-row extracts.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    "</Relationships>"
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _column_xml(values: pd.Series) -> pa.Array:
    """The <c> elements of one column, built by Arrow kernels: strings inline, float cells
    (Excel's numeric IDs) as numbers, blanks as empty cells. Cells carry no ``r``
    reference (it is optional), which keeps the sheet XML a third smaller."""
    if pd.api.types.is_integer_dtype(values.dtype) and not values.isna().any():
        text = pa.array(values.astype("int64").astype(str).to_numpy(dtype=object), pa.string())
        return pc.binary_join_element_wise("<c><v>", text, "</v></c>", "")
    obj = values.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(obj, skipna=True)
    if kind in ("string", "empty"):
        is_num = np.zeros(len(obj), bool)
    else:
        is_num = np.fromiter((isinstance(x, float) and x == x for x in obj), bool, len(obj))
    if is_num.any():
        text = pa.array(
            [
                "" if (f or x is None or isinstance(x, float)) else str(x)
                for x, f in zip(obj, is_num, strict=True)
            ],
            pa.string(),
        )
    else:
        text = pa.array(values.fillna("").astype(str).to_numpy(dtype=object), pa.string())
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, a, b)
    spaced = pc.not_equal(text, pc.utf8_trim_whitespace(text))
    open_t = pc.if_else(
        spaced, '<c t="inlineStr"><is><t xml:space="preserve">', '<c t="inlineStr"><is><t>'
    )
    cell = pc.binary_join_element_wise(open_t, text, "</t></is></c>", "")
    cell = pc.if_else(pc.equal(text, ""), "<c/>", cell)
    if is_num.any():
        py = cell.to_pylist()
        for i in np.flatnonzero(is_num):
            py[i] = f"<c><v>{obj[i]!r}</v></c>"
        cell = pa.array(py, pa.string())
    return cell


def write_xlsx(
    path: Path,
    frame: pd.DataFrame,
    stamp: dt.datetime,
    sheet: str = "Sheet1",
    preamble: tuple[str, ...] = (),
) -> None:
    """Write ``frame`` (header row = its columns; str cells inline, float and integer-dtype
    cells numeric) as one sheet; ``stamp`` fixes the zip entry times and the document
    properties. ``preamble``: text rows (one cell each) above the header, e.g. a title."""
    header = "".join(
        f'<c t="inlineStr"><is><t>{escape(str(h))}</t></is></c>' for h in frame.columns
    )
    header = (
        "".join(f'<row><c t="inlineStr"><is><t>{escape(t)}</t></is></c></row>' for t in preamble)
        + f"<row>{header}</row>"
    )
    cells = [_column_xml(frame[c]) for c in frame.columns]
    rows = (
        pc.binary_join_element_wise("<row>", *cells, "</row>", "")
        if len(frame)
        else pa.array([], pa.string())
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + header,
        "".join(rows.to_pylist()),
        "</sheetData></worksheet>",
    ]
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>canbao demo</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{iso}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{iso}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    t = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    entries = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _RELS),
        ("docProps/core.xml", core),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", _WB_RELS),
        ("xl/styles.xml", _STYLES),
        ("xl/worksheets/sheet1.xml", "".join(parts)),
    ]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in entries:
            info = zipfile.ZipInfo(name, date_time=t)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))
