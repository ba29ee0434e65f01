"""One audit event per request that reads or writes anything (rule 11).

Writes run in one transaction with their audit event: if the event cannot be written, the
change is not kept. A failed write (5xx) is rolled back and audited as failed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from onestory.access.context import actor_for
from onestory.audit.decorators import is_unattributed
from onestory.audit.services import UNATTRIBUTED, AuditContext, audit_context, flush

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNAUDITED_PREFIXES = ("/static/", "/assets/", "/favicon.ico")


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(UNAUDITED_PREFIXES):
            return self.get_response(request)
        with audit_context(actor_for(None, None)) as ctx:
            request.audit = ctx  # type: ignore[attr-defined]
            ctx.read_only = request.method in {"GET", "HEAD"}
            if request.method in SAFE_METHODS:
                response = self.get_response(request)
                if self._should_write(request, ctx):
                    self._flush(request, ctx, response)
                return response
            failed = False
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500:
                    failed = True
                    transaction.set_rollback(True)
                else:
                    self._flush(request, ctx, response)
            if failed:
                ctx.outcome = "failed"
                self._flush(request, ctx, response)
            return response

    @staticmethod
    def _should_write(request: HttpRequest, ctx: AuditContext) -> bool:
        if is_unattributed(request):
            return bool(ctx.person_ids or ctx.actions)
        return bool(
            request.user.is_authenticated
            or getattr(request, "access", None) is not None
            or ctx.person_ids
            or ctx.actions
        )

    @staticmethod
    def _flush(request: HttpRequest, ctx: AuditContext, response: HttpResponse) -> None:
        if is_unattributed(request):
            # Nobody's identity, and no time of day (ADR 0012).
            ctx.actor = UNATTRIBUTED
            if not ctx.actions:
                view_name = getattr(request.resolver_match, "view_name", "") or "unresolved"
                ctx.actions.append(f"{request.method} {view_name}")
            flush(ctx, method=request.method or "", path="", status_code=response.status_code,
                  day_only=True)  # fmt: skip
            return
        access = getattr(request, "access", None)
        user = request.user if request.user.is_authenticated else None
        # A partner API client acts as its own service account (ADR 0019); a person as
        # their membership.
        ctx.actor = access.actor if access is not None else actor_for(user, None)
        if not ctx.actions:
            view_name = getattr(request.resolver_match, "view_name", "") or "unresolved"
            ctx.actions.append(f"{request.method} {view_name}")
        flush(ctx, method=request.method or "", path=request.path, status_code=response.status_code)
