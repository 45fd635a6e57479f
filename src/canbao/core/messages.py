"""One catalogue of every message a user can meet: Chinese first, a stable English code beside it.

Modules never write user-facing text inline: they raise or log a *code* with its fields,
and this catalogue turns it into the Chinese sentence. Scripts match on the code (the
part in square brackets), people read the sentence. Reject reasons in ``rejects.csv``,
reconciliation notes, abort reasons, CLI errors and verify's report all come from here.

Codes are lower snake case and never change once released; the Chinese text may be
reworded. Add a code here, in its group, before using it anywhere.
"""

from __future__ import annotations

import string

# --- the catalogue: code -> Chinese template ({field} placeholders) -------------------------
CATALOGUE: dict[str, str] = {
    # where a problem is: used by InputError to prefix file / row / column
    "where_file": "{file}",
    "where_row": " 第 {row} 行",
    "where_column": " “{column}”列",
    # command line and internal errors
    "internal_error": "程序内部错误（不是输入的问题），详细信息已写入 {log}，请把该文件发给维护人员",
    "legacy_message": "{text}",
}


def text(code: str, /, **fields: object) -> str:
    """The Chinese sentence for ``code`` with its fields filled in."""
    template = CATALOGUE[code]
    missing = {f for _, f, _, _ in string.Formatter().parse(template) if f} - set(fields)
    if missing:
        raise KeyError(f"message {code} needs fields {sorted(missing)}")
    return template.format(**fields)


def line(code: str, /, **fields: object) -> str:
    """What a user sees: the Chinese sentence, then the stable code for scripts."""
    return f"{text(code, **fields)} [{code}]"


def known(code: str) -> bool:
    return code in CATALOGUE
