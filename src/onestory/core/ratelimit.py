"""Rate limits for pages reachable without an account (django-ratelimit, counted in the
shared database cache so every web worker sees the same counts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest
from django_ratelimit.decorators import ratelimit


def limit[V: Callable[..., Any]](rate: str, method: str) -> Callable[[V], V]:
    """Count requests by client address; over ``rate`` the view sees ``request.limited``
    and answers with a plain explanation rather than an error."""
    return cast(Callable[[V], V], ratelimit(key="ip", rate=rate, method=method, block=False))


def limited(request: HttpRequest) -> bool:
    return bool(getattr(request, "limited", False))
