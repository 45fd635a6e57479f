"""Every HTML page carries a subset of the bundled CJK font, inline, named first, same bytes each run."""

from __future__ import annotations

import base64
import io
import re

from fontTools.ttLib import TTFont

from canbao.core import fonts
from canbao.report import render, webfont

PAGE = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"/><title>雨湖区通报</title>'
    f"<style>body{{font-family:{fonts.CSS_STACK}}}</style></head>"
    "<body><h1>全民参保登记工作进展通报</h1><p>鹤岭镇&#x53C2;&amp;楠竹山镇 95.8%</p>"
    '<img src="data:image/png;base64,iVBORw0KGgo="/></body></html>'
)
_FONT = re.compile(r"url\(data:font/woff2;base64,([A-Za-z0-9+/=]+)\)")


def _font_of(page: str) -> TTFont:
    (data,) = _FONT.findall(page)
    return TTFont(io.BytesIO(base64.b64decode(data)))


def test_the_page_carries_every_glyph_it_shows():
    page = webfont.embed_font(PAGE)
    font = _font_of(page)
    assert font.flavor == "woff2"
    cmap = font.getBestCmap()
    for ch in "雨湖区全民参保登记工作进展通报鹤岭镇楠竹山0123456789.%参":  # &#x53C2; is 参
        assert ord(ch) in cmap, ch
    assert ord("汉") not in cmap  # a subset: not on the page, not in the font
    assert font["name"].getDebugName(1) == fonts.FAMILY  # the OFL font keeps its names


def test_the_font_is_named_first_and_declared_before_the_page_styles():
    page = webfont.embed_font(PAGE)
    head = page[page.index("<head>") : page.index("</head>")]
    assert head.index("@font-face") < head.index("body{font-family")
    assert f'font-family:"{webfont.FAMILY}"' in head
    for stack in re.findall(r"font-family:([^;}]+)", head.split("@font-face", 1)[1]):
        if "monospace" not in stack and "," in stack:
            assert stack.strip().startswith(f'"{webfont.FAMILY}"'), stack


def test_same_page_same_bytes_and_idempotent():
    once = webfont.embed_font(PAGE)
    webfont.subset_woff2.cache_clear()  # the font is subset again, not taken from the cache
    assert webfont.embed_font(PAGE) == once
    assert webfont.embed_font(once) == once
    assert webfont.subset_woff2("参保") == webfont.subset_woff2("保参")


def test_an_unchanged_page_is_subset_once():
    """The front page is written after every period and at the end: one subset, not three."""
    webfont.subset_woff2.cache_clear()
    first = webfont.embed_font(PAGE)
    assert webfont.embed_font(PAGE) == first
    assert webfont.embed_font(PAGE.replace("95.8%", "96.0%")) != first  # same glyphs, new text
    info = webfont.subset_woff2.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_every_stylesheet_names_the_embedded_family_first():
    css = (render.template_dir() / "canbao_bulletin" / "bulletin.css").read_text(encoding="utf-8")
    for stack in re.findall(r"font-family:\s*([^;]+);", css):
        if "monospace" not in stack:
            assert stack.strip().startswith(f'"{webfont.FAMILY}"'), stack
    assert fonts.CSS_STACK.startswith(f'"{webfont.FAMILY}"')
