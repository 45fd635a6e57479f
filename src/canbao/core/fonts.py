"""The CJK font of the bulletins, from the pip package ``noto-cjk-sans-otc``: no system font assumed.

Two consumers need it:

* matplotlib: :func:`setup_matplotlib` registers every face of the collection and
  makes "Noto Sans CJK SC" (mainland glyph forms) the sans-serif font.
* WeasyPrint (through Pango/fontconfig): :func:`fontconfig_file` writes a
  *hermetic* ``fonts.conf`` that lists only the pip font folder and maps
  sans-serif/serif/monospace to the SC faces. The PDF therefore looks the same
  on every machine, whatever fonts the system has (or lacks).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from functools import cache
from pathlib import Path

FAMILY = "Noto Sans CJK SC"
MONO_FAMILY = "Noto Sans Mono CJK SC"
FONT_FILE = "NotoSansCJK-Regular.ttc"
# The name of the subset every HTML page carries inline (canbao.report.webfont).
WEB_FAMILY = "canbao CJK SC"
# CSS font stack for HTML read in a browser: the page's own subset first, then system fonts.
CSS_STACK = (
    f'"{WEB_FAMILY}", "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Microsoft YaHei", '
    '"PingFang SC", "WenQuanYi Micro Hei", sans-serif'
)


@cache
def font_dir() -> Path:
    """Folder of the installed ``noto_cjk_sans_otc`` package (raises if it is missing)."""
    spec = importlib.util.find_spec("noto_cjk_sans_otc")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "pip package noto-cjk-sans-otc is not installed (needed for Chinese glyphs)"
        )
    d = Path(list(spec.submodule_search_locations)[0])
    if not (d / FONT_FILE).is_file():
        raise RuntimeError(f"{d / FONT_FILE} not found")
    return d


def font_path() -> Path:
    """The TrueType collection (JP, KR, SC, TC, HK and Mono faces, Regular weight)."""
    return font_dir() / FONT_FILE


def setup_matplotlib() -> None:
    """Register the pip font with matplotlib and make it the default (idempotent).

    ``axes.unicode_minus`` off: the collection lacks nothing, but a plain hyphen
    keeps negative changes readable in every viewer.
    """
    import matplotlib
    from matplotlib import font_manager as fm

    path = str(font_path())
    if not any(f.fname == path for f in fm.fontManager.ttflist):
        fm.fontManager.addfont(path)
    matplotlib.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [FAMILY, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "svg.fonttype": "path",
            "pdf.fonttype": 42,
        }
    )


def fontconfig_xml(cache_dir: Path) -> str:
    """A fonts.conf that sees only the pip font folder (hermetic; runs nothing)."""
    d = font_dir()
    aliases = "".join(
        f'<alias binding="strong"><family>{generic}</family><prefer><family>{fam}</family></prefer></alias>'
        for generic, fam in (
            ("sans-serif", FAMILY),
            ("serif", FAMILY),
            ("monospace", MONO_FAMILY),
            ("system-ui", FAMILY),
        )
    )
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        "<fontconfig>\n"
        f"  <dir>{d}</dir>\n"
        f"  <cachedir>{cache_dir}</cachedir>\n"
        f"  {aliases}\n"
        # Any other family name a stylesheet asks for (Microsoft YaHei, …) falls back here.
        f'  <match target="pattern"><edit name="family" mode="append_last"><string>{FAMILY}</string></edit></match>\n'
        "  <config><rescan><int>0</int></rescan></config>\n"
        "</fontconfig>\n"
    )


@cache
def fontconfig_file() -> Path:
    """Write (once per process) and return the hermetic fonts.conf for WeasyPrint."""
    d = font_dir()
    key = hashlib.sha256(str(d).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"canbao-fontconfig-{key}"
    cache_dir = root / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    conf = root / "fonts.conf"
    xml = fontconfig_xml(cache_dir)
    if not conf.exists() or conf.read_text(encoding="utf-8") != xml:
        tmp = root / f"fonts.conf.{os.getpid()}.tmp"
        tmp.write_text(xml, encoding="utf-8")
        tmp.replace(conf)
    return conf
