"""Liveness and readiness for a load balancer or container orchestrator.

``/healthz`` says the process answers (no database); ``/readyz`` says the database is
reachable and every migration is applied. Both answer before any other middleware: no
session, no sign-in or MFA, no host check (a probe calls the container by its address, not
the public host name), no HTTPS redirect (the probe speaks plain HTTP inside the network),
and no audit event, because neither touches or reveals anything about a person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


def _migrations_pending() -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class HealthMiddleware:
    """Answers the two probe paths itself; every other request passes straight through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Once this code's migrations are all applied they stay applied, so the (slow)
        # migration graph is loaded only until the first success.
        self.migrated = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in (LIVENESS_PATH, READINESS_PATH):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response: HttpResponse = JsonResponse({"status": "method not allowed"}, status=405)
        elif request.path_info == LIVENESS_PATH:
            response = JsonResponse({"status": "ok"})
        else:
            response = self._readiness()
        add_never_cache_headers(response)
        return response

    def _readiness(self) -> HttpResponse:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if not self.migrated:
                pending = _migrations_pending()
                if pending:
                    return JsonResponse(
                        {"status": "not ready", "reason": f"{pending} migrations not applied"},
                        status=503,
                    )
                self.migrated = True
        except DatabaseError as exc:
            # The reason goes to the error log; the probe learns only "not ready".
            logger.warning("readiness check: database unreachable (%s)", type(exc).__name__)
            return JsonResponse(
                {"status": "not ready", "reason": "database unreachable"}, status=503
            )
        return JsonResponse({"status": "ok"})
