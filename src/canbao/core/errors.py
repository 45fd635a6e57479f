"""Errors a statistician can act on: each names the file, and the row and column where known.

Every error carries a message *code* from :mod:`canbao.core.messages` (the Chinese text is
looked up there) and the exit code the CLI returns for it (documented in the README).
"""

from __future__ import annotations

from enum import IntEnum

from canbao.core import messages


class ExitCode(IntEnum):
    """``canbao``'s exit codes: stable, for scripts (README, ``canbao --help``)."""

    OK = 0
    NOTEBOOKS_FAILED = 1  # the district stage ran, some notebooks did not
    USAGE = 2  # bad arguments or params
    INPUT_REFUSED = 3  # an input file refused (named with row and column)
    ABORTED = 4  # a safety rule stopped the period before the registry changed
    BUSY = 5  # another run holds the registry
    INTERNAL = 9  # a bug: one line on the console, the traceback in a log file


def _render(code_or_text: str, fields: dict[str, object]) -> tuple[str, str]:
    """(code, Chinese line) — a catalogue code, or legacy free text still being converted."""
    if messages.known(code_or_text):
        return code_or_text, messages.line(code_or_text, **fields)
    return "legacy_message", code_or_text


class CanbaoError(Exception):
    """Base of the errors the CLI reports as one clear line."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, code: str, /, **fields: object) -> None:
        self.code, self.message = _render(code, fields)
        self.fields = fields
        super().__init__(self.message)


class InputError(CanbaoError):
    """Bad input: names file, row and column so the sender can fix it."""

    exit_code = ExitCode.INPUT_REFUSED

    def __init__(
        self,
        file: str,
        code: str,
        /,
        *,
        row: int | None = None,
        column: str | None = None,
        **fields: object,
    ) -> None:
        self.file, self.row, self.column = file, row, column
        code, what = _render(code, {"file": file, "row": row, "column": column, **fields})
        where = messages.text("where_file", file=file)
        if row is not None:
            where += messages.text("where_row", row=row)
        if column is not None:
            where += messages.text("where_column", column=column)
        Exception.__init__(self, f"{where}：{what}")
        self.code, self.message, self.fields = code, f"{where}：{what}", fields


class PeriodAborted(CanbaoError):
    """A period refused before the registry changed (empty extract, too many unusable IDs…)."""

    exit_code = ExitCode.ABORTED


class RegistryBusy(CanbaoError):
    """Another run holds the registry."""

    exit_code = ExitCode.BUSY


class UsageError(InputError):
    """A bad argument or params file: names the file (and the key, as its column); exit code 2."""

    exit_code = ExitCode.USAGE
