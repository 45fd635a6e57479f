"""Names: folding (contract §7 normalisation), 繁→简 and the 同音字 pinyin key."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from canbao.clean.names import fold_name, name_keys, pinyin_key, to_simplified


@pytest.mark.parametrize(
    "variant",
    [
        "阿卜杜拉•买买提",
        "阿卜杜拉．买买提",
        "阿卜杜拉.买买提",
        "阿卜杜拉・买买提",
        "阿卜杜拉‧买买提",
        "阿卜杜拉∙买买提",
        "阿卜杜拉⋅买买提",
        "阿卜杜拉･买买提",
        "阿卜杜拉\u00b7买买提",
        " 阿卜杜拉 · 买买提 ",
    ],
)
def test_middle_dots_fold_equal(variant):
    assert fold_name(variant) == "阿卜杜拉·买买提"


@pytest.mark.parametrize(
    "raw", ["张伟", " 张伟 ", "张\u3000伟", "张 伟", "\ufeff张伟", "张\u200b伟", "张\t伟\n"]
)
def test_spaces_fold(raw):
    assert fold_name(raw) == "张伟"


def test_width_fold_and_missing():
    assert fold_name("ＬＩ　Ｍｉｎｇ") == "LIMing"
    assert fold_name(None) is None and fold_name("   ") is None and fold_name(float("nan")) is None


def test_other_differences_are_not_folded():
    # 繁体 and 同音字 stay different after folding: the comparison reports NAME_MISMATCH.
    assert fold_name("張偉") != fold_name("张伟")
    assert fold_name("章伟") != fold_name("张伟")


def test_traditional_to_simplified():
    assert to_simplified("張偉") == "张伟"
    assert to_simplified("劉麗華") == "刘丽华"
    assert to_simplified("张伟") == "张伟"
    assert to_simplified("阿卜杜拉·买买提") == "阿卜杜拉·买买提"


def test_homophones_share_pinyin():
    assert pinyin_key("张伟") == pinyin_key("章伟") == pinyin_key("張偉") == "zhangwei"
    assert pinyin_key("王芳") == pinyin_key("汪方")
    assert pinyin_key("张伟") != pinyin_key("张为民")
    # pypinyin reads 卜 as "bo"; the key only has to be the same for the same sound.
    assert pinyin_key("阿卜杜拉·买买提") == pinyin_key("阿卜杜拉•买买提") == "abodulamaimaiti"


# Common name characters, including some in pypinyin phrases (国建, 长生) and 多音字 (单, 曾, 解).
CHARS = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英霞平刚桂兰华国建红文玉梅春生长重行乐单解朴查欧阳"


@settings(max_examples=300)
@given(st.text(alphabet=CHARS, min_size=2, max_size=4))
def test_pinyin_fast_path_equals_lazy_pinyin(name):
    assert pinyin_key(name) == "".join(lazy_pinyin(name, style=Style.NORMAL)).lower()


def test_name_keys_distinct_and_aligned():
    ser = pd.Series(
        ["張偉", " 张伟", None, "章伟", "阿卜杜拉•买买提", "張偉"], index=list("abcdef")
    )
    out = name_keys(ser)
    assert list(out.columns) == ["name", "name_simp", "name_pinyin"]
    assert out.index.tolist() == list("abcdef")
    assert out.loc["a"].tolist() == ["張偉", "张伟", "zhangwei"]
    assert out.loc["b"].tolist() == ["张伟", "张伟", "zhangwei"]
    assert out.loc["c"].isna().all()
    assert out.loc["e", "name"] == "阿卜杜拉·买买提"
    assert out.loc["f"].tolist() == out.loc["a"].tolist()


def test_name_keys_equal_the_one_value_functions():
    """``name_keys`` reuses a name's simplified form for its dot-free twin and checks a
    three-character name's two bigrams directly: the same keys as the one-value functions,
    for plain, 繁体, dotted, phrase (国建, 长生) and 多音字 names."""
    raw = [
        "张国建",
        "李长生",
        "單偉",
        "曾解",
        "阿依古丽·买买提",
        "艾力．阿不都",
        "乐",
        "欧阳娜娜",
        "張國建",
    ]
    out = name_keys(pd.Series(raw))
    for i, v in enumerate(raw):
        folded = fold_name(v)
        assert out.loc[i, "name"] == folded
        assert out.loc[i, "name_simp"] == to_simplified(folded)
        assert out.loc[i, "name_pinyin"] == pinyin_key(folded)
    assert out.loc[0, "name_pinyin"] == out.loc[8, "name_pinyin"] == "zhangguojian"
