"""入户调查: issue numbered roster batches (stage 9) and import the returns (stage 5).

Modules, in the order a period uses them:

- :mod:`.tables`: the persistent tables below, created on first use.
- :mod:`.places`: township and village names, and names built from them.
- :mod:`.issue`: stage 9, :func:`issue_rosters`.
- :mod:`.read`: which returned files count and their data rows, :func:`read_return_file`.
- :mod:`.normalise`: a returned row's values folded and parsed for comparison.
- :mod:`.check`: the SQL that judges each row (reasons, verdicts).
- :mod:`.returns`: stage 5, :func:`import_returns`, and its CLI.
- :mod:`.rejections`: the 退回清单 workbooks, :func:`write_rejections`.

Persistent tables (registry DB):

- ``survey_tasks``: one row per person per 下发批次 (batch, period, person_id,
  township_code, village_code, seq_in_batch, reissued, status, result,
  result_period, plus the issued id_number, name, birth_date that a return is
  checked against). Status: ``issued`` (out, nothing back), ``rejected`` (a return
  failed validation: still open, re-issued next batch), ``returned`` (a return
  passed validation this run, waiting for classify and commit), ``accepted``
  (stage 9 after the commit: 已落实).
- ``survey_results``: one row per accepted return row; classify turns it into
  ``surveyed`` and exemptions (column meanings in :data:`OUTCOME_RULES`).
- ``survey_return_rows``: every non-blank returned row ever judged, keyed by the
  file's SHA-256 and the row (``source_row`` 0: the whole file could not be read),
  with its verdict, reason and the roster ``column`` the reason is about:
  importing the same file again reuses the verdicts and changes nothing.

During a period run stage 5 writes only ``survey_return_rows_staged``,
``survey_results_staged`` and ``survey_task_updates_staged``; classify reads
persistent + staged, and the registry commit (stage 7) applies them in its
transaction, so a period killed before its commit leaves the survey tables as they
were. ``canbao import-returns`` (outside a period run) stages and applies at once.

Per-run table ``survey_rejects`` (file, source_row, person_id, id_number, name,
reason, township_code, village_code, outcome, column): the rejected rows of the
files in this period's ``survey_returns/`` (classify reports them as SURVEY_REJECTED).
"""

from __future__ import annotations

# __all__ is the list the single module had; the rest are re-exported by alias so
# every name `canbao.survey` defined stays importable from it.
from canbao.survey.check import OUTCOME_RULES
from canbao.survey.issue import issue_rosters
from canbao.survey.normalise import RETURN_FIELDS as RETURN_FIELDS
from canbao.survey.normalise import collected_date, parse_batch
from canbao.survey.normalise import fold_id as fold_id
from canbao.survey.normalise import fold_name as fold_name
from canbao.survey.places import district_name as district_name
from canbao.survey.places import place_names as place_names
from canbao.survey.read import HEADER_ALIASES as HEADER_ALIASES
from canbao.survey.read import HEADER_FIELDS as HEADER_FIELDS
from canbao.survey.read import RETURN_SUFFIXES as RETURN_SUFFIXES
from canbao.survey.read import Sheet as Sheet
from canbao.survey.read import file_township, read_return_file
from canbao.survey.read import return_files as return_files
from canbao.survey.rejections import REJECTION_COLUMNS as REJECTION_COLUMNS
from canbao.survey.rejections import write_rejections
from canbao.survey.returns import RETURNS_DIR as RETURNS_DIR
from canbao.survey.returns import import_returns, import_returns_cli
from canbao.survey.tables import ensure_tables
from canbao.survey.vocabulary import batch_label

__all__ = [
    "OUTCOME_RULES",
    "batch_label",
    "ensure_tables",
    "file_township",
    "import_returns",
    "import_returns_cli",
    "issue_rosters",
    "collected_date",
    "parse_batch",
    "read_return_file",
    "write_rejections",
]
