"""Match a file's header cells to the contract's columns.

Senders' exports differ in width, spacing and wording. Headers are folded
(full-width → half-width, spaces and zero-width characters removed) before they
are compared, and a district's own header names are mapped to the contract's in
``params/<district>.yaml`` (``headers: {hukou: {身份证号: 公民身份号码}}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from canbao.core import text
from canbao.core.errors import InputError
from canbao.core.schema import Extract

_DROP = re.compile(r"[*＊()\[\]【】]+")

# Common header variants in 公安/人社 exports, used only for a contract column that no
# header matched exactly (a district's own names go in params ``headers``).
ALIASES: dict[str, tuple[str, ...]] = {
    "公民身份号码": (
        "身份证号码",
        "身份证号",
        "公民身份证号码",
        "公民身份证号",
        "证件号码",
        "社会保障号码",
        "社会保障号",
    ),
    "险种类型": ("险种",),
    "乡镇街道代码": ("乡镇代码", "街道代码"),
    "村社区代码": ("村居代码", "社区代码", "村代码"),
    "乡镇街道": ("乡镇", "街道"),
    "村社区": ("村居", "社区"),
    "统一社会信用代码": ("社会信用代码", "信用代码"),
    "参保地区划代码": ("参保地行政区划代码",),
}


def fold_header(cell: str | None) -> str:
    """Header text as compared: the one folding (canbao.core.text), no required-marks."""
    return _DROP.sub("", text.fold_header(cell))


@dataclass(frozen=True)
class HeaderMap:
    """Which file column feeds which canonical column, and what was left over."""

    columns: dict[str, int]  # canonical column -> index of the file column
    extras: list[str]  # header texts of the columns the contract does not use
    source: dict[str, str]  # canonical column -> header text as it appears in the file


def params_map(extract: Extract, mapping: dict[str, str] | None) -> dict[str, str]:
    """Folded source header -> contract header, from ``cfg.headers[extract]``.

    A value may be a contract header (公民身份号码) or its canonical column (id_raw).
    """
    by_canonical = {v: k for k, v in extract.columns.items()}
    contract = {fold_header(k): k for k in extract.columns}
    out: dict[str, str] = {}
    for src, dst in (mapping or {}).items():
        target = contract.get(fold_header(str(dst))) or by_canonical.get(str(dst))
        if target is None:
            raise ValueError(
                f"params headers.{extract.name}: {src!r} maps to {dst!r}, which is not a "
                f"column of {extract.name} (expected one of: {', '.join(extract.columns)})"
            )
        out[fold_header(str(src))] = target
    return out


def map_headers(
    header: list[str], extract: Extract, mapping: dict[str, str] | None, file: str
) -> HeaderMap:
    """Map header cells to canonical columns; InputError for a missing or doubled column."""
    from_params = params_map(extract, mapping)
    contract = {fold_header(k): k for k in extract.columns}
    columns: dict[str, int] = {}
    source: dict[str, str] = {}
    extras: list[str] = []
    aliases = {
        fold_header(a): k for k, names in ALIASES.items() if k in extract.columns for a in names
    }
    direct = {from_params.get(fold_header(c)) or contract.get(fold_header(c)) for c in header}
    for i, cell in enumerate(header):
        folded = fold_header(cell)
        target = from_params.get(folded) or contract.get(folded)
        alias = aliases.get(folded)
        if target is None and alias not in direct and extract.columns.get(alias) not in columns:
            target = alias
        if target is None:
            extras.append(cell.strip() if cell and cell.strip() else f"(column {i + 1})")
            continue
        canonical = extract.columns[target]
        if canonical in columns:
            raise InputError(
                file,
                "header_duplicate",
                column=target,
                target=target,
                first=source[canonical],
                second=cell.strip(),
            )
        columns[canonical] = i
        source[canonical] = cell.strip()
    for required in extract.required_columns:
        if extract.columns[required] not in columns:
            found = ", ".join(h.strip() for h in header if h and h.strip())
            raise InputError(
                file, "header_required_missing", column=required, found=found, extract=extract.name
            )
    return HeaderMap(columns, extras, source)
