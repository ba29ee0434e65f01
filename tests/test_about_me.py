"""About me: versioned, in the person's words, and concurrent edits never lose an update."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from onestory.access.context import AccessContext
from onestory.audit.services import Actor, audit_context
from onestory.people.models import AboutMe
from onestory.people.services import AboutMeText, StaleVersion, about_me_save
from tests.conftest import World


def test_editing_appends_a_version(world: World, client_for: Any) -> None:
    client = client_for("navigator")
    response = client.post(
        f"/people/{world.alice.pk}/about-me/",
        {
            "what_matters": "Seeing my sister",
            "what_helps": "Calm voices",
            "person_agreed_wording": "on",
            "based_on_version": 1,
        },
    )
    assert response.status_code == 302
    versions = list(AboutMe.objects.filter(person=world.alice).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].what_matters.startswith("My dog Pepper")  # never overwritten
    assert versions[1].what_matters == "Seeing my sister" and versions[1].person_agreed_wording
    assert versions[1].recorded_by == world.user("navigator")
    history = client.get(f"/people/{world.alice.pk}/about-me/history/").content.decode()
    assert "Seeing my sister" in history and "My dog Pepper" in history


def test_a_stale_edit_is_refused_with_a_clear_message(world: World, client_for: Any) -> None:
    nav, manager = client_for("navigator"), client_for("manager")
    assert (
        manager.post(
            f"/people/{world.alice.pk}/about-me/", {"what_matters": "First", "based_on_version": 1}
        ).status_code
        == 302
    )
    response = nav.post(
        f"/people/{world.alice.pk}/about-me/", {"what_matters": "Second", "based_on_version": 1}
    )
    assert response.status_code == 200
    assert "Someone else saved a newer version" in response.content.decode()
    assert "Second" in response.content.decode()  # their words are not lost
    assert AboutMe.objects.filter(person=world.alice).count() == 2


def test_peer_mentor_cannot_edit(world: World, client_for: Any) -> None:
    response = client_for("peer_mentor").post(
        f"/people/{world.alice.pk}/about-me/", {"what_matters": "x", "based_on_version": 1}
    )
    assert response.status_code == 403
    assert AboutMe.objects.filter(person=world.alice).count() == 1


def test_restricted_contact_is_kept_when_edited_from_outside(world: World, client_for: Any) -> None:
    world.alice.restricted_location = True
    world.alice.restricted_owner = world.nav_org
    world.alice.save()
    response = client_for("practitioner").post(
        f"/people/{world.alice.pk}/about-me/",
        {"what_matters": "New words", "how_to_contact": "overwritten?", "based_on_version": 1},
    )
    assert response.status_code == 302
    latest = AboutMe.objects.filter(person=world.alice).order_by("-version").first()
    assert latest is not None and latest.how_to_contact.startswith("Text 07700")


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_one_wins(world: World) -> None:
    """Two real connections save on top of the same version at once: exactly one wins."""
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("needs two real connections (PostgreSQL, or SQLite on disk)")
    nav = world.user("navigator")
    ctx = AccessContext(user=nav, membership=nav.memberships.get())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(words: str) -> None:
        try:
            barrier.wait()
            with audit_context(Actor(system="test")):
                about_me_save(
                    actor=ctx,
                    person=world.alice,
                    text=AboutMeText(what_matters=words),
                    person_agreed_wording=False,
                    based_on_version=1,
                )
            outcomes.append("saved")
        except StaleVersion:
            outcomes.append("stale")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(w,)) for w in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "stale"]
    assert AboutMe.objects.filter(person=world.alice).count() == 2
