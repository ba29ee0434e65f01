"""schemathesis over the OpenAPI schema, signed in as every persona (issue 9): no request it
generates makes a server error or breaks the schema, and every person any response names is
one that persona may see (checked against a rule written here, apart from the policy)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.people.models import Relationship
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


def may_see(world: World, persona: str) -> set[int]:
    """SECURITY.md rules 2 and 3, restated: case-work roles see the people their organisation
    has a relationship with today; every other role sees nobody through the API."""
    user = world.user(persona)
    membership = user.memberships.get()
    if Role(membership.role) not in CASEWORK_ROLES:
        return set()
    today = timezone.localdate()
    return {
        r.person_id
        for r in Relationship.objects.filter(organisation_id=membership.organisation_id)
        if r.started_on <= today and (r.ended_on is None or r.ended_on > today)
    }


def _person_ids(body: Any) -> set[int]:
    """Every ``id`` of a person in a response body (summaries, details, lists of them)."""
    found: set[int] = set()
    if isinstance(body, list):
        for item in body:
            found |= _person_ids(item)
    elif isinstance(body, dict) and "display_name" in body and "id" in body:
        found.add(int(body["id"]))
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_never_fails_or_leaks_for_any_persona(world: World, persona: str) -> None:
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    client = signed_in_client(world.user(persona))
    session = client.cookies["sessionid"].value
    allowed = may_see(world, persona)
    # Ids worth trying: people this persona may see, people it may not, and nobody.
    ids = st.sampled_from([world.alice.pk, world.bob.pk, 0, 2**31 - 1])
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert operations, "the schema lists no operations"
    calls = 0
    for operation in operations:

        @settings(
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
            response = case.call(app=app, cookies={"sessionid": session})
            calls += 1
            assert response.status_code < 500, (persona, case.path, response.text[:500])
            case.validate_response(response)
            if response.status_code == 200:
                shown = _person_ids(response.json())
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
