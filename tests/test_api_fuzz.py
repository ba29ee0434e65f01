"""schemathesis over the OpenAPI schema, signed in as every persona (issue 9): no request it
generates makes a server error or breaks the schema, and every person any response names is
one that persona may see (checked against a rule written here, apart from the policy)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import ignored_auth

from onestory.access.models import Organisation
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.partner_api.scopes import Scope
from onestory.people.models import Relationship
from onestory.referrals.models import Referral
from tests.api_clients import make_client
from tests.conftest import World, signed_in_client

PERSONAS = [
    "navigator",
    "practitioner",
    "peer_mentor",
    "manager",
    "outsider",
    "analyst",
    "data_manager",
    "privacy_officer",
    "board_member",
    "administrator",
]


# Partner API clients (ADR 0019): organisation, role and scopes of each.
TOKENS: dict[str, tuple[str, Role, list[Scope]]] = {
    "token_nav_navigator": (
        "nav", Role.NAVIGATOR, [Scope.PEOPLE_READ, Scope.REFERRALS_READ, Scope.REFERRALS_WRITE]
    ),
    "token_housing_practitioner": (
        "housing", Role.PRACTITIONER,
        [Scope.PEOPLE_READ, Scope.REFERRALS_READ, Scope.REFERRALS_WRITE],
    ),
    "token_police_navigator": ("police", Role.NAVIGATOR, [Scope.PEOPLE_READ, Scope.REFERRALS_READ]),
    "token_nav_peer_mentor": ("nav", Role.PEER_MENTOR, [Scope.PEOPLE_READ]),
    "token_nav_referrals_only": ("nav", Role.NAVIGATOR, [Scope.REFERRALS_READ]),
    "token_nav_events": ("nav", Role.DATA_MANAGER, [Scope.EVENTS_WRITE]),
}  # fmt: skip


def _organisation(world: World, key: str) -> Organisation:
    return {"nav": world.nav_org, "housing": world.housing_org, "police": world.police_org}[key]


def may_see(world: World, persona: str) -> set[int]:
    """SECURITY.md rules 2 and 3, restated: case-work roles see the people their organisation
    has a relationship with today, and the person a referral to or from it is about; every
    other role sees nobody through the API. A token sees as its role in its organisation."""
    if persona in TOKENS:
        org_key, role, _ = TOKENS[persona]
        organisation_id = _organisation(world, org_key).pk
    else:
        membership = world.user(persona).memberships.get()
        role, organisation_id = Role(membership.role), membership.organisation_id
    if role not in CASEWORK_ROLES:
        return set()
    today = timezone.localdate()
    related = {
        r.person_id
        for r in Relationship.objects.filter(organisation_id=organisation_id)
        if r.started_on <= today and (r.ended_on is None or r.ended_on > today)
    }
    referred = set(
        Referral.objects.filter(
            Q(to_organisation_id=organisation_id) | Q(from_organisation_id=organisation_id)
        ).values_list("person_id", flat=True)
    )
    return related | referred


def _person_ids(body: Any) -> set[int]:
    """Every ``id`` of a person in a response body (summaries, details, pages and lists of
    them, and the person a referral is about)."""
    found: set[int] = set()
    if isinstance(body, list):
        for item in body:
            found |= _person_ids(item)
    elif isinstance(body, dict):
        if "display_name" in body and "id" in body:
            found.add(int(body["id"]))
        for value in body.values():
            if isinstance(value, list | dict):
                found |= _person_ids(value)
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", PERSONAS + list(TOKENS))
def test_the_api_never_fails_or_leaks_for_any_persona(
    world: World, persona: str, settings: Any
) -> None:
    # The fuzzing makes hundreds of calls a minute: not what the rate limit is tested with.
    settings.ONESTORY = {**settings.ONESTORY, "API_RATE": "100000/m"}
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    cookies: dict[str, str] = {}
    headers: dict[str, str] = {}
    if persona in TOKENS:
        org_key, role, scopes = TOKENS[persona]
        _, secret = make_client(_organisation(world, org_key), role, scopes, name=persona)
        headers["Authorization"] = f"Bearer {secret}"
    else:
        client = signed_in_client(world.user(persona))
        cookies["sessionid"] = client.cookies["sessionid"].value
    # Ids worth trying: people this persona may see, people it may not, and nobody.
    ids = st.sampled_from([world.alice.pk, world.bob.pk, 0, 2**31 - 1])
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert operations, "the schema lists no operations"
    calls = 0
    for operation in operations:

        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), person_id=ids, pick=st.booleans())
        def check(case: Any, person_id: int, pick: bool) -> None:
            nonlocal calls
            if (
                pick
                and isinstance(case.path_parameters, dict)
                and "person_id" in (case.path_parameters)
            ):
                case.path_parameters["person_id"] = person_id
            response = case.call(app=app, cookies=cookies, headers=headers)
            calls += 1
            assert response.status_code < 500, (persona, case.path, response.text[:500])
            # The credentials are the persona's, given to the call rather than generated:
            # schemathesis's "ignored auth" check would take them for made-up ones. Refusing
            # missing and wrong credentials is tested in test_access_matrix.py and
            # test_partner_api.py.
            case.validate_response(response, excluded_checks=[ignored_auth])
            if response.status_code in {200, 201}:
                shown = _person_ids(response.json())
                allowed = may_see(world, persona)
                assert shown <= allowed, (persona, case.formatted_path, shown - allowed)

        check()
    assert calls >= len(operations) * 10


@pytest.mark.django_db
def test_a_search_with_a_nul_byte_finds_nobody_rather_than_failing(
    world: World, client_for: Any
) -> None:
    """Found by the fuzzing above on PostgreSQL, which refuses NUL in text parameters."""
    response = client_for("navigator").get("/api/v1/people", {"q": "Marsh\x00"})
    assert response.status_code == 200
    assert [p["display_name"] for p in response.json()["items"]] == ["Alice Marsh"]


@pytest.mark.django_db
def test_an_offset_beyond_the_database_is_refused_not_a_failure(client_for: Any) -> None:
    """Found by the fuzzing above: SQLite cannot take an offset of 2**63."""
    response = client_for("navigator").get("/api/v1/people", {"offset": 2**63})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "offset"
