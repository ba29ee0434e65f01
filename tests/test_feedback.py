"""Voice without an account (issue 7): one-time feedback links and kiosk mode, staff
speaking up anonymously, the lived experience panel and "you said, we did"."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client

from onestory.access.roles import Role
from onestory.audit.models import AuditEvent
from onestory.voice.models import (
    Barrier,
    FeedbackLink,
    FeedbackResponse,
    PublicStory,
    Recommendation,
)
from tests.conftest import World, make_user, signed_in_client

ANSWERS = {
    "listened": "yes",
    "told_once": "no",
    "have_a_say": "a_bit",
    "right_help": "yes",
    "better": "Call me back when you say you will.",
}


def _link(world: World) -> str:
    client = signed_in_client(world.user("navigator"))
    page = client.post("/feedback/new/", follow=True).content.decode()
    found = re.search(r'value="https?://[^"/]+(/f/[A-Za-z0-9_-]+/)"', page)
    assert found, page[:3000]
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code
    return found.group(1)


def test_a_feedback_link_works_exactly_once_and_reveals_nothing(world: World) -> None:
    path = _link(world)
    link = FeedbackLink.objects.get()
    assert path.split("/")[2] not in link.token_hash  # only a hash is kept
    person = Client()
    page = person.get(path).content.decode()
    assert "Tell us how it went" in page
    for secret in ("Alice", "Marsh", "navigator_nav", "Framework Navigators", "Sign out"):
        assert secret not in page
    response = person.post(path, {**ANSWERS, "barrier": "The office is up three flights."})
    assert response.status_code == 302 and response["Location"] == "/f/thank-you/"
    stored = FeedbackResponse.objects.get()
    assert stored.organisation == world.nav_org and stored.told_once == "no"
    # Nothing ties the answers to the link, the worker or a person.
    fields = {f.name for f in FeedbackResponse._meta.get_fields()}
    assert not fields & {"link", "person", "created_by", "token_hash"}
    barrier = Barrier.objects.get()
    assert barrier.via == "person" and barrier.raised_by is None
    assert barrier.raised_by_organisation is None
    # Replay: the same link again, by GET or POST, is refused and changes nothing.
    again = person.post(path, ANSWERS)
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert person.get(path).status_code == 410
    assert FeedbackResponse.objects.count() == 1
    # The audit trail records the submission with nobody's identity and no time of day.
    event = AuditEvent.objects.get(action__contains="feedback.submit")
    assert event.actor_user_id is None and event.actor_organisation_id is None
    assert event.actor_username == "" and event.actor_role == "" and event.path == ""
    assert (event.at.hour, event.at.minute, event.at.second) == (0, 0, 0)


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        ("not-a-real-token-but-long-enough", 404, "not right"),
        ("short", 404, "not right"),
        ("x" * 500, 404, "not right"),
        ("<script>alert(1)<script>", 404, "not right"),
    ],
)
def test_invalid_tokens_get_a_clear_message(token: str, status: int, words: str, db: None) -> None:
    response = Client().get(f"/f/{token}/")
    assert response.status_code == status
    text = response.content.decode()
    assert words in text and "<script>alert" not in text


def test_hostile_and_oversized_answers_are_refused_clearly(world: World) -> None:
    path = _link(world)
    person = Client()
    response = person.post(
        path,
        {"listened": "everything", "told_once": "no", "have_a_say": "yes",
         "right_help": "yes", "better": "x" * 5000, "get_in_touch": "<b>me</b>" * 100},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in page
    assert "Please keep this to 2,000 characters or fewer" in page
    assert "Please keep this to 300 characters or fewer" in page
    assert "<b>me</b>" not in page  # escaped, never rendered
    assert FeedbackResponse.objects.count() == 0 and not FeedbackLink.objects.get().used
    # Missing answers name each question.
    page = person.post(path, {}).content.decode()
    assert "Choose an answer: did we listen to you?" in page
    # An expired link says so.
    FeedbackLink.objects.update(expires_on="2020-01-01")
    assert "run out" in person.get(path).content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real concurrency")
@pytest.mark.django_db(transaction=True)
def test_a_link_sent_twice_at_once_is_used_once(world: World) -> None:
    path = _link(world)

    def send(_: int) -> int:
        try:
            return Client().post(path, ANSWERS).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(send, range(8)))
    assert sorted(codes).count(302) == 1, codes
    assert FeedbackResponse.objects.count() == 1


def test_public_pages_are_rate_limited(world: World, settings: object) -> None:
    path = _link(world)
    person = Client(REMOTE_ADDR="203.0.113.9")
    codes = [person.post(path, {}).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429
    assert "Please wait" in person.post(path, {}).content.decode()


def test_kiosk_mode_signs_the_worker_out_and_makes_one_link_per_person(world: World) -> None:
    device = signed_in_client(world.user("navigator"))
    response = device.post("/feedback/kiosk/start/")
    assert response.status_code == 302 and response["Location"] == "/f/kiosk/"
    assert device.get("/caseload/").status_code == 302  # signed out: to the sign-in page
    for _ in range(2):
        start = device.post("/f/kiosk/")
        assert start.status_code == 302 and start["Location"].startswith("/f/")
        done = device.post(start["Location"], ANSWERS)
        assert done["Location"] == "/f/thank-you/?kiosk=1"
        assert "start for the next person" in device.get(done["Location"]).content.decode()
    assert FeedbackResponse.objects.count() == 2 and FeedbackLink.objects.count() == 2
    assert Client().get("/f/kiosk/").status_code == 403  # another device is not a kiosk
    assert device.post("/f/kiosk/", {"action": "stop"}).status_code == 302
    assert device.get("/f/kiosk/").status_code == 403


def test_feedback_results_are_exact_for_the_manager_and_suppressed_for_the_board(
    world: World,
) -> None:
    for _ in range(9):
        Client().post(_link(world), {**ANSWERS, "get_in_touch": "Sam, 07700 900123"})
    manager = signed_in_client(world.user("manager")).get("/feedback/results/").content.decode()
    assert "<strong>9</strong>" in manager and "Sam, 07700 900123" in manager
    board = signed_in_client(world.user("board_member")).get("/feedback/results/")
    text = board.content.decode()
    assert "<strong>10</strong>" in text and "07700" not in text
    for cell in re.findall(r'govuk-table__cell--numeric"[^>]*>([^<]*)<', text):
        assert cell == "*" or int(cell) == 0 or (int(cell) > 7 and int(cell) % 5 == 0)


def test_staff_speak_up_cannot_be_traced_to_them(world: World) -> None:
    worker = world.user("practitioner")
    client = signed_in_client(worker)
    page = client.get("/speak-up/").content.decode()
    assert "Nothing about who you are is kept" in page
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    response = client.post(
        "/speak-up/",
        {"what_happened": "Our duty rota leaves nobody to answer the crisis line after 8pm.",
         "category": "hours", "impact": "stopped"},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200 and "Sent anonymously" in response.content.decode()
    barrier = Barrier.objects.get()
    assert barrier.via == "staff_anonymous"
    assert barrier.raised_by is None and barrier.raised_by_organisation is None
    assert barrier.updates.get().written_by is None and barrier.updates.get().organisation is None
    # No audit event of that request, or of its page, names the worker.
    new = AuditEvent.objects.exclude(pk__in=before)
    assert new.count() == 1
    event = new.get()
    assert event.actor_user_id is None and event.actor_username == ""
    assert event.actor_organisation_id is None and event.path == ""
    assert str(worker.pk) not in str(event.detail) and worker.username not in str(event.detail)
    # The board sees it without a name; nobody's barrier list attributes it.
    board = signed_in_client(world.user("board_member")).get(f"/barriers/{barrier.pk}/")
    assert "a member of staff, anonymously" in board.content.decode()
    assert worker.username not in board.content.decode()
    # The worker does not see it as theirs, and neither do their managers.
    assert f"Barrier {barrier.pk}<" not in client.get("/barriers/").content.decode()
    # An administrator's and a privacy officer's views have nothing to trace it by.
    officer = signed_in_client(world.user("privacy_officer")).get("/audit/").content.decode()
    assert (
        "barrier.raise.anonymous" not in officer
        or worker.username not in officer.split("barrier.raise.anonymous")[1][:400]
    )


def test_panel_recommendation_answered_and_published(world: World) -> None:
    board = signed_in_client(world.user("board_member"))
    response = board.post(
        "/panel/", {"held_on": "2026-10-01", "theme": "First contact", "summary": "Long waits."}
    )
    assert response.status_code == 302
    meeting_path = response["Location"]
    board.post(
        meeting_path,
        {"text": "Let people book by text message.", "organisation": world.housing_org.pk},
    )
    item = Recommendation.objects.get()
    housing = signed_in_client(make_user("manager_housing2", world.housing_org, Role.MANAGER))
    response = housing.post(
        f"/panel/recommendations/{item.pk}/",
        {"action": "respond", "respond-status": "changed", "respond-response": "Agreed.",
         "respond-what_changed": "Appointments can now be booked by text.",
         "respond-based_on_version": item.version},
    )  # fmt: skip
    assert response.status_code == 302
    # The board cannot answer for housing; housing cannot publish.
    assert (
        housing.post(
            f"/panel/recommendations/{item.pk}/",
            {"action": "publish", "publish-you_said": "x", "publish-we_did": "y"},
        ).status_code
        == 403
    )
    response = board.post(
        f"/panel/recommendations/{item.pk}/",
        {"action": "publish", "publish-you_said": "Let people book by text message.",
         "publish-we_did": "Appointments can now be booked by text."},
    )  # fmt: skip
    assert response.status_code == 302 and PublicStory.objects.count() == 1
    public = Client().get("/you-said-we-did/").content.decode()
    assert "Appointments can now be booked by text." in public
    assert "Sign out" not in public
