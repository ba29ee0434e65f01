"""Every view declares who may reach it; the deny-by-default middleware refuses the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestory.access.roles import Role

PUBLIC = "public"
SIGNED_IN = "signed_in"


def public[V: Callable[..., Any]](view: V) -> V:
    """Reachable without signing in (sign-in, error and information pages)."""
    view.access_rule = PUBLIC  # type: ignore[attr-defined]
    return view


def signed_in[V: Callable[..., Any]](view: V) -> V:
    """Any signed-in user with MFA, before or after choosing a role."""
    view.access_rule = SIGNED_IN  # type: ignore[attr-defined]
    return view


def roles(*allowed: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed in, with MFA, acting in one of these roles."""

    def mark[V: Callable[..., Any]](view: V) -> V:
        view.access_rule = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return mark
