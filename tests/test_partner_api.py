"""Partner API clients (ADR 0019): tokens (hashed, expiring, rotated, revoked), scopes, the
same access policy and audit trail as sessions, pagination, error bodies, rate limits and
referrals sent and answered by token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from onestory.access.models import Organisation
from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.partner_api.models import ApiClient, ApiToken
from onestory.partner_api.scopes import Scope
from onestory.partner_api.services import (
    ApiClientError,
    api_client_create,
    api_client_revoke,
    api_token_rotate,
)
from onestory.people.models import Person, Relationship
from onestory.referrals.models import Referral
from tests.api_clients import api_get, api_post, granting_actor, make_client
from tests.conftest import World, relate, share, signed_in_client

PEOPLE = "/api/v1/people"


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["display_name"] for p in response.json()["items"]]


def _last_event() -> AuditEvent:
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    return event


# --- Tokens ----------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_only_as_a_hash(world: World) -> None:
    client, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    token = client.tokens.get()
    assert secret.startswith(f"os_{token.prefix}_") and len(secret) > 50
    assert token.secret_hash != secret and secret not in token.secret_hash
    assert not ApiToken.objects.filter(secret_hash__contains=secret[-20:]).exists()
    # The client acts through a service account that cannot sign in.
    assert not client.user.has_usable_password()
    assert client.membership.role == "navigator"
    assert client.membership.organisation == world.nav_org
    assert AuditEvent.objects.filter(action="api_client.create").exists()


def test_a_token_reads_the_same_people_as_a_person_in_that_role(world: World) -> None:
    _, nav = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    _, police = make_client(world.police_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    _, housing = make_client(world.housing_org, Role.PRACTITIONER, [Scope.PEOPLE_READ])
    assert _names(api_get(nav, PEOPLE)) == ["Alice Marsh"]
    assert _names(api_get(police, PEOPLE)) == []
    # Not yours and missing answer alike.
    assert api_get(police, f"{PEOPLE}/{world.alice.pk}").status_code == 404
    assert api_get(police, f"{PEOPLE}/999999").status_code == 404
    assert api_get(police, f"{PEOPLE}/999999").json() == {
        "detail": "Not found.",
        "code": "not_found",
    }
    # Housing sees only what Alice shared with it.
    detail = api_get(housing, f"{PEOPLE}/{world.alice.pk}").json()
    assert "mental_health" not in detail["categories"]
    timeline = api_get(housing, f"{PEOPLE}/{world.alice.pk}/timeline").json()
    assert {e["category"] for e in timeline} <= set(detail["categories"])
    assert "criminal_justice" not in {e["category"] for e in timeline}


def test_every_token_call_is_audited_naming_the_people_returned(world: World) -> None:
    client, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    before = AuditEvent.objects.count()
    assert api_get(secret, f"{PEOPLE}/{world.alice.pk}").status_code == 200
    assert AuditEvent.objects.count() == before + 1
    event = _last_event()
    assert event.person_ids == [world.alice.pk]
    assert event.actor_user_id == client.user_id
    assert f"API client {client.pk}" in event.actor_username
    assert event.actor_role == "navigator" and event.actor_organisation_id == world.nav_org.pk
    assert event.detail["api_client"] == client.pk
    assert event.path == f"{PEOPLE}/{world.alice.pk}"
    # A refused token is audited too, naming nobody.
    api_get("os_nosuchprefix_" + "x" * 43, PEOPLE)
    refused = _last_event()
    assert refused.action == "api.token_refused" and refused.person_ids == []
    assert refused.status_code == 401


def test_missing_scope_is_403_with_a_clear_body(world: World) -> None:
    _, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.REFERRALS_READ])
    response = api_get(secret, PEOPLE)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "missing_scope" and body["required_scope"] == "people:read"
    assert "people:read" in body["detail"]
    assert _last_event().person_ids == []
    # What it has works.
    assert api_get(secret, "/api/v1/referrals").status_code == 200


@pytest.mark.parametrize(
    "secret",
    ["", "nonsense", "os_", "os_abc_def", "os_" + "a" * 12 + "_" + "b" * 43, "Bearer x" * 40],
)
def test_a_wrong_token_is_401(world: World, secret: str) -> None:
    response = Client().get(PEOPLE, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert response.json()["code"] in {"invalid_token", "not_authenticated"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_or_revoked_token_is_401(world: World) -> None:
    client, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    assert api_get(secret, PEOPLE).status_code == 200
    ApiToken.objects.filter(client=client).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_get(secret, PEOPLE)
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    client2, secret2 = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ], name="b")
    api_client_revoke(actor=granting_actor(world.nav_org, Role.NAVIGATOR), client=client2)
    assert api_get(secret2, PEOPLE).status_code == 401
    client2.refresh_from_db()
    assert not client2.membership.is_active and not client2.is_active
    # Ending the client's role (an access review) stops it too.
    client3, secret3 = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ], name="c")
    client3.membership.is_active = False
    client3.membership.save()
    assert api_get(secret3, PEOPLE).status_code == 401


def test_rotation_keeps_the_old_token_for_the_overlap_or_revokes_it_at_once(
    world: World,
) -> None:
    client, old = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    actor = granting_actor(world.nav_org, Role.NAVIGATOR)
    new = api_token_rotate(actor=actor, client=client)
    assert api_get(new.secret, PEOPLE).status_code == 200
    assert api_get(old, PEOPLE).status_code == 200  # still, for the overlap
    old_row = ApiToken.objects.exclude(pk=new.token.pk).get(client=client)
    assert old_row.expires_at <= timezone.now() + timedelta(hours=24, seconds=5)
    newest = api_token_rotate(actor=actor, client=client, revoke_old_now=True)
    assert api_get(newest.secret, PEOPLE).status_code == 200
    assert api_get(new.secret, PEOPLE).status_code == 401
    assert api_get(old, PEOPLE).status_code == 401


def test_who_may_create_clients_in_which_roles(world: World) -> None:
    manager = granting_actor(world.nav_org, Role.NAVIGATOR)
    data_manager = granting_actor(world.nav_org, Role.DATA_MANAGER)
    admin_user = world.user("administrator")
    admin = type(manager)(user=admin_user, membership=admin_user.memberships.get())
    navigator_user = world.user("navigator")
    navigator = type(manager)(user=navigator_user, membership=navigator_user.memberships.get())

    def create(actor: Any, role: Role, scopes: list[Scope], org: Organisation) -> Any:
        return api_client_create(
            actor=actor, organisation=org, name=f"x{ApiClient.objects.count()}", role=role,
            scopes=scopes,
        )  # fmt: skip

    create(manager, Role.PRACTITIONER, [Scope.PEOPLE_READ], world.nav_org)
    create(data_manager, Role.DATA_MANAGER, [Scope.EVENTS_WRITE], world.nav_org)
    create(admin, Role.DATA_MANAGER, [Scope.EVENTS_WRITE], world.police_org)
    count = ApiClient.objects.count()
    for actor, role, scopes, org, message in [
        (navigator, Role.NAVIGATOR, [Scope.PEOPLE_READ], world.nav_org, "cannot create"),
        (manager, Role.NAVIGATOR, [Scope.PEOPLE_READ], world.police_org, "cannot create"),
        (manager, Role.DATA_MANAGER, [Scope.EVENTS_WRITE], world.nav_org, "cannot create"),
        (data_manager, Role.NAVIGATOR, [Scope.PEOPLE_READ], world.nav_org, "cannot create"),
        # An administrator never reads person data, not even through a token it made.
        (admin, Role.NAVIGATOR, [Scope.PEOPLE_READ], world.nav_org, "cannot create"),
        (manager, Role.NAVIGATOR, [Scope.EVENTS_WRITE], world.nav_org, "cannot have events"),
        (manager, Role.PEER_MENTOR, [Scope.REFERRALS_WRITE], world.nav_org, "cannot have"),
        (manager, Role.NAVIGATOR, [], world.nav_org, "at least one"),
    ]:
        with pytest.raises(ApiClientError, match=message):
            create(actor, role, scopes, org)
    assert ApiClient.objects.count() == count


# --- Pagination, errors, rate limits --------------------------------------------------


def test_people_come_a_page_at_a_time(world: World) -> None:
    carl = Person.objects.create(given_name="Carl", family_name="Abbot")
    relate(carl, world.nav_org)
    share(carl, world.nav_org, world.user("navigator"))
    _, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    whole = api_get(secret, PEOPLE).json()
    assert whole["count"] == 2 and [p["display_name"] for p in whole["items"]] == [
        "Carl Abbot",
        "Alice Marsh",
    ]
    first = api_get(secret, PEOPLE, {"limit": 1}).json()
    second = api_get(secret, PEOPLE, {"limit": 1, "offset": 1}).json()
    assert [p["display_name"] for p in first["items"]] == ["Carl Abbot"]
    assert [p["display_name"] for p in second["items"]] == ["Alice Marsh"]
    assert first["count"] == second["count"] == 2
    # Each page's audit event names only the people on that page.
    assert _last_event().person_ids == [world.alice.pk]
    assert api_get(secret, PEOPLE, {"limit": 1, "offset": 5}).json() == {"items": [], "count": 2}


def test_bad_input_gets_one_error_shape_naming_the_field(world: World) -> None:
    _, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    response = api_get(secret, PEOPLE, {"limit": 0})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and "limit" in body["detail"]
    assert body["errors"][0]["field"] == "limit"
    assert "query" in body["errors"][0]["message"]
    response = api_get(secret, PEOPLE, {"limit": 201})
    assert response.status_code == 422
    response = api_get(secret, f"{PEOPLE}/not-a-number")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "person_id"


def test_each_client_is_rate_limited_with_retry_after(world: World, settings: Any) -> None:
    settings.ONESTORY = {**settings.ONESTORY, "API_RATE": "3/m"}
    _, secret = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    _, other = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ], name="other")
    for _ in range(3):
        assert api_get(secret, PEOPLE).status_code == 200
    response = api_get(secret, PEOPLE)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "rate_limited" and "3/m" in response.json()["detail"]
    assert _last_event().action == "api.rate_limited" and _last_event().person_ids == []
    # Another client has its own count.
    assert api_get(other, PEOPLE).status_code == 200


def test_me_says_who_the_token_acts_as(world: World) -> None:
    client, secret = make_client(world.nav_org, Role.PEER_MENTOR, [Scope.PEOPLE_READ])
    body = api_get(secret, "/api/v1/me").json()
    assert body["api_client"] == client.name and body["role"] == "peer_mentor"
    assert body["scopes"] == ["people:read"] and body["organisation"] == world.nav_org.name
    session = signed_in_client(world.user("navigator")).get("/api/v1/me").json()
    assert session["api_client"] is None and "events:write" in session["scopes"]


# --- Referrals by token --------------------------------------------------------------


def _refer_body(world: World, to: Organisation, **extra: Any) -> dict[str, Any]:
    return {
        "person_id": world.alice.pk,
        "to_organisation_id": to.pk,
        "reason": "Sleeping rough again since Monday",
        "what_they_want": "Somewhere safe to stay",
        **extra,
    }


def test_referrals_sent_listed_and_accepted_by_token(world: World) -> None:
    share(world.alice, world.police_org, world.user("navigator"), ["criminal_justice"])
    _, sender = make_client(
        world.nav_org, Role.NAVIGATOR, [Scope.REFERRALS_WRITE, Scope.REFERRALS_READ]
    )
    _, police = make_client(
        world.police_org, Role.PRACTITIONER, [Scope.REFERRALS_READ, Scope.REFERRALS_WRITE]
    )
    _, police_reader = make_client(
        world.police_org, Role.PRACTITIONER, [Scope.PEOPLE_READ], name="reader"
    )
    assert _names(api_get(police_reader, PEOPLE)) == []
    response = api_post(sender, "/api/v1/referrals", _refer_body(world, world.police_org))
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["status"] == "sent" and sent["person"]["id"] == world.alice.pk
    assert _last_event().person_ids == [world.alice.pk]
    # A second open referral is refused in plain words.
    again = api_post(sender, "/api/v1/referrals", _refer_body(world, world.police_org))
    assert again.status_code == 409 and "already an open referral" in again.json()["detail"]
    outgoing = api_get(sender, "/api/v1/referrals", {"direction": "outgoing"}).json()
    assert [r["id"] for r in outgoing["items"]] == [sent["id"]] and outgoing["count"] == 1
    incoming = api_get(police, "/api/v1/referrals").json()
    assert [r["id"] for r in incoming["items"]] == [sent["id"]]
    # The sender cannot answer its own referral; a stale version is a conflict.
    own = api_post(sender, f"/api/v1/referrals/{sent['id']}/decision",
                   {"decision": "accept", "version": 1})  # fmt: skip
    assert own.status_code == 403
    decision = {"decision": "accept", "version": 1}
    accepted = api_post(police, f"/api/v1/referrals/{sent['id']}/decision", decision)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    stale = api_post(police, f"/api/v1/referrals/{sent['id']}/decision", decision)
    assert stale.status_code == 409
    # Accepting opened the record to the police.
    assert Relationship.objects.filter(organisation=world.police_org, person=world.alice).exists()
    assert _names(api_get(police_reader, PEOPLE)) == ["Alice Marsh"]


def test_referral_questions_and_replies_by_token(world: World) -> None:
    share(world.alice, world.police_org, world.user("navigator"), ["criminal_justice"])
    _, sender = make_client(world.nav_org, Role.NAVIGATOR, [Scope.REFERRALS_WRITE])
    _, police = make_client(world.police_org, Role.PRACTITIONER, [Scope.REFERRALS_WRITE])
    sent = api_post(sender, "/api/v1/referrals", _refer_body(world, world.police_org)).json()
    path = f"/api/v1/referrals/{sent['id']}"
    no_note = api_post(police, f"{path}/decision", {"decision": "more_info", "version": 1})
    assert no_note.status_code == 409 and "Say what you need" in no_note.json()["detail"]
    asked = api_post(
        police, f"{path}/decision", {"decision": "more_info", "version": 1, "note": "Any dogs?"}
    )
    assert asked.json()["status"] == "more_info"
    replied = api_post(sender, f"{path}/reply", {"text": "One dog, Pepper."})
    assert replied.status_code == 200
    assert [m["text"] for m in replied.json()["messages"]] == ["Any dogs?", "One dog, Pepper."]
    declined = api_post(
        police,
        f"{path}/decision",
        {"decision": "decline", "version": replied.json()["version"], "decline_reason": "risk"},
    )
    assert declined.json()["status"] == "declined"
    bad = api_post(police, f"{path}/decision", {"decision": "maybe", "version": 1})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "decision"


def test_referrals_of_other_organisations_are_not_found(world: World) -> None:
    share(world.alice, world.police_org, world.user("navigator"), ["criminal_justice"])
    _, sender = make_client(world.nav_org, Role.NAVIGATOR, [Scope.REFERRALS_WRITE])
    sent = api_post(sender, "/api/v1/referrals", _refer_body(world, world.police_org)).json()
    _, housing = make_client(
        world.housing_org, Role.PRACTITIONER, [Scope.REFERRALS_READ, Scope.REFERRALS_WRITE]
    )
    assert api_get(housing, f"/api/v1/referrals/{sent['id']}").status_code == 404
    decision = {"decision": "accept", "version": 1}
    assert (
        api_post(housing, f"/api/v1/referrals/{sent['id']}/decision", decision).status_code == 404
    )
    assert api_get(housing, "/api/v1/referrals").json()["count"] == 0
    assert Referral.objects.get().status == "sent"
    # Nobody refers a person they may not see: 404, nothing sent.
    _, police = make_client(world.police_org, Role.NAVIGATOR, [Scope.REFERRALS_WRITE], name="p")
    refused = api_post(police, "/api/v1/referrals", _refer_body(world, world.nav_org))
    assert refused.status_code == 404 and Referral.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("navigator", 201),
        ("practitioner", 201),  # housing has Alice in its team
        ("peer_mentor", 403),
        ("manager", 403),
        ("outsider", 404),
        ("analyst", 403),
        ("data_manager", 403),
        ("privacy_officer", 403),
        ("administrator", 403),
    ],
)
def test_sessions_send_referrals_under_the_same_rules(
    world: World, persona: str, status: int
) -> None:
    share(world.alice, world.police_org, world.user("navigator"), ["criminal_justice"])
    response = signed_in_client(world.user(persona)).post(
        "/api/v1/referrals",
        _refer_body(world, world.police_org),
        content_type="application/json",
    )
    assert response.status_code == status, response.content
    assert Referral.objects.count() == (1 if status == 201 else 0)
    if status == 403:
        assert response.json()["code"] == "role_cannot"
