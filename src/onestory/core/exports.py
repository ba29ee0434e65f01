"""Helpers for files leaving OneStory."""

from __future__ import annotations

import re

# A cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection),
# and so is one starting with their full-width forms, which some spreadsheets fold to them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A plain number (a count, a score, a negative change) is not a formula: leave it be.
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formula injection by prefixing an apostrophe: a cell that
    starts (after any spaces) with a formula character, unless it is a plain number."""
    text = "" if value is None else str(value)
    if text.lstrip(" ").startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
