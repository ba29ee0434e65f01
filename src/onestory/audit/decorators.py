"""Pages whose requests are recorded without saying who made them (ADR 0012)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest


def unattributed[V: Callable[..., Any]](view: V) -> V:
    """People's feedback and staff speaking up anonymously: the audit event of a request
    to this view names no user, role or organisation, carries the day but not the time, and
    is written only when the request changes something."""
    view.unattributed = True  # type: ignore[attr-defined]
    return view


def is_unattributed(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match is not None and getattr(match.func, "unattributed", False))
