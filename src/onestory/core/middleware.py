"""Responses that must never be kept by a browser's or a proxy's cache, and the idle timeout."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Every page OneStory renders may hold person data, or say who was looked at: a shared
    computer's back button or a proxy must not replay it. So nothing dynamic is cached;
    static assets are served (with long cache lifetimes) by WhiteNoise before this runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


# A session's idle timeout moves on at most this often, so that reading pages does not
# write the session row on every request (bench/results/load.md).
IDLE_RENEW_SECONDS = 60
SESSION_RENEWED = "_onestory_renewed"


class IdleTimeoutMiddleware:
    """Signs people out after ``SESSION_COOKIE_AGE`` seconds without a request (SECURITY.md:
    idle timeout). Each request renews the session's expiry, but it is saved only once a
    minute or when something in it changed: the timeout is between ``SESSION_COOKIE_AGE``
    less a minute and ``SESSION_COOKIE_AGE``, never more."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or response.status_code >= 500:
            return response
        now = int(time.time())
        renewed = session.get(SESSION_RENEWED)
        if not isinstance(renewed, int) or now - renewed >= IDLE_RENEW_SECONDS:
            # SessionMiddleware (outside this one) saves a modified session, with a fresh
            # expiry, as the response leaves.
            session[SESSION_RENEWED] = now
        return response
