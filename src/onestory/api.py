"""The one JSON API (django-ninja) at /api/v1/: the same reads and writes as the pages,
under the same scope and the same audit trail, for signed-in staff and for partner API
clients with tokens (ADR 0019; docs/api.md). Each app adds its router here."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI

from onestory.exchange.api import router as fhir_router
from onestory.partner_api.api import events_router, referrals_router
from onestory.partner_api.auth import (
    ClientAccess,
    ClientRate,
    api_auth,
    caller,
    error_responses,
    install_error_handlers,
)
from onestory.partner_api.schemas import MeOut
from onestory.partner_api.scopes import Scope
from onestory.people.api import router as people_router

api = NinjaAPI(
    title="OneStory API",
    version="1",
    description=(
        "Read the people your organisation works with, send your feed records as they "
        "happen, and send and answer referrals, under the same access policy and audit "
        "trail as the web app. Authenticate with `Authorization: Bearer <token>` (a partner "
        "API client's token) or a signed-in session. See docs/api.md."
    ),
    auth=api_auth(),
    throttle=[ClientRate()],
    docs_url=None,  # Swagger UI needs inline script; the schema is served at openapi.json
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/people", people_router)
api.add_router("/events", events_router)
api.add_router("/referrals", referrals_router)
api.add_router("/fhir", fhir_router)


@api.get(
    "/me",
    tags=["session"],
    response={200: MeOut, **error_responses()},
    summary="Who you are signed in as",
)
def me(request: HttpRequest) -> MeOut:
    access = caller(request)
    client = access if isinstance(access, ClientAccess) else None
    return MeOut(
        username=access.user.username,
        role=access.role.value,
        organisation=access.organisation.name,
        organisation_id=access.organisation_id,
        api_client=client.client.name if client else None,
        scopes=sorted(client.scopes if client else {s.value for s in Scope}),
        token_expires_at=client.token.expires_at if client else None,
    )
