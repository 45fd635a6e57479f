"""Figures of the 全民参保登记工作进展通报 (contract §4, §8.5): aggregates only.

Everything is computed from the persistent registry tables (``registry_history``,
``findings_history``, ``changelog``, ``survey_tasks``) for one period; no
person-level row leaves this package. A *unit* is a 乡镇街道 (district bulletin)
or a 村社区 (township bulletin); each table ends with a 合计 row.

Definitions (period P = the bulletin date, the registry as committed for P):

* 户籍人数 ``hukou``: persons with ``population = 'hukou'`` and ``life_status = 'alive'``.
* 应参保人数 ``<family>_due``: 户籍人数 minus the family's exclusions
  (``exempt`` or ``not_applicable``), per family (pension, medical).
* 已参保人数 ``<family>_insured``: of those, ``insured_local`` + ``insured_elsewhere``.
* 参保率 ``<family>_rate`` = 已参保 / 应参保; 综合参保率 ``overall_rate`` =
  (养老已参保 + 医疗已参保) / (养老应参保 + 医疗应参保), the default ranking key.
  常住 (non-户籍) persons are outside the coverage base: they count where their 户籍 is.
* 下发核查数 ``tasks_issued``: persons with a ``survey_tasks`` row issued at or
  before P (a reissued task counts once), placed where the latest task placed them.
* 已核查数 ``tasks_done``: of those, persons with a task whose return was accepted
  (status ``returned`` or ``accepted``) with ``result_period`` at or before P. 核查完成率 = 已核查 / 下发.
* 本期新增参保 ``new_insured``: persons with a ``新参保`` change in P's changelog.
* 清理数: ``clean_deceased`` persons with a DECEASED_* finding in P,
  ``clean_moved`` persons with a ``迁出`` change in P, ``clean_duplicate``
  persons with a DUPLICATE_* finding in P; ``clean_total`` is their sum.
* 纠错数 ``corrections``: persons whose ``registration`` was ``needs_correction``
  in any period up to P (still pending or since corrected); ``corrections_open``
  those still ``needs_correction`` at P.
* 排名 ``rank``: by ``overall_rate`` (params ``bulletin.rank_by: coverage``) or
  by 核查完成率 (``survey_completion``), highest first, ties share a rank; units
  without a base are unranked.
* Change since the previous bulletin (``d_*``): P's figure minus the figure of
  the latest earlier period in ``registry_history`` (rates in percentage points;
  ``d_rank`` = previous rank − rank, so positive means moved up). NaN in the
  first bulletin or for a unit new in P.
* Events (changes, findings, corrections) are placed at the person's latest
  registry location at or before P.

The two official indicators (湖南 2017, contract §8.5), over everyone alive in the
registry (户籍 and 常住) of the scope:

* **已参保人员入库率** (target 100%) = persons insured in at least one family
  whose registry record is settled (``registration`` other than
  ``needs_correction``: their identity data agree with 公安) / persons insured in
  at least one family.
* **未参保人员登记率** (target ≥ 95%) = persons registered through the household
  survey (``registration = 'surveyed'``) / persons who needed it
  (``registration`` in ``survey``, ``surveyed``).
"""

from __future__ import annotations

from canbao.report.bulletin.columns import (
    ACCEPTED_STATUSES,
    COUNTS,
    DELTAS,
    LABELS,
    RATES,
    SCOPE_COUNTS,
    TOTAL_LABEL,
    UNIT_WORD,
    UNKNOWN_UNIT,
    Level,
)
from canbao.report.bulletin.figures import (
    district_table,
    indicators,
    period_number,
    previous_period,
    scope_name,
    township_table,
    trend_table,
    unit_names,
)
from canbao.report.bulletin.markup import (
    display_frame,
    indicators_html,
    notes_html,
    signature_html,
    summary_html,
    table_html,
    title_html,
)
from canbao.report.bulletin.prose import cn_date, fmt_pct, fmt_pp, fmt_rank_change, summary_text
from canbao.report.bulletin.sql import (
    indicators_sql,
    previous_period_sql,
    trend_sql,
    unit_figures_sql,
)

__all__ = [
    "ACCEPTED_STATUSES",
    "COUNTS",
    "DELTAS",
    "LABELS",
    "Level",
    "RATES",
    "SCOPE_COUNTS",
    "TOTAL_LABEL",
    "UNIT_WORD",
    "UNKNOWN_UNIT",
    "cn_date",
    "display_frame",
    "district_table",
    "fmt_pct",
    "fmt_pp",
    "fmt_rank_change",
    "indicators",
    "indicators_html",
    "indicators_sql",
    "notes_html",
    "period_number",
    "previous_period",
    "previous_period_sql",
    "scope_name",
    "signature_html",
    "summary_html",
    "summary_text",
    "table_html",
    "title_html",
    "township_table",
    "trend_sql",
    "trend_table",
    "unit_figures_sql",
    "unit_names",
]
