"""One catalogue of every message a user can meet: Chinese first, a stable English code beside it.

Modules never write user-facing text inline: they raise or log a *code* with its fields,
and this catalogue turns it into the Chinese sentence. Scripts match on the code (the
part in square brackets), people read the sentence. Reject reasons in ``rejects.csv``,
reconciliation notes, abort reasons, CLI errors and verify's report all come from here.

Codes are lower snake case and never change once released; the Chinese text may be
reworded. Add a code here, in its group, before using it anywhere.
"""

from __future__ import annotations

import re
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
    "interrupted": "已中断（Ctrl+C）：正在运行的期次没有记为完成，登记库只保留已提交的内容；"
    "再次运行 canbao run 会重新运行该期",
    "os_error": "无法读写文件：{reason}（磁盘已满、没有权限或文件被其他程序占用？）",
    "registry_busy": "登记库正被另一个运行使用（{holder}）；请等它结束后再运行（锁文件 {lock}）",
    "run_workers_capped": "--workers {asked} 多于可用的 {cap} 个（CPU 核数或笔记本数），按 {cap} 个进程运行",
    # reject reasons: rejects.csv's ``reason`` codes, its ``reason_text`` column is this text
    "blank_row": "空行",
    "summary_row": "合计、小计等汇总行，不是人员数据",
    "repeated_header": "表头在数据中重复出现（多次导出拼接）",
    "no_id_no_name": "公民身份号码和姓名均为空，无法识别是谁",
    "no_id": "公民身份号码为空，无法识别是谁",
    "no_employer_no_code_or_name": "单位编号、统一社会信用代码和单位名称均为空",
    "nul_byte": "行内含空字符（文件已损坏）",
    "undecodable": "行内含无法解码的字符（文件编码损坏）",
    "too_many_fields": "字段比表头多（单元格中有未加引号的逗号？），其后各列已错位，整行未载入；"
    "值为该行原文",
    # field issues: exports/field_issues.csv's ``reason`` codes (the row loads, the field not)
    "value_unknown": "填写为“不详”等，视为空值",
    "date_invalid": "日期无法识别或不存在（如 2 月 30 日），视为空值",
    "date_future": "日期晚于本期提取日期",
    "sex_code_unknown": "性别代码不在代码表中（1 男、2 女），视为空值",
    "scheme_code_unknown": "险种类型不在代码表中，不计入养老或医疗",
    "status_code_unknown": "状态代码不在代码表中，按一般情况处理",
    "repeated_row": "与同一文件中较早的一行完全相同（重复导出或粘贴），只载入第一行；值为被重复的行号",
    # canbao status: a period's state (same test as `canbao run`'s skip) and the report around it
    "status_up_to_date": "已是最新",
    "status_inputs_changed": "有变化，需重新运行",
    "status_failed": "上次运行失败",
    "status_never_run": "从未运行",
    "status_no_inputs": "已运行，但提取目录中已无此期",
    "status_last_run": "最近运行",
    "status_changed": "变化",
    "status_outputs_missing": "输出文件缺失",
    "status_header": "区县 {district}（提取目录 {raw}，参数目录 {params}）",
    "status_front_page": "首页：{path}",
    "status_no_front_page": "首页尚未生成（运行时执行笔记本才会生成）",
    "status_no_raw_dir": "找不到该区县的提取目录，请用 --raw 指定 data/raw/<区县代码>",
    "status_no_report_dir": "不是输出目录（应为 reports/<区县代码>）",
    "status_given_raw_dir": "这是提取数据的区县文件夹（期次文件夹中没有运行记录），不是输出目录；"
    "请给出 reports/<区县代码>，或用 --raw 指定提取目录",
    "status_nothing_run": "其下没有任何已运行的区县；请先运行 canbao run，或指定 reports/<区县代码>",
    # reconciliation: the 说明 of each input file in the district report
    "recon_balanced": "读入 {read} 行 = 入库 {loaded} 行 + 拒收 {rejected} 行",
    "recon_unbalanced": "读入 {read} 行 ≠ 入库 {loaded} 行 + 拒收 {rejected} 行，请检查",
    "recon_extra_columns": "未使用的列：{columns}",
    "recon_unknown_codes": "{n} 个代码不在代码表中（见问题清单）",
    # canbao run: the summary after the periods, one notebook's outcome
    "run_up_to_date": "{period}：已是最新（指纹 {fingerprint}），无需运行",
    "run_period_ok": "{period}：完成",
    "run_period_failed": "{period}：失败",
    "run_period_ok_notebooks": "{period}：完成（笔记本 {ok}/{total} 个成功）",
    "run_period_failed_notebooks": "{period}：失败（笔记本 {ok}/{total} 个成功）",
    "run_note": "提示",
    "run_no_period_folder": "没有期次目录 {period}",
    "run_no_periods": "没有以 YYYY-MM-DD 命名的期次目录",
    "task_kind_district": "区级",
    "task_kind_township": "乡镇",
    "task_kind_bulletin": "通报",
    "task_ok": "{kind} {label}：成功",
    "task_failed": "{kind} {label}：失败，{where}：{error}",
    "task_cell": "第 {cell} 个单元格",
    "task_outside_cells": "在单元格之外",
    # canbao export / import-returns
    "export_no_registry": "找不到登记库（应为 reports/<区县代码>/registry.duckdb）",
    "export_no_period": "{as_of} 及之前没有已提交的期次",
    "returns_no_registry": "该区县还没有登记库：请先运行 canbao run",
    # canbao verify: one line per output, notes, the summary
    "verify_identical": "一致",
    "verify_different": "不一致",
    "verify_missing": "重新执行未生成",
    "verify_extra": "重新执行多出（运行记录中没有）",
    "verify_note": "说明",
    "verify_missing_in_report": "报告目录中缺少此文件",
    "verify_cell_count": "代码单元格数不同：{a} 与 {b}",
    "verify_cells_differ": "第 {cells} 个单元格的输出不同",
    "verify_bytes_differ": "内容不同（sha256 {a} 与 {b}）",
    "verify_inputs_changed": "运行之后这些输入文件已改变：{files}",
    "verify_code_changed": "运行之后程序代码已改变（差异可能由此而来）",
    "verify_run_incomplete": "所记录的运行没有完成：{failures}",
    "verify_rerun_failed": "重新执行本身报告了失败",
    "verify_summary": "{same} 个一致，{bad} 个不一致",
    "verify_no_manifest": "没有可读的 {name}，不是一期的输出目录（应为 reports/<区县代码>/<YYYY-MM-DD>）",
    # command line: argparse's own errors (canbao.chinese_argparse translates them), exit 2
    "usage_required": "缺少必需的参数：{args}",
    "usage_unrecognized": "无法识别的参数：{args}",
    "usage_invalid_choice": "参数 {arg} 的值 {value} 不是可选项（可选：{choices}）",
    "usage_invalid_value": "参数 {arg} 的值 {value} 无效，应为{kind}",
    "usage_expected_value": "参数 {arg} 后面缺少取值",
    "usage_ambiguous": "选项 {option} 有歧义，可能是：{matches}",
    "usage_error": "命令行参数有误：{detail}",
    "usage_hint": "运行 {prog} -h 查看帮助和示例",
    "usage_bad_date": "日期 {value} 无效，应为 YYYY-MM-DD（例如 2026-01-31）",
    "usage_not_positive": "{value} 不是正整数",
    "usage_not_non_negative": "{value} 不是不小于 0 的整数（0 表示按 CPU 核数）",
    "usage_did_you_mean": "是否想输入：{guess}",
    "demo_unknown_district": "区县代码 {code} 不在 GB/T 2260 县级区划代码表中（应为六位数字，如 430302）",
    # command line: the exit-code table of --help and the README (canbao.core.errors.ExitCode)
    "exit_ok": "成功",
    "exit_notebooks_failed": "区级阶段已完成，但有笔记本（乡镇或通报）失败，见运行摘要",
    "exit_usage": "命令行参数或参数文件有误",
    "exit_input_refused": "输入文件被拒收（提示中给出文件、行和列）",
    "exit_aborted": "安全规则中止了本期，登记库未作改动",
    "exit_busy": "另一个运行正在使用该登记库",
    "exit_internal": "程序内部错误：控制台一行提示，详细信息写入日志文件",
    "exit_interrupted": "被用户中断（Ctrl+C）",
    # canbao run: the console's news per period (details go to the period's run.log)
    "run_period_log": "期次 {period}：开始运行，警告和详细错误写入 {log}",
    "run_district_stage": "  区县比对（{notebook}）运行中……",
    "run_district_done": "  区县比对完成，用时 {seconds} 秒",
    # stage records: the console's line per stage and the district report's stage table
    "stage_done": "{stage}：用时 {wall} 秒（CPU {cpu} 秒），内存峰值 {peak}；{counts}",
    "stage_ingest": "读入",
    "stage_clean": "清洗",
    "stage_persons": "人员识别",
    "stage_link": "比对",
    "stage_survey_returns": "回收调查表",
    "stage_classify": "参保状态判定",
    "stage_registry": "登记库更新",
    "stage_exports": "导出",
    "stage_provincial_import": "批量导入文件",
    "stage_rosters": "下发花名册",
    "stage_total": "合计",
    "stage_col_stage": "步骤",
    "stage_col_wall": "用时（秒）",
    "stage_col_cpu": "CPU（秒）",
    "stage_col_peak": "内存峰值",
    "stage_col_counts": "主要数量",
    "count_read": "读入 {n} 行",
    "count_loaded": "入库 {n} 行",
    "count_rejected": "拒收 {n} 行",
    "count_population": "人口 {n} 行",
    "count_enrollment": "参保 {n} 行",
    "count_persons": "人员 {n} 人",
    "count_exact": "身份证号一致 {n}",
    "count_repaired": "号码修复 {n}",
    "count_probabilistic": "概率比对 {n}",
    "count_unlinked": "未比对上 {n}",
    "count_review": "待人工复核 {n}",
    "count_files": "文件 {n} 个",
    "count_rows": "回收 {n} 行",
    "count_accepted": "接收 {n} 行",
    "count_targets": "调查对象 {n} 人",
    "count_findings": "问题 {n} 条",
    "count_new": "新增 {n} 人",
    "count_changed": "变更 {n} 人",
    "count_ended": "取消 {n} 人",
    # input files refused by ingest (exit code 3); InputError puts file / row / column first
    "file_unreadable": "无法读取该文件：{reason}",
    "file_empty": "文件为空（0 字节，没有表头行）",
    "file_no_header": "文件中没有表头行（只有空行）",
    "sheet_no_header": "工作表“{sheet}”中没有表头行",
    "workbook_no_header": "工作簿的所有工作表都没有表头行",
    "file_is_html": "这是以表格文件名保存的网页（HTML 或 XML 表格），不是 xlsx 或 CSV；"
    "请在 Excel 中打开并另存为 .xlsx 或 CSV",
    "file_is_binary": "这是{what}，不是 xlsx 或 CSV 数据文件",
    "xlsx_unreadable": "无法打开：文件设有密码，或不是完整的 xlsx 文件（可能已损坏、只复制了一部分，"
    "或是改了扩展名的其他文件）；请去掉密码或重新导出后再发送",
    "csv_undecodable": "无法按文本解码（已尝试 {encodings}），文件可能已损坏或根本不是 CSV；"
    "请在 Excel 中另存为“CSV UTF-8”或 GBK 编码的 CSV",
    "csv_unreadable": "无法按 CSV 读取：{detail}",
    "csv_unclosed_quote": '此单元格中的引号（"）没有闭合，其后各行都被读进了这个单元格，'
    "这些行会丢失；请闭合或删除该引号后重新发送",
    "xlsx_uncomputed_formula": "{cell}公式保存时没有计算结果（文件由程序生成，未经 Excel 保存），"
    "单元格会读成空值；请用 Excel 打开后保存，或导出数值而不是公式",
    "extract_several_sheets": "{extract} 的数据分布在多个工作表（{sheets}）；请把每个工作表另存为"
    "单独的文件（{extract}_1.xlsx、{extract}_2.xlsx……）以保留行号，或删除不是数据的工作表",
    "extract_missing": "缺少必需的数据文件：{label}（{extract}.xlsx 或 {extract}.csv），"
    "在 {folder} 中没有找到",
    "extract_header_only": "必需的数据文件 {extract} 只有表头，没有数据行",
    "extract_no_usable_rows": "没有可用的数据行：全部 {rows} 行都是空行或没有身份信息",
    "extract_part_copy": "与 {first} 内容完全相同（同一个 {extract} 文件发了两次？）；"
    "读入会使每个人重复出现，请删除其中一个",
    "extract_several_files": "数据 {extract} 有多个文件（{names}）；请只保留一个，"
    "或把各部分命名为 {extract}_1、{extract}_2……",
    "file_not_an_extract": "不是本期读取的数据文件（文件名应为：{names}，或分段文件如 hukou_1.csv；"
    "入户调查回收表放在 survey_returns/ 中）；请改为它所含数据的文件名，或移出本期文件夹",
    "extract_format_not_read": "数据 {extract} 的文件格式 {suffix} 不能读取；"
    "请另存为 {extract}.xlsx 或 {extract}.csv，或移出本期文件夹",
    "header_duplicate": "有两列都对应“{target}”：“{first}”和“{second}”；"
    "请删除其中一列，或在参数文件 headers 中改映射",
    "header_required_missing": "缺少必需的列“{column}”（文件中的列：{found}）；"
    "请在文件中改列名，或在参数文件 headers.{extract} 中映射",
    # district and period folders (exit code 2)
    "period_folder_not_date": "期次文件夹须以提取日期命名（YYYY-MM-DD，如 2026-11-15）",
    "district_dir_missing": "区县文件夹不存在",
    "district_dir_is_period": "这是一个期次文件夹；请给出它上一级的区县文件夹（data/raw/<区县代码>）",
    "district_dir_is_file": "这是一个文件，不是文件夹；请给出区县文件夹 data/raw/<区县代码>",
    "district_dir_is_root": "这是存放各区县的上一级目录；请给出其中一个区县文件夹（{names}）",
    "district_dir_not_code": "区县文件夹须以六位区县代码命名（GB/T 2260，如 data/raw/430302），"
    "输出和参数文件都按这个代码查找",
    "out_inside_raw": "输出目录与提取数据目录 {raw} 重叠；提取数据只读，运行会删除或混入其中的文件，"
    "请用 --out 指向别处（默认 reports）",
    "out_not_writable": "无法写入输出目录：{reason}；请检查权限和磁盘空间，或用 --out 指向别处",
    "params_dir_is_file": "--params 应为参数目录（内含 {name}），不是文件；请改为 --params {parent}",
    "params_defaults_used": "参数目录 {params} 中没有 {name}，本次使用默认参数",
    "params_dir_missing": "参数目录不存在；请检查 --params，或创建该目录（没有 {name} 时使用默认参数）",
    # safety rules: the period is aborted before the registry changes (exit code 4)
    "run_period_before_registry": "期次 {period} 早于登记库中已有的最新期次 {latest}，且从未运行过："
    "登记库按日期顺序累积（下发的花名册是下一期核对回收表的依据），不能补插更早的期次；"
    "请把全部期次用新的输出目录重新运行（--out），或移走期次文件夹 {period}（{out} 未改动）",
    "abort_no_population": "没有人口表：户籍数据（hukou）没有载入",
    "abort_population_empty": "户籍人口数据为空：登记库中将一个人也不剩",
    "abort_unusable_ids": "{file} “{column}”列：{total} 行中有 {unusable} 行（{share}）没有可用的"
    "公民身份号码，超过安全阈值 safety.max_unusable_id_share = {limit}；{detail}本期已中止，登记库未改动",
    # the abort's detail: which rows and why (row numbers are data rows, header not counted)
    "abort_ids_precision_lost": "{n} 行的号码被 Excel 转成了科学计数法（如第 {rows} 行：{example}），"
    "后几位已丢失、无法还原：请在导出系统中把该列设为“文本”格式后重新导出"
    "（不要用 Excel 打开后再保存为 CSV）",
    "abort_ids_invalid": "{n} 行号码不合规（如第 {rows} 行：{example}）",
    "abort_ids_missing": "{n} 行号码为空（如第 {rows} 行）",
    # command line and params (exit code 2)
    "params_not_yaml": "参数文件不是有效的 YAML：{detail}",
    "params_fullwidth_colon": "键后面用了全角冒号“：”；请改为半角冒号“:”，冒号后留一个空格（如 workers: 2）",
    "params_not_mapping": "参数文件的顶层须为“键: 值”映射，实际是 {kind}",
    "params_unknown_key": "未知参数“{key}”（可用的参数：{allowed}）",
    "params_bad_type": "参数“{key}”的值 {value} 类型不对，应为{expected}",
    "params_out_of_range": "参数“{key}”的值 {value} 超出范围，应为{expected}",
    "params_bad_value": "参数“{key}”的值不对：{detail}",
    "params_bad_choice": "参数“{key}”的值 {value} 不在可选值中（可选：{allowed}）",
    "params_township_code": "参数“{key}”：{value} 不是本区县 {district} 的乡镇街道代码"
    "（9 位数字，以区县代码开头，如 {district}001）",
    "params_district_mismatch": "参数文件中的 district_code {found} 与区县代码 {expected} 不一致",
    "params_unknown_extract": "参数“{key}”中的数据名“{extract}”不存在（数据名：{allowed}）",
    "params_unknown_column": "参数“{key}”把“{source}”映射到“{target}”，"
    "但它不是 {extract} 的列（可用的列：{allowed}）",
    "params_unknown_code_table": "参数“{key}”中的代码表“{table}”不存在（代码表：{allowed}）",
    "count_import_rows": "导出 {n} 行",
    "count_corrections": "其中更正 {n} 行",
    # the provincial 批量导入 file (canbao.survey.provincial) and its params
    "params_provincial_import": "参数 provincial_import 有误：{detail}",
    "provincial_import_unencodable": (
        "批量导入文件无法用 {encoding} 编码写出：第 {row} 行“{column}”列含该编码没有的字符，"
        "请改用 gb18030 或在户籍数据中更正该字"
    ),
    "provincial_import_no_code": (
        "核实情况“{outcome}”没有导入代码（{people} 人），未写出批量导入文件；"
        "请在参数 provincial_import.codes 中补上"
    ),
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


_LINE = re.compile(r".* \[([a-z0-9_]+)\]", re.S)


def is_line(message: str) -> bool:
    """True if ``message`` is already a catalogue line (ends with a known ``[code]``)."""
    m = _LINE.fullmatch(message)
    return bool(m) and known(m.group(1))


def sql_case(column: str) -> str:
    """SQL giving the Chinese text of the code in ``column`` (codes without fields; else the code)."""
    whens = " ".join(
        f"WHEN '{code}' THEN '{template.replace(chr(39), chr(39) * 2)}'"
        for code, template in sorted(CATALOGUE.items())
        if "{" not in template
    )
    return f"CASE {column} {whens} ELSE {column} END"
