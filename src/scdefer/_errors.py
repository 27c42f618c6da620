"""Exceptions that the CLI turns into one-line messages and exit codes."""

from __future__ import annotations


class ScDeferInputError(ValueError):
    """Bad input or bad usage: the CLI prints one line and exits with status 2."""
