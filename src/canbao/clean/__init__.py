"""Validation and standardisation rules every stage calls (IDs, credit codes, names, dates, codes).

Pure functions, no I/O, no engine: Python-only work (OpenCC, pypinyin, date parsing)
runs on distinct values and is mapped back; ID checks also have SQL twins.
"""
