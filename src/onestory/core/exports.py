"""Helpers for files leaving OneStory."""

from __future__ import annotations

# A cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formula injection by prefixing an apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text
