"""The error family of kldiv: each error carries the exit status the spec gives it.

Every error is a :class:`ValueError`, so Python callers can catch either. The CLI maps
``exit_status`` to the process status and prints ``kldiv: error: <message>``.
"""

from __future__ import annotations


class KldivError(ValueError):
    """Base class of every error kldiv reports to a user (exit status 70 if unmapped)."""

    exit_status = 70


class UsageError(KldivError):
    """A bad option, option value or argument combination (exit status 2)."""

    exit_status = 2


class InvalidDataError(KldivError):
    """The input data is invalid: unparsable, ragged, negative, ... (exit status 65)."""

    exit_status = 65


class InputMissingError(KldivError):
    """An input is missing or unreadable (exit status 66)."""

    exit_status = 66
