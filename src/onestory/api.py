"""The one JSON API (django-ninja) at /api/v1/: the same reads as the pages, under the same
scope and the same audit trail. Each app adds its router here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import SessionAuth

from onestory.access.context import AccessContext
from onestory.exchange.api import router as fhir_router
from onestory.people.api import router as people_router


class StaffSession(SessionAuth):
    """A signed-in session with MFA and a chosen role (the middleware has checked both)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        access: AccessContext | None = getattr(request, "access", None)
        if user is None or access is None:
            return None
        return access


api = NinjaAPI(
    title="OneStory API",
    version="1",
    description=(
        "Read the people your organisation works with, under the same access policy and "
        "audit trail as the web app."
    ),
    auth=StaffSession(),
    docs_url=None,  # Swagger UI needs inline script; the schema is served at openapi.json
    urls_namespace="api",
)
api.add_router("/people", people_router)
api.add_router("/fhir", fhir_router)


@api.get("/me", tags=["session"], summary="Who you are signed in as")
def me(request: HttpRequest) -> dict[str, Any]:
    access: AccessContext = request.auth  # type: ignore[attr-defined]
    return {
        "username": access.user.username,
        "role": access.role.value,
        "organisation": access.organisation.name,
        "organisation_id": access.organisation_id,
    }
