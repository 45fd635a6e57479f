"""Chinese names: surnames by real frequency, given-name characters, minority names and
the name variants other systems produce (同音字, 繁体, middle-dot forms)."""

from __future__ import annotations

from functools import cache

import numpy as np

# Top surnames with their approximate share of the population in percent
# (公安部 户籍 name statistics, 2020). The tail outside the list is spread over it.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.12), ("李", 7.00), ("张", 6.74), ("刘", 5.10), ("陈", 4.61), ("杨", 3.22),
    ("黄", 2.45), ("赵", 2.19), ("吴", 2.00), ("周", 1.95), ("徐", 1.45), ("孙", 1.38),
    ("马", 1.29), ("朱", 1.28), ("胡", 1.16), ("郭", 1.13), ("何", 1.06), ("林", 1.01),
    ("高", 1.00), ("罗", 0.95), ("郑", 0.88), ("梁", 0.86), ("谢", 0.76), ("宋", 0.70),
    ("唐", 0.69), ("许", 0.66), ("韩", 0.65), ("邓", 0.62), ("冯", 0.62), ("曹", 0.60),
    ("彭", 0.59), ("曾", 0.59), ("肖", 0.57), ("田", 0.56), ("董", 0.53), ("潘", 0.52),
    ("袁", 0.52), ("蔡", 0.48), ("蒋", 0.48), ("余", 0.47), ("于", 0.46), ("杜", 0.45),
    ("叶", 0.44), ("程", 0.42), ("魏", 0.41), ("苏", 0.40), ("吕", 0.40), ("丁", 0.39),
    ("任", 0.38), ("卢", 0.36), ("姚", 0.36), ("沈", 0.35), ("钟", 0.35), ("姜", 0.34),
    ("崔", 0.33), ("谭", 0.33), ("陆", 0.32), ("范", 0.30), ("汪", 0.30), ("廖", 0.30),
    ("石", 0.29), ("金", 0.28), ("韦", 0.27), ("贾", 0.27), ("夏", 0.26), ("付", 0.26),
    ("方", 0.26), ("邹", 0.25), ("熊", 0.25), ("白", 0.24), ("孟", 0.24), ("秦", 0.24),
    ("邱", 0.23), ("侯", 0.23), ("江", 0.23), ("尹", 0.22), ("薛", 0.22), ("闫", 0.21),
    ("段", 0.21), ("雷", 0.21), ("龙", 0.20), ("黎", 0.20), ("史", 0.20), ("陶", 0.19),
    ("贺", 0.19), ("毛", 0.19), ("郝", 0.18), ("顾", 0.18), ("龚", 0.18), ("邵", 0.17),
    ("万", 0.17), ("覃", 0.17), ("武", 0.17), ("钱", 0.16), ("戴", 0.16), ("严", 0.16),
    ("莫", 0.15), ("孔", 0.15), ("向", 0.15), ("常", 0.15),
)  # fmt: skip

MALE_CHARS = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文海峰晨亮东成光荣"
    "新春德生兵永彬锋伦毅豪轩睿博然泽宏子梓铭一诚昊天元家嘉思翔云正松清金福贵祥顺湘江"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀英玲桂兰萍燕红梅琳婷雪慧颖琴莉洁丹倩佳欣怡悦雨涵萱诗梦晴瑶可馨雅"
    "文月玉凤华珍春云莹璐婧琪妍露蓉彤菲爱美淑芬晓小思子梓若嘉一紫湘"
)
# Extra common characters offered as 同音字 substitutes.
HOMOPHONE_POOL = (
    "玮炜卫薇维君钧骏俊峻桦骅铭鸣名茗莉俐丽力立利婧菁晶敬镜靖洁捷婕结颖莹营盈迎红宏鸿弘虹"
    "芳方放仿舫敏民闽珉静净竞境径娟涓鹃卷霞侠峡暇秀绣袖英瑛鹰樱玲灵铃凌菱萍平坪屏评燕艳彦雁"
    "梅玫媒枚眉琳林霖麟临婷亭庭廷停雪薛学慧惠蕙卉会琴勤芹秦禽丹单耽郸倩茜欠佳家嘉加珈欣心新"
    "鑫馨怡仪宜贻颐悦越岳跃月雨语宇羽玉涵含晗寒韩萱宣轩喧玄诗师施狮湿梦孟晴清青情倾瑶遥谣姚"
    "尧雅亚娅压鸭珍真贞甄臻春纯淳唇莹璐路露鹿禄琪其奇棋旗祺妍岩严研言蓉荣容融溶彤同桐童瞳"
    "菲飞非妃霏爱艾媛园源圆远淑书舒殊叔芬分纷粉晓小肖笑孝思斯丝司伟维卫威微强墙蔷磊雷蕾军"
    "均君勇涌永泳杰捷洁节涛韬滔桃斌彬宾滨超朝潮明刚钢港纲辉晖徽挥鹏朋棚华飞波博勃浩昊皓豪"
    "凯楷恺健建剑坚帆凡烦帅率旭绪序宁凝柠龙隆笼阳杨扬洋志智之知文闻雯峰锋丰风亮量晨辰臣沉东"
    "冬栋成诚城程光广荣德得兵冰生声升松颂宋金津锦进福富复贵桂祥翔详顺舜湘相香乡江疆姜"
)

# 维吾尔族 given names for minority persons (name·father's name).
UYGHUR_MALE = ("阿卜杜拉", "买买提", "艾尔肯", "吐尔逊", "阿里木", "热合曼", "努尔", "伊力哈木", "艾山", "库尔班", "阿不都", "依明")  # fmt: skip
UYGHUR_FEMALE = ("热依拉", "古丽娜尔", "阿依古丽", "迪丽拜尔", "帕提古丽", "努尔古丽", "米娜瓦尔", "阿依努尔", "祖丽菲亚", "热孜宛")  # fmt: skip

# Ethnicity codes (GB 3304) and shares for a Hunan district; 05 gets middle-dot names.
ETHNICITIES: tuple[tuple[str, float], ...] = (
    ("01", 0.9335), ("15", 0.025), ("06", 0.018), ("12", 0.006), ("13", 0.005),
    ("03", 0.004), ("05", 0.003), ("02", 0.002), ("11", 0.002), ("08", 0.0015),
)  # fmt: skip

DOT_VARIANTS = ("•", "．", ".", "・")


def surname_probs() -> tuple[np.ndarray, np.ndarray]:
    """Surname characters and their sampling probabilities."""
    chars = np.array([s for s, _ in SURNAMES])
    p = np.array([f for _, f in SURNAMES])
    return chars, p / p.sum()


def given_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """One- or two-character given names (about 80% two characters), drawn by sex."""
    n = len(male)
    mc = np.array(list(MALE_CHARS))
    fc = np.array(list(FEMALE_CHARS))
    first = np.where(male, mc[rng.integers(0, len(mc), n)], fc[rng.integers(0, len(fc), n)])
    second = np.where(male, mc[rng.integers(0, len(mc), n)], fc[rng.integers(0, len(fc), n)])
    two = rng.random(n) < 0.8
    second = np.where(two & (second != first), second, "")
    return np.char.add(first.astype("U1"), second.astype("U1"))


def uyghur_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Names such as 阿卜杜拉·买买提 (own name · father's name)."""
    n = len(male)
    um, uf = np.array(UYGHUR_MALE), np.array(UYGHUR_FEMALE)
    own = np.where(male, um[rng.integers(0, len(um), n)], uf[rng.integers(0, len(uf), n)])
    father = um[rng.integers(0, len(um), n)]
    return np.char.add(np.char.add(own.astype("U8"), "·"), father.astype("U8"))


@cache
def _pinyin_index() -> dict[str, list[str]]:
    from pypinyin import Style, lazy_pinyin

    idx: dict[str, list[str]] = {}
    pool = dict.fromkeys(
        HOMOPHONE_POOL + MALE_CHARS + FEMALE_CHARS + "".join(s for s, _ in SURNAMES)
    )
    for ch in pool:
        py = lazy_pinyin(ch, style=Style.NORMAL)[0]
        idx.setdefault(py, []).append(ch)
    return idx


@cache
def _converters():
    import opencc

    return opencc.OpenCC("s2t"), opencc.OpenCC("t2s")


@cache
def _py(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text, style=Style.NORMAL))


def homophone_variant(name: str, pick: int) -> str | None:
    """The name with one given-name character replaced by a 同音字 (same toneless pinyin,
    different simplified character), or None when no character has one."""
    _, t2s = _converters()
    idx = _pinyin_index()
    positions = list(range(1, len(name))) or [0]
    for k in range(len(positions)):
        pos = positions[(pick + k) % len(positions)]
        ch = name[pos]
        cands = [c for c in idx.get(_py(ch), []) if c != ch and t2s.convert(c) != ch]
        if cands:
            new = name[:pos] + cands[pick % len(cands)] + name[pos + 1 :]
            if _py(new) == _py(name):
                return new
    return None


def traditional_variant(name: str) -> str | None:
    """The 繁体 form of the name if it differs and converts back exactly, else None."""
    s2t, t2s = _converters()
    trad = s2t.convert(name)
    if trad != name and t2s.convert(trad) == name:
        return trad
    return None


def dot_variant(name: str, pick: int) -> str:
    """A minority name with its middle dot written another way (normalisation only)."""
    return name.replace("·", DOT_VARIANTS[pick % len(DOT_VARIANTS)])
