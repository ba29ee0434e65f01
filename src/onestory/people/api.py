"""People endpoints: the same reads as My people and the person page, for staff sessions
and for partner API clients holding ``people:read``."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from onestory.access import scope
from onestory.access.context import AccessContext
from onestory.access.roles import CASEWORK_ROLES, Category
from onestory.partner_api.auth import api_auth, caller, error_responses
from onestory.partner_api.pagination import Pages, ScopedPage
from onestory.partner_api.scopes import Scope
from onestory.people.schemas import (
    AboutMeOut,
    ContactDetails,
    PersonDetail,
    PersonSummary,
    TeamMember,
    TimelineEventOut,
)

router = Router(tags=["people"], auth=api_auth(Scope.PEOPLE_READ))


def _get(access: AccessContext, person_id: int, *, action: str) -> scope.PersonView:
    """A merged id answers with the person it resolves to (``id`` says which)."""
    try:
        return scope.person_get(access, person_id, action=action)
    except scope.PersonMoved as moved:
        return scope.person_get(access, moved.person_id, action=action)


def _summary(view: scope.PersonView) -> PersonSummary:
    p = view.person
    return PersonSummary(
        id=p.pk,
        display_name=p.display_name,
        date_of_birth=p.date_of_birth,
        nhs_number=p.nhs_number,
    )


@router.get(
    "",
    response={200: list[PersonSummary], **error_responses(403, 422)},
    summary="People you may see",
    description="The people your organisation works with today, by family name, a page at "
    "a time (`limit`, at most 200, and `offset`); `q` searches names and NHS numbers. "
    "Needs `people:read`.",
)
@paginate(Pages)
def list_people(request: HttpRequest, q: str = "") -> ScopedPage[PersonSummary]:
    access = caller(request)
    query = q[:100]
    if access.role not in CASEWORK_ROLES:
        return ScopedPage(lambda _offset, _limit: [], lambda: 0)
    return ScopedPage(
        lambda offset, limit: [
            _summary(v) for v in scope.people_list(access, query=query, limit=limit, offset=offset)
        ],
        lambda: scope.people_count(access, query=query),
    )


@router.get(
    "/{person_id}",
    response={200: PersonDetail, **error_responses(403, 404, 422)},
    summary="One person",
    description="One person, as far as you may see them. Needs `people:read`.",
)
def get_person(request: HttpRequest, person_id: int) -> PersonDetail:
    access = caller(request)
    view = _get(access, person_id, action="person.view")
    p = view.person
    versions = scope.about_me_versions(access, view)
    latest = versions[0] if versions else None
    return PersonDetail(
        **_summary(view).dict(),
        given_name=p.given_name,
        family_name=p.family_name,
        pnc_id=p.pnc_id,
        categories=sorted(c.value for c in view.categories),
        contact=None
        if view.contact_hidden
        else ContactDetails(
            address_line=p.address_line,
            postcode=p.postcode,
            no_fixed_abode=p.no_fixed_abode,
            phone=p.phone,
            email=p.email,
        ),
        about_me=AboutMeOut(
            version=latest.version,
            what_matters=latest.what_matters,
            what_helps=latest.what_helps,
            what_to_avoid=latest.what_to_avoid,
            how_to_contact=None if view.contact_hidden else latest.how_to_contact,
            important_people=latest.important_people,
            person_agreed_wording=latest.person_agreed_wording,
        )
        if latest
        else None,
        team=[
            TeamMember(
                organisation=r.organisation.name,
                kind=r.kind,
                worker=str(r.worker) if r.worker else None,
                since=r.started_on,
            )
            for r in scope.team(access, view)
        ],
    )


@router.get(
    "/{person_id}/timeline",
    response={200: list[TimelineEventOut], **error_responses(403, 404, 422)},
    summary="A person's timeline, as far as you may see it",
    description="Needs `people:read`.",
)
def get_timeline(
    request: HttpRequest, person_id: int, category: Category | None = None
) -> list[TimelineEventOut]:
    access = caller(request)
    view = _get(access, person_id, action="person.timeline")
    events = scope.timeline(access, view, category=category.value if category else None)
    return [
        TimelineEventOut(
            id=e.pk,
            occurred_on=e.occurred_on,
            ended_on=e.ended_on,
            category=e.category,
            event_type=e.event_type,
            summary=e.summary,
            organisation=e.organisation.name,
        )
        for e in events
    ]
