"""How the API knows who is calling, what they may call, how often, and how it says no.

Two ways in: a signed-in staff session (with MFA and a chosen role, checked by the
middleware) or ``Authorization: Bearer <token>`` of a partner API client. Both end as an
``AccessContext`` on ``request.access`` and ``request.auth``, so every endpoint applies the
same policy, scope and audit trail to both (ADR 0019). Errors all have one JSON shape:
``{"detail": "...", "code": "...", "errors": [{"field": ..., "message": ...}]}``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django_ratelimit.core import get_usage
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import HttpBearer, SessionAuth
from ninja.throttling import BaseThrottle

from onestory.access.context import AccessContext
from onestory.audit.services import Actor, current_context
from onestory.core import rls
from onestory.partner_api.models import ApiClient, ApiToken
from onestory.partner_api.scopes import Scope
from onestory.partner_api.services import TokenRefused, token_check


@dataclass(frozen=True)
class ClientAccess(AccessContext):
    """A partner API client acting in its role for its organisation, through one token."""

    client: ApiClient
    token: ApiToken

    @property
    def scopes(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.client.scopes if s in set(Scope))

    @property
    def actor(self) -> Actor:
        base = super().actor
        return Actor(
            user_id=base.user_id,
            username=f"{base.username} (API client {self.client.pk})",
            role=base.role,
            organisation_id=base.organisation_id,
            organisation=base.organisation,
        )


class MissingScope(Exception):
    def __init__(self, scope: Scope) -> None:
        super().__init__(scope.value)
        self.scope = scope


class ApiProblem(Exception):
    """An answer other than success, in the API's one error shape."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.errors = errors or []


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    code: str
    errors: list[FieldError] = []
    required_scope: str | None = None


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers an operation documents (every one may also be 401 and 429)."""
    return dict.fromkeys(sorted({401, 429, *statuses}), ErrorOut)


class StaffSession(SessionAuth):
    """A signed-in session with MFA and a chosen role (the middleware has checked both)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        access: AccessContext | None = getattr(request, "access", None)
        if user is None or access is None:
            return None
        return access


class ClientToken(HttpBearer):
    """``Authorization: Bearer os_…``; with ``scope``, the token must hold it (403)."""

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ClientAccess:
        ctx = current_context()
        try:
            row = token_check(token.strip())
        except TokenRefused:
            if ctx is not None:
                # Audited (no person is touched): repeated refusals show up in the trail.
                prefix = token.strip().split("_")[1][:16] if token.count("_") >= 2 else ""
                ctx.add(action="api.token_refused", outcome="refused", detail={"token": prefix})
            raise
        client = row.client
        access = ClientAccess(
            user=client.user, membership=client.membership, client=client, token=row
        )
        request.access = access  # type: ignore[attr-defined]
        # The middleware ran before the token was read: row-level security learns now who
        # is acting, for the rest of this request (the middleware restores it afterwards).
        rls.act_for_rest_of_request(
            rls.for_user(
                user_id=client.user_id,
                organisation_id=client.membership.organisation_id,
                role=client.membership.role,
            )
        )
        if ctx is not None:
            ctx.actor = access.actor
            ctx.add(detail={"api_client": client.pk, "token": row.prefix})
        if self.scope is not None and self.scope not in access.scopes:
            if ctx is not None:
                ctx.add(action="api.missing_scope", outcome="refused")
            raise MissingScope(self.scope)
        return access


def api_auth(scope: Scope | None = None) -> list[Any]:
    """The auth of an operation: a token (holding ``scope``) or a staff session."""
    return [ClientToken(scope), StaffSession()]


def caller(request: HttpRequest) -> AccessContext:
    access: AccessContext = request.auth  # type: ignore[attr-defined]
    return access


_wait = threading.local()


class ClientRate(BaseThrottle):
    """A fixed-window count per API client (or signed-in user) in the shared rate-limit
    cache (the database), so every web worker sees the same count. ``ONESTORY_API_RATE``."""

    def allow_request(self, request: HttpRequest) -> bool:
        access = getattr(request, "auth", None)
        if isinstance(access, ClientAccess):
            who = f"client:{access.client.pk}"
        elif isinstance(access, AccessContext):
            who = f"user:{access.user.pk}"
        else:
            return True
        usage = get_usage(
            request,
            group="onestory-api",
            key=lambda _group, _request: who,
            rate=str(settings.ONESTORY["API_RATE"]),
            increment=True,
        )
        if usage is None or not usage["should_limit"]:
            return True
        _wait.seconds = max(1, int(usage["time_left"]))
        ctx = current_context()
        if ctx is not None:
            ctx.add(action="api.rate_limited", outcome="refused")
        return False

    def wait(self) -> float | None:
        return float(getattr(_wait, "seconds", 60))


def _field(loc: list[Any] | tuple[Any, ...]) -> tuple[str, str]:
    """ninja's error location (``["body", "payload", "rows", 0, "event_date"]``) as where
    and a dotted field name (``body``, ``rows.0.event_date``)."""
    parts = [str(p) for p in loc]
    where = parts[0] if parts else ""
    rest = parts[1:]
    if where == "body" and rest and rest[0] == "payload":
        rest = rest[1:]
    return where, ".".join(rest) or where


def _answer(api: NinjaAPI, request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


def install_error_handlers(api: NinjaAPI) -> None:
    """Every refusal in the one shape, saying what to do about it."""

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = []
        for e in exc.errors:
            where, name = _field(e.get("loc", ()))
            message = str(e.get("msg", "is not valid"))
            errors.append({"field": name, "message": f"{message} (in the {where})"})
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return _answer(
            api,
            request,
            422,
            {"detail": f"The request is not valid: check {names}.", "code": "invalid",
             "errors": errors},
        )  # fmt: skip

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _answer(
            api,
            request,
            401,
            {
                "detail": "Send your API token as 'Authorization: Bearer <token>', or sign in.",
                "code": "not_authenticated",
            },
        )
        response["WWW-Authenticate"] = 'Bearer realm="OneStory"'
        return response

    @api.exception_handler(TokenRefused)
    def refused(request: HttpRequest, exc: TokenRefused) -> HttpResponse:
        response = _answer(api, request, 401, {"detail": str(exc), "code": "invalid_token"})
        response["WWW-Authenticate"] = 'Bearer realm="OneStory", error="invalid_token"'
        return response

    @api.exception_handler(MissingScope)
    def missing_scope(request: HttpRequest, exc: MissingScope) -> HttpResponse:
        return _answer(
            api,
            request,
            403,
            {
                "detail": f"This token cannot do this: it needs the {exc.scope.value} scope. "
                "Ask your organisation's manager or data manager for a client that has it.",
                "code": "missing_scope",
                "required_scope": exc.scope.value,
            },
        )

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = getattr(_wait, "seconds", 60)
        return _answer(
            api,
            request,
            429,
            {
                "detail": f"Too many requests (the limit is {settings.ONESTORY['API_RATE']}). "
                f"Try again in {wait} seconds.",
                "code": "rate_limited",
            },
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _answer(api, request, 404, {"detail": "Not found.", "code": "not_found"})

    @api.exception_handler(ApiProblem)
    def problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        body: dict[str, Any] = {"detail": exc.detail, "code": exc.code}
        if exc.errors:
            body["errors"] = exc.errors
        return _answer(api, request, exc.status, body)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _answer(api, request, exc.status_code, {"detail": str(exc), "code": "error"})
