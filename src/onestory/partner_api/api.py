"""Partner endpoints: push feed records as they happen, and send and answer referrals.
Thin: check the caller, fetch through ``access.scope``, call one service, answer.

No ``from __future__ import annotations`` here: ninja reads the parameters of a paginated
endpoint through its own wrapper, whose module cannot resolve names written as strings."""

from typing import Literal

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from ninja.responses import Status

from onestory.access import policy, scope
from onestory.access.context import AccessContext
from onestory.access.models import Organisation, Service
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.core import rls
from onestory.intake.models import Source
from onestory.intake.services import feed_rows_import
from onestory.partner_api.auth import (
    ApiProblem,
    ClientAccess,
    api_auth,
    caller,
    error_responses,
)
from onestory.partner_api.pagination import Pages, ScopedPage
from onestory.partner_api.schemas import (
    DecisionIn,
    EventBatch,
    EventBatchResult,
    ImportSummary,
    Named,
    ReferralDetail,
    ReferralIn,
    ReferralMessageOut,
    ReferralOut,
    ReferredPerson,
    ReplyIn,
    RowResult,
)
from onestory.partner_api.scopes import Scope
from onestory.referrals import services as referrals
from onestory.referrals.models import Referral
from onestory_engine.intake import FeedRefused

events_router = Router(tags=["events"])
referrals_router = Router(tags=["referrals"])


def _role_cannot(message: str) -> ApiProblem:
    return ApiProblem(403, message, code="role_cannot")


@events_router.post(
    "",
    auth=api_auth(Scope.EVENTS_WRITE),
    response={200: EventBatchResult, **error_responses(403, 409, 422)},
    summary="Send feed records as they happen",
    description="One row or a batch, validated exactly as a feed file's rows (feeds.md) and "
    "stored in one transaction into your organisation's source; new records are linked "
    "into persons at once when a linkage model exists. Sending the same rows again changes "
    "nothing (records are kept by `source_record_id`). Each row's result says whether it "
    "was accepted, updated, unchanged or quarantined (with the field and reason). "
    "Needs `events:write` (a client acting as a data manager), or a data manager signed in.",
)
def push_events(request: HttpRequest, payload: EventBatch) -> EventBatchResult:
    access = caller(request)
    if access.role != Role.DATA_MANAGER:
        raise _role_cannot("Only a data manager can send feed records.")
    existing = Source.objects.filter(name=payload.source).first()
    if existing is not None and existing.organisation_id != access.organisation_id:
        raise ApiProblem(
            409,
            f"The source name '{payload.source}' is used by another organisation: "
            "choose another name for your feed.",
            code="conflict",
            errors=[{"field": "source", "message": "is used by another organisation"}],
        )
    # The columns each row was sent with (a null is an empty cell), its own besides.
    rows = [
        {
            k: v or ""
            for k, v in row.model_dump().items()
            if k in row.model_fields_set or k in (row.model_extra or {})
        }
        for row in payload.rows
    ]
    label = (
        f"API: {access.client.name}" if isinstance(access, ClientAccess) else "API"
    ) + f" ({len(rows)} row{'' if len(rows) == 1 else 's'})"
    try:
        result = feed_rows_import(
            actor=access.actor,
            kind=payload.kind.value,
            rows=rows,
            source_name=payload.source,
            organisation=access.organisation,
            label=label,
            imported_by=access.user,
        )
    except FeedRefused as exc:
        raise ApiProblem(409, f"The rows cannot be used: {exc}.", code="feed_refused") from exc
    new = set(result.new_rows.to_pylist())
    updated = set(result.updated_rows.to_pylist())
    answers = [
        RowResult(
            index=n - 1,
            source_record_id=str(sid),
            status="accepted" if n in new else "updated" if n in updated else "unchanged",
            field=None,
        )
        for n, sid in zip(
            result.parsed.good.column("row_number").to_pylist(),
            result.parsed.good.column("source_record_id").to_pylist(),
            strict=True,
        )
    ]
    answers += [
        RowResult(
            index=b.row_number - 1,
            source_record_id=b.source_record_id,
            status="quarantined",
            field=b.field or None,
            reason=b.reason,
        )
        for b in result.parsed.bad
    ]
    run = result.run
    return EventBatchResult(
        import_id=run.pk,
        source=run.source.name,
        summary=ImportSummary(
            accepted=run.accepted,
            updated=run.updated,
            unchanged=run.unchanged,
            quarantined=run.quarantined,
        ),
        linked=run.linked,
        rows=sorted(answers, key=lambda r: r.index),
    )


def _referral_out(referral: Referral) -> ReferralOut:
    # Who a referral is about, as its page shows it (even before it is accepted, ADR 0022).
    with rls.basis("identity"):
        person = referral.person
    return ReferralOut(
        id=referral.pk,
        version=referral.version,
        status=referral.status,
        person=ReferredPerson(
            id=person.pk, display_name=person.display_name, date_of_birth=person.date_of_birth
        ),
        from_organisation=Named(
            id=referral.from_organisation_id, name=referral.from_organisation.name
        ),
        to_organisation=Named(id=referral.to_organisation_id, name=referral.to_organisation.name),
        service=referral.service.name if referral.service else None,
        reason=referral.reason,
        what_they_want=referral.what_they_want,
        duty_to_refer=referral.duty_to_refer,
        respond_by=referral.respond_by,
        created_at=referral.created_at,
        decline_reason=referral.decline_reason,
        decision_note=referral.decision_note,
    )


def _referral_detail(referral: Referral) -> ReferralDetail:
    return ReferralDetail(
        **_referral_out(referral).dict(),
        messages=[
            ReferralMessageOut(
                organisation=m.organisation.name, text=m.text, written_at=m.written_at
            )
            for m in referral.messages.select_related("organisation")
        ],
    )


def _refused(exc: referrals.ReferralError) -> ApiProblem:
    if isinstance(exc, referrals.AlreadyDecided):
        return ApiProblem(409, str(exc), code="conflict")
    return ApiProblem(409, str(exc), code="refused")


@referrals_router.get(
    "",
    auth=api_auth(Scope.REFERRALS_READ),
    response={200: list[ReferralOut], **error_responses(403, 422)},
    summary="Referrals received or sent",
    description="`direction=incoming` (sent to your organisation, the default) or `outgoing` "
    "(sent by it), newest first, a page at a time (`limit`, `offset`). A referral shows the "
    "receiving organisation the person's name and date of birth and what the referral says; "
    "their record opens to it only once it accepts. Needs `referrals:read`.",
)
@paginate(Pages)
def list_referrals(
    request: HttpRequest, direction: Literal["incoming", "outgoing"] = "incoming"
) -> ScopedPage[ReferralOut]:
    access = caller(request)
    incoming = direction == "incoming"
    fetch = scope.referrals_received if incoming else scope.referrals_sent
    return ScopedPage(
        lambda offset, limit: [_referral_out(r) for r in fetch(access, limit=limit, offset=offset)],
        lambda: scope.referrals_count(access, received=incoming),
    )


@referrals_router.get(
    "/{referral_id}",
    auth=api_auth(Scope.REFERRALS_READ),
    response={200: ReferralDetail, **error_responses(403, 404, 422)},
    summary="One referral, with its conversation",
    description="Needs `referrals:read`.",
)
def get_referral(request: HttpRequest, referral_id: int) -> ReferralDetail:
    return _referral_detail(scope.referral_get(caller(request), referral_id))


def _organisation(pk: int, field: str) -> Organisation:
    org = Organisation.objects.filter(pk=pk, is_active=True).first()
    if org is None:
        raise ApiProblem(
            404,
            "There is no such organisation.",
            code="not_found",
            errors=[{"field": field, "message": "is not an organisation in the partnership"}],
        )
    return org


@referrals_router.post(
    "",
    auth=api_auth(Scope.REFERRALS_WRITE),
    response={201: ReferralOut, **error_responses(403, 404, 409, 422)},
    summary="Refer a person to another organisation",
    description="The person must be one you may see (else 404), and must have agreed to share "
    "with the organisation you refer to. Needs `referrals:write` (navigator or practitioner).",
)
def send_referral(request: HttpRequest, payload: ReferralIn) -> Status[ReferralOut]:
    access = caller(request)
    if not policy.may_refer(role=access.role):
        raise _role_cannot("Your role cannot make referrals.")
    view = scope.person_get(access, payload.person_id, action="referral.new")
    to = _organisation(payload.to_organisation_id, "to_organisation_id")
    service = None
    if payload.service_id is not None:
        service = Service.objects.filter(pk=payload.service_id, is_active=True).first()
        if service is None:
            raise ApiProblem(
                404,
                "There is no such service.",
                code="not_found",
                errors=[{"field": "service_id", "message": "is not a service in the directory"}],
            )
    try:
        referral = referrals.referral_send(
            actor=access,
            view=view,
            to_organisation=to,
            service=service,
            reason=payload.reason,
            what_they_want=payload.what_they_want,
            duty_to_refer=payload.duty_to_refer,
        )
    except referrals.ReferralError as exc:
        raise _refused(exc) from exc
    return Status(201, _referral_out(scope.referral_get(access, referral.pk)))


def _receiving(access: AccessContext, referral_id: int) -> Referral:
    if access.role not in CASEWORK_ROLES:
        raise _role_cannot("Your role cannot work on referrals.")
    return scope.referral_get(access, referral_id)


@referrals_router.post(
    "/{referral_id}/decision",
    auth=api_auth(Scope.REFERRALS_WRITE),
    response={200: ReferralDetail, **error_responses(403, 404, 409, 422)},
    summary="Accept or decline a referral sent to you, or ask for more information",
    description="Send the `version` you last read: when someone else answered first, 409 "
    "and nothing changes. Declining needs a `decline_reason`; asking for more needs a "
    "`note`. Accepting opens the person's record to your organisation. Needs "
    "`referrals:write`.",
)
def decide_referral(request: HttpRequest, referral_id: int, payload: DecisionIn) -> ReferralDetail:
    access = caller(request)
    referral = _receiving(access, referral_id)
    if referral.to_organisation_id != access.organisation_id:
        raise _role_cannot("Only the organisation the referral was sent to can answer it.")
    if not policy.may_answer_referral(role=access.role):
        raise _role_cannot("Your role cannot answer referrals.")
    try:
        referral = referrals.referral_decide(
            actor=access,
            referral=referral,
            decision=payload.decision,
            based_on_version=payload.version,
            decline_reason=payload.decline_reason.value if payload.decline_reason else "",
            note=payload.note,
        )
    except referrals.ReferralError as exc:
        raise _refused(exc) from exc
    return _referral_detail(referral)


@referrals_router.post(
    "/{referral_id}/reply",
    auth=api_auth(Scope.REFERRALS_WRITE),
    response={200: ReferralDetail, **error_responses(403, 404, 409, 422)},
    summary="Answer a question about a referral you sent",
    description="Needs `referrals:write`.",
)
def reply_to_referral(request: HttpRequest, referral_id: int, payload: ReplyIn) -> ReferralDetail:
    access = caller(request)
    referral = _receiving(access, referral_id)
    try:
        referral = referrals.referral_reply(actor=access, referral=referral, text=payload.text)
    except referrals.ReferralError as exc:
        raise _refused(exc) from exc
    return _referral_detail(referral)
