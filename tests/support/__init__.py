"""Helpers the tests share that are not fixtures (builders of rows, tables, periods and
damaged files); fixtures live in ``tests/conftest.py``."""
