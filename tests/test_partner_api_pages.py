"""Managing API clients on the web: who may create, rotate and revoke, the token shown
once, and refused writes changing nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.partner_api.models import ApiClient, ApiToken
from onestory.partner_api.scopes import Scope
from tests.api_clients import api_get, make_client
from tests.conftest import World

NEW = {"name": "City Hospital EPR", "role": "practitioner", "scopes": ["people:read"],
       "expires_in_days": "30", "contact_email": "", "description": ""}  # fmt: skip


def _secret(page: bytes) -> str:
    found = re.search(r'value="(os_[0-9a-f]{12}_[-_A-Za-z0-9]+)"', page.decode())
    assert found, "no token on the page"
    return found.group(1)


def test_a_manager_creates_a_client_and_sees_its_token_once(world: World, client_for: Any) -> None:
    web = client_for("manager")
    response = web.post("/api-clients/new/", NEW)
    assert response.status_code == 200
    secret = _secret(response.content)
    client = ApiClient.objects.get()
    assert client.organisation == world.nav_org and client.scopes == ["people:read"]
    assert secret not in web.get(f"/api-clients/{client.pk}/").content.decode()
    assert api_get(secret, "/api/v1/people").json()["count"] == 1
    assert AuditEvent.objects.filter(action="api_client.create").count() == 1


def test_a_role_cannot_be_given_scopes_beyond_it(world: World, client_for: Any) -> None:
    response = client_for("manager").post(
        "/api-clients/new/", {**NEW, "role": "peer_mentor", "scopes": ["referrals:write"]}
    )
    assert response.status_code == 200 and "cannot send referrals" in response.content.decode()
    response = client_for("manager").post("/api-clients/new/", {**NEW, "role": "data_manager"})
    assert "Select a valid choice" in response.content.decode()
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize("persona", ["navigator", "outsider", "analyst", "privacy_officer"])
def test_other_roles_cannot_create_clients(world: World, client_for: Any, persona: str) -> None:
    response = client_for(persona).post("/api-clients/new/", NEW)
    assert response.status_code == 403
    assert not ApiClient.objects.exists()


def test_an_administrator_makes_only_clients_that_read_nobody(
    world: World, client_for: Any
) -> None:
    admin = client_for("administrator")
    refused = admin.post("/api-clients/new/", {**NEW, "organisation": world.nav_org.pk})
    assert refused.status_code == 200 and not ApiClient.objects.exists()
    made = admin.post(
        "/api-clients/new/",
        {**NEW, "organisation": world.police_org.pk, "role": "data_manager",
         "scopes": ["events:write"]},
    )  # fmt: skip
    assert made.status_code == 200 and _secret(made.content)
    assert ApiClient.objects.get().organisation == world.police_org


def test_rotate_and_revoke_from_the_client_page(world: World, client_for: Any) -> None:
    client, old = make_client(world.nav_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])
    path = f"/api-clients/{client.pk}/"
    # A data manager of the same organisation may not touch a case-work client.
    data_manager = client_for("data_manager")
    assert data_manager.post(path, {"action": "revoke"}).status_code == 403
    assert data_manager.post(path, {"action": "rotate", "expires_in_days": "5"}).status_code == 403
    assert ApiToken.objects.filter(client=client).count() == 1
    manager = client_for("manager")
    rotated = manager.post(path, {"action": "rotate", "expires_in_days": "5",
                                  "revoke_old_now": "on"})  # fmt: skip
    new = _secret(rotated.content)
    assert api_get(new, "/api/v1/people").status_code == 200
    assert api_get(old, "/api/v1/people").status_code == 401
    # Another organisation's client is not found; an administrator may revoke any.
    outsider_manager = make_client(world.police_org, Role.NAVIGATOR, [Scope.PEOPLE_READ])[0]
    assert manager.get(f"/api-clients/{outsider_manager.pk}/").status_code == 404
    revoked = client_for("administrator").post(path, {"action": "revoke"})
    assert revoked.status_code == 302
    assert api_get(new, "/api/v1/people").status_code == 401
    assert "Revoked" in manager.get(path).content.decode()
