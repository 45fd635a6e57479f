"""The bundled demo district: synthetic extracts in the contract's format plus ground truth.

``generate`` writes ``<raw_root>/<district>/<date>/`` (hukou.csv GBK with shuffled
columns and an extra 备注, residents.xlsx with a few numeric ID cells, enrollment.xlsx —
enrollment.csv UTF-8-BOM at a million rows or more —, employers.csv UTF-8,
national_match.xlsx with 险种 names, students.csv GB18030) and, apart from it,
``<truth_root>/<district>/<date>/``:

- ``persons.csv``: one row per true person (``person_key`` D########), the 公安 identity of
  the period, and the statuses expected by contract §7 (empty for ``population`` none).
- ``rows.csv``: every data row of every extract file (not survey_returns/) with its true
  ``person_key`` (empty for employers) and ``;``-separated fault tags. Tags starting
  ``norm_`` are normalisation only (no finding); ``id_*``, ``name_*``, ``birth_typo``,
  ``sex_wrong``, ``credit_*``, ``employer_no_name``, ``id_excel_numeric`` are faults;
  ``pop_duplicate_*``, ``pop_*_corrected_later``, ``in_both_lists`` mark population quirks.
- ``findings.csv``: expected findings (contract codes + DUPLICATE_PERSON); per-row codes
  with file/source_row, per-person codes with an empty source_row. From the 2nd period,
  SURVEY_REJECTED: one row per returned row that ``canbao.demo.returns`` made bad on purpose
  (``file`` = ``survey_returns/<township>_<name>.xlsx``, ``source_row`` = 1-based data row;
  blank rows are "not returned", not rejected).
- ``changes.csv`` (2nd period on): ``added`` / ``removed`` persons and ``changed`` fields
  (id_number, name, sex, birth_date, population, township_code, village_code,
  life_status, pension_status, medical_status, registration) against the period before.
"""

from canbao.demo.district import generate, load_truth

__all__ = ["generate", "load_truth"]
