"""Errors a statistician can act on: each names the file, and the row and column where known."""

from __future__ import annotations


class CanbaoError(Exception):
    """Base of the errors the CLI reports as one clear line (exit code 2)."""


class InputError(CanbaoError):
    """Bad input: names file, row and column so the sender can fix it."""

    def __init__(
        self, file: str, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        self.file, self.row, self.column, self.message = file, row, column, message
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


class PeriodAborted(CanbaoError):
    """A period refused before the registry changed (empty extract, too many unusable IDs…)."""


class RegistryBusy(CanbaoError):
    """Another run holds the registry."""
