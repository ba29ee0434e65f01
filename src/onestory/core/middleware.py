"""Responses that must never be kept by a browser's or a proxy's cache."""

from __future__ import annotations

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
