"""A Chinese ``argparse``: headings, help flag and errors in Chinese, a guess for a typo.

argparse writes its own English (``the following arguments are required``); a user of
``canbao`` reads Chinese, so each of its messages is matched and said again through
:mod:`canbao.core.messages`, with the code in square brackets for scripts. An option
or subcommand typed wrong gets the closest real one (``--peroid`` → ``--period``), said
by the subcommand it was typed for. Errors exit 2 (``ExitCode.USAGE``). The type
converters here refuse a bad value with a catalogue line for the same reason.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import re
import sys

from canbao.core import messages
from canbao.core.errors import ExitCode

PROG = "canbao"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks; the usage line starts with 用法."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


# argparse's English messages (Python 3.11) → catalogue codes; the first match wins.
_ARGPARSE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the following arguments are required: (?P<args>.+)"), "usage_required"),
    (re.compile(r"unrecognized arguments: (?P<args>.+)"), "usage_unrecognized"),
    (
        re.compile(r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"),
        "usage_invalid_choice",
    ),
    (re.compile(r"invalid (?P<kind>\w+) value: (?P<value>.+)"), "usage_invalid_value"),
    (re.compile(r"expected one argument"), "usage_expected_value"),
    (
        re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)"),
        "usage_ambiguous",
    ),
)
_KINDS = {"int": "整数", "float": "数字"}


def translate_argparse(message: str) -> str:
    """argparse's English error as a catalogue line (Chinese + code)."""
    arg = None
    m = re.fullmatch(r"argument (?P<arg>[^:]+): (?P<rest>.+)", message, re.S)
    if m:
        arg, message = m["arg"], m["rest"]
    if messages.is_line(message):  # already ours (a type= converter's message)
        return f"参数 {arg}：{message}" if arg else message
    for pattern, code in _ARGPARSE_MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            fields = found.groupdict()
            if "kind" in fields:
                fields["kind"] = _KINDS.get(fields["kind"], fields["kind"])
            if code in ("usage_invalid_choice", "usage_invalid_value", "usage_expected_value"):
                fields["arg"] = arg or ""
            return messages.line(code, **fields)
    detail = f"{arg}: {message}" if arg else message
    return messages.line("usage_error", detail=detail)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose headings, help flag and errors are Chinese; errors exit 2."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出"
        )

    def parse_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def,override]
        """As argparse, but an unknown option is reported by the subcommand it was typed for
        (its usage, its options to suggest from), not by the top-level parser."""
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            self._command_parser(ns).error(f"unrecognized arguments: {' '.join(extras)}")
        return ns

    def _command_parser(self, ns: argparse.Namespace) -> argparse.ArgumentParser:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(getattr(ns, action.dest, None) or "", self)
        return self

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        text = translate_argparse(message)
        guess = self._guess(message)
        if guess:
            text += "\n" + messages.line("usage_did_you_mean", guess=guess)
        hint = messages.line("usage_hint", prog=self.prog)
        self.exit(int(ExitCode.USAGE), f"{PROG}: {text}\n{hint}\n")

    def _guess(self, message: str) -> str | None:
        """The option or subcommand closest to a typo (``--peroid`` → ``--period``, ``rum`` → ``run``)."""
        unknown = re.search(r"unrecognized arguments: (.+)", message)
        if unknown:
            options = [o for o in self._option_string_actions if o.startswith("--")]
            for token in unknown[1].split():
                if token.startswith("-"):
                    close = difflib.get_close_matches(token.split("=")[0], options, n=1)
                    if close:
                        return close[0]
            return None
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.+)\)", message)
        if choice:
            close = difflib.get_close_matches(choice[1], re.findall(r"'([^']*)'", choice[2]), n=1)
            return close[0] if close else None
        return None


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(messages.line("usage_bad_date", value=value)) from None


def non_negative_int(value: str) -> int:
    """``--workers``: as the params' ``workers``, 0 means one process per CPU core."""
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(messages.line("usage_not_non_negative", value=value))
    return n


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(messages.line("usage_not_positive", value=value))
    return n
