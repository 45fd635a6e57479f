"""The survey's vocabulary: 核实情况 and their import codes, 未参保原因, GB/T 4761 relation
codes, sex codes, task statuses and the 下发批次 label, shared by the rosters, the forms,
the ledgers, the returns checks and the provincial import file."""

from __future__ import annotations

# 核实情况 (contract §8.4) with the 湖南 import code 参保意愿/状态 + reason or 身份.
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("参加省职保", "0/200"),
    ("参加机关保", "0/201"),
    ("参加省外职保", "0/202"),
    ("在校学生", "0/203"),
    ("现役军人", "0/204"),
    ("服刑人员", "0/205"),
    ("出国（境）人员", "0/206"),
    ("死亡未销户人员", "0/207"),
    ("其他人员", "0/208"),
    ("我区参加居保", "1/011"),
    ("无参保意愿", "2/011"),
)
OUTCOME_NAMES: tuple[str, ...] = tuple(name for name, _ in OUTCOMES)

# 未参保原因: no national list (contract §8.4, §8.8); the 雨湖区 normalised list plus the
# reasons seen elsewhere, and 其他 so an officer is never forced to pick a wrong one.
REASONS: tuple[str, ...] = (
    "16岁以上在校生",
    "参军",
    "服刑人员",
    "死亡（失踪）",
    "空挂户",
    "户口不在本地",
    "数据错误",
    "参职保（含退休）",
    "已录入居保",
    "自愿放弃",
    "异地居保",
    "已录入未审核",
    "经济困难（交不起）",
    "不了解政策",
    "其他",
)

SEX_NAMES: dict[str, str] = {"1": "男", "2": "女"}
# GB/T 4761-2008, the codes seen in 户籍 extracts (others are shown as received).
RELATION_NAMES: dict[str, str] = {
    "01": "本人",
    "02": "户主",
    "10": "配偶",
    "11": "夫",
    "12": "妻",
    "20": "子",
    "21": "独生子",
    "22": "长子",
    "23": "次子",
    "24": "三子",
    "27": "养子或继子",
    "28": "女婿",
    "29": "其他儿子",
    "30": "女",
    "31": "独生女",
    "32": "长女",
    "33": "次女",
    "34": "三女",
    "37": "养女或继女",
    "38": "儿媳",
    "39": "其他女儿",
    "40": "孙子女",
    "41": "孙子",
    "42": "孙女",
    "43": "外孙子",
    "44": "外孙女",
    "50": "父母",
    "51": "父亲",
    "52": "母亲",
    "53": "公公",
    "54": "婆婆",
    "55": "岳父",
    "56": "岳母",
    "60": "祖父母",
    "61": "祖父",
    "62": "祖母",
    "70": "兄弟姐妹",
    "71": "兄",
    "72": "嫂",
    "73": "弟",
    "74": "弟媳",
    "75": "姐姐",
    "76": "姐夫",
    "77": "妹妹",
    "78": "妹夫",
    "80": "其他",
    "93": "侄子",
    "94": "侄女",
    "97": "其他亲属",
    "99": "非亲属",
}
CN_DIGITS = "零一二三四五六七八九"

STATUS_NAMES: dict[str, str] = {
    "issued": "已下发未回收",
    "returned": "已回收待入库",
    "accepted": "已落实",
    "rejected": "退回重填",
}


def batch_label(batch: int) -> str:
    """下发批次 as officers write it: 第一批, 第十二批 (digits beyond 99)."""
    if batch < 10:
        num = CN_DIGITS[batch]
    elif batch < 100:
        tens, ones = divmod(batch, 10)
        num = ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")
    else:
        num = str(batch)
    return f"第{num}批"
