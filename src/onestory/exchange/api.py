"""FHIR endpoints: a person's record out as a Bundle; a Bundle of Patient + Encounter in
as a partner feed (ADR 0020). Thin: parse, scope or service, answer."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any, Literal, get_args

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from onestory.access import scope
from onestory.access.context import AccessContext
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.exchange.selectors import person_bundle
from onestory.intake.services import feed_import
from onestory.partner_api.auth import api_auth
from onestory.partner_api.scopes import Scope
from onestory_engine.feeds import FEED_KINDS
from onestory_engine.intake import FeedRefused

router = Router(tags=["fhir"])
FHIR_JSON = "application/fhir+json"
SOURCE_NAME = re.compile(r"[-a-zA-Z0-9_]{1,100}")  # as the upload page's source name
# The feed kinds, as the schema's enum (checked against the engine's list below).
FeedKind = Literal[
    "ed", "housing", "substance", "mental_health", "domestic_abuse", "police", "probation",
    "prison", "register",
]  # fmt: skip
if set(get_args(FeedKind)) != set(FEED_KINDS):  # pragma: no cover - a new kind needs adding
    raise ImportError("exchange.api.FeedKind must list every feed kind")


class BundleQuery(Schema):
    """Where an imported Bundle goes: the feed kind and the source's name."""

    kind: FeedKind
    source: str = Field(pattern=f"^{SOURCE_NAME.pattern}$")


def _access(request: HttpRequest) -> AccessContext:
    access: AccessContext = request.auth  # type: ignore[attr-defined]
    return access


def _responses(
    described: dict[int, str], content_type: str, json_bodies: dict[int, str] | None = None
) -> dict[str, Any]:
    """OpenAPI responses for an operation that answers FHIR JSON (not ninja's schemas)."""
    # Errors may also come from ninja itself (a refused CSRF token) as plain JSON.
    responses: dict[int, Any] = {
        status: {
            "description": text,
            "content": {
                kind: {"schema": {"type": "object"}}
                for kind in (
                    (content_type,) if status < 400 else (content_type, "application/json")
                )
            },
        }
        for status, text in described.items()
    }
    # The partner API's own refusals: a bad token, a missing scope, too many requests.
    errors = {
        401: "No valid session or token",
        403: "The token lacks the scope this needs",
        429: "Too many requests: wait as Retry-After says",
    }
    for status, text in {**errors, **(json_bodies or {})}.items():
        if status in responses:
            continue
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return {"responses": responses}


def _outcome(status: int, text: str, code: str = "invalid") -> HttpResponse:
    """A FHIR OperationOutcome carrying one plain-English message."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    return HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)


@router.get(
    "/Patient/{person_id}/$everything",
    auth=api_auth(Scope.PEOPLE_READ),
    summary="A person's shared record as a FHIR R4 Bundle, as far as you may see it",
    openapi_extra=_responses(
        {200: "A collection Bundle", 404: "No person found (an OperationOutcome)"}, FHIR_JSON
    ),
)
def fhir_patient_everything(request: HttpRequest, person_id: int) -> HttpResponse:
    access = _access(request)
    if access.role not in CASEWORK_ROLES:
        scope.record_denied(person_id, action="fhir.export")
        return _outcome(404, "No person found", "not-found")
    try:
        data = person_bundle(access, person_id)
    except scope.PersonMoved as moved:
        data = person_bundle(access, moved.person_id)
    except scope.PersonNotFound:
        return _outcome(404, "No person found", "not-found")
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type=FHIR_JSON)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="person-{person_id}-fhir.json"'
    return response


@router.post(
    "/Bundle",
    auth=api_auth(Scope.EVENTS_WRITE),
    summary="Import a FHIR Bundle of Patient and Encounter resources as a partner feed",
    openapi_extra=_responses(
        {
            400: "The Bundle is larger than the upload limit (an OperationOutcome)",
            409: "The Bundle cannot be used (an OperationOutcome)",
            403: "Only data managers import feeds (an OperationOutcome)",
        },
        FHIR_JSON,
        {200: "The import's summary and quarantined entries"},
    ),
)
def fhir_import_bundle(
    request: HttpRequest,
    query: Query[BundleQuery],
) -> HttpResponse:
    """The same import as an uploaded feed file (data managers, their own organisation's
    sources); the body is the Bundle's JSON. An unknown kind or a bad source name is a 422
    (the query is invalid); a Bundle that cannot be used is a 409, as the API answers any
    well-formed request it refuses."""
    access = _access(request)
    if access.role != Role.DATA_MANAGER:
        return _outcome(403, "Only data managers import feeds", "forbidden")
    if len(request.body) > settings.ONESTORY_MAX_UPLOAD_BYTES:
        return _outcome(400, "The Bundle is larger than the upload limit", "too-costly")
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        tmp.write(request.body)
        tmp.flush()
        try:
            result = feed_import(
                actor=access.actor,
                kind=query.kind,
                path=Path(tmp.name),
                source_name=query.source,
                organisation_name=access.organisation.name,
                file_name=f"{query.source}.json",
                imported_by=access.user,
                allowed_organisation=access.organisation,
            )
        except FeedRefused as exc:
            return _outcome(409, f"The Bundle cannot be used: {exc}")
    run = result.run
    body = {
        "import": run.pk,
        "summary": run.summary,
        "accepted": run.accepted,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "quarantined": [
            {"entry": b.row_number, "reason": b.reason} for b in result.parsed.bad[:200]
        ],
    }
    return HttpResponse(json.dumps(body), content_type="application/json")
