"""Measures recorded in the work (issue 8): a navigator records NDTAs for Alice; her
measures page shows the change; the outcomes dashboard shows it, exact for a manager and
through the small-number rule for analysts and board members."""

from __future__ import annotations

import re

from onestory.audit.models import AuditEvent
from onestory.measures.models import Completion
from tests.conftest import World, signed_in_client

FIRST = {
    "engagement": 3, "intentional_self_harm": 1, "unintentional_self_harm": 2,
    "risk_to_others": 2, "risk_from_others": 3, "stress_anxiety": 4,
    "social_effectiveness": 2, "alcohol_drugs": 4, "impulse_control": 3, "housing": 4,
}  # fmt: skip
LATER = dict.fromkeys(FIRST, 1)  # 8 x 1 + 2 x 2 = 12


def _post(client, person_id: int, answers: dict[str, int], day: str):  # type: ignore[no-untyped-def]
    data = {f"item_{k}": str(v) for k, v in answers.items()} | {"completed_on": day}
    return client.post(f"/people/{person_id}/measures/ndta/new/", data)


def test_a_navigator_records_two_ndtas_and_sees_the_change(world: World) -> None:
    navigator = signed_in_client(world.user("navigator"))
    page = navigator.get(f"/people/{world.alice.pk}/measures/ndta/new/").content.decode()
    assert "Risk to others" in page and "8: serious risk" in page
    response = _post(navigator, world.alice.pk, FIRST, "2026-05-01")
    assert response.status_code == 302
    assert Completion.objects.get().total == 33
    _post(navigator, world.alice.pk, LATER, "2026-08-01")
    page = navigator.get(f"/people/{world.alice.pk}/measures/").content.decode()
    assert "21 points better" in page and "<polyline" in page
    event = AuditEvent.objects.filter(action__contains="measure.ndta").first()
    assert event is not None and event.person_ids == [world.alice.pk]
    # The outcomes dashboard: exact for a manager.
    outcomes = signed_in_client(world.user("manager")).get("/outcomes/").content.decode()
    assert re.search(r"People with two or more NDTAs</dt><dd[^>]*>1<", outcomes)
    assert "33.0 then 12.0" in outcomes
    assert "Average NDTA total of the assessments in each quarter" in outcomes
    assert re.search(r"2026 Q2</th><td[^>]*>1</td><td[^>]*>33.0<", outcomes)
    by_sex = outcomes.split("NDTA change by sex")[1].split("</table>")[0]
    assert re.search(r"Not recorded</th><td[^>]*>1</td><td[^>]*>1<", by_sex)
    # One person is a small number: hidden from the board.
    board = signed_in_client(world.user("board_member")).get("/outcomes/").content.decode()
    assert re.search(r"People with two or more NDTAs</dt><dd[^>]*>\*<", board)
    assert re.search(r"2026 Q2</th><td[^>]*>\*</td><td[^>]*>\*<", board)
    assert "33.0" not in board


def test_an_incomplete_ndta_names_each_missing_item_and_stores_nothing(world: World) -> None:
    navigator = signed_in_client(world.user("navigator"))
    response = _post(navigator, world.alice.pk, {"engagement": 3}, "2026-05-01")
    page = response.content.decode()
    assert response.status_code == 200 and "Answer question 4: risk to others" in page
    response = _post(navigator, world.alice.pk, {**FIRST, "housing": 9}, "2026-05-01")
    assert "Select a valid choice" in response.content.decode()
    response = _post(navigator, world.alice.pk, FIRST, "2999-01-01")
    assert "cannot be in the future" in response.content.decode()
    assert Completion.objects.count() == 0


def test_who_may_record_and_see_measures(world: World) -> None:
    # A peer mentor sees the page but cannot record; a practitioner whose organisation
    # Alice does not share measures with sees that she has not; an outsider gets nothing.
    peer = signed_in_client(world.user("peer_mentor"))
    assert peer.get(f"/people/{world.alice.pk}/measures/").status_code == 200
    assert peer.get(f"/people/{world.alice.pk}/measures/ndta/new/").status_code == 403
    practitioner = signed_in_client(world.user("practitioner"))
    page = practitioner.get(f"/people/{world.alice.pk}/measures/").content.decode()
    assert "has not agreed to share their measures" in page
    assert practitioner.get(f"/people/{world.alice.pk}/measures/ndta/new/").status_code == 403
    outsider = signed_in_client(world.user("outsider"))
    assert outsider.get(f"/people/{world.alice.pk}/measures/").status_code == 404
    assert (
        signed_in_client(world.user("navigator"))
        .get(f"/people/{world.alice.pk}/measures/nonsense/new/")
        .status_code
        == 404
    )


def test_service_use_and_cost_before_and_after_support(world: World) -> None:
    from datetime import date, timedelta

    from onestory.casework.models import Allocation
    from onestory.people.models import TimelineEvent

    start = date.today() - timedelta(days=400)  # noqa: DTZ011
    Allocation.objects.create(
        person=world.alice, organisation=world.nav_org, worker=world.user("navigator"),
        kind="lead", started_on=start, allocated_by=world.user("manager"),
    )  # fmt: skip
    for days, event_type in ((-30, "arrest"), (-20, "arrest"), (100, "arrest")):
        TimelineEvent.objects.create(
            person=world.alice, organisation=world.police_org, category="criminal_justice",
            event_type=event_type, occurred_on=start + timedelta(days=days),
        )  # fmt: skip
    # An arrest (2006/07 £593) in 2025/26 prices: 593 x 105.6 / 63.9 = £979.98.
    navigator = signed_in_client(world.user("navigator")).get(f"/people/{world.alice.pk}/measures/")
    page = navigator.content.decode()
    assert "Arrest (detained): 2" in page and "£1,960" in page  # 2 x 979.98
    assert "Year 1 of support" in page and "£980" in page
    manager = signed_in_client(world.user("manager")).get("/outcomes/service-costs/")
    text = manager.content.decode()
    assert "regression to the mean" in text and "£1960" in text
    board = signed_in_client(world.user("board_member")).get("/outcomes/service-costs/")
    assert "£1960" not in board.content.decode()  # one person: hidden


def test_equality_monitoring_is_the_persons_choice_and_breaks_down_outcomes(
    world: World,
) -> None:
    from onestory.measures.models import Equality

    navigator = signed_in_client(world.user("navigator"))
    page = navigator.get(f"/people/{world.alice.pk}/equality/").content.decode()
    assert "Prefer not to say" in page and "Not asked yet" in page
    response = navigator.post(
        f"/people/{world.alice.pk}/equality/",
        {"based_on_version": "0", "sex": "female", "ethnicity": "prefer_not", "disabled": "yes"},
    )
    assert response.status_code == 302
    record = Equality.objects.get()
    assert (record.sex, record.ethnicity, record.religion) == ("female", "prefer_not", "")
    # A second edit based on the old version is refused and changes nothing.
    stale = navigator.post(
        f"/people/{world.alice.pk}/equality/",
        {"based_on_version": "0", "sex": "male"},
    )
    assert "Someone else recorded" in stale.content.decode()
    assert Equality.objects.get().sex == "female"
    assert (
        signed_in_client(world.user("outsider"))
        .get(f"/people/{world.alice.pk}/equality/")
        .status_code
        == 404
    )
    # The outcomes page breaks the people with a navigator down by it.
    from datetime import date

    from onestory.casework.models import Allocation

    Allocation.objects.create(
        person=world.alice, organisation=world.nav_org, worker=world.user("navigator"),
        kind="lead", started_on=date(2026, 1, 5), allocated_by=world.user("manager"),
    )  # fmt: skip
    manager = signed_in_client(world.user("manager")).get("/outcomes/").content.decode()
    assert "women among people with a navigator: <strong>100.0%" in manager
    board = signed_in_client(world.user("board_member")).get("/outcomes/").content.decode()
    assert "women among people with a navigator: <strong>*" in board


def test_public_health_indicators_load_and_compare_with_england(world: World) -> None:
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from onestory.measures.models import IndicatorValue

    sample = (Path(__file__).parent / "data" / "fingertips_sample.csv").read_bytes()
    analyst = signed_in_client(world.user("analyst"))
    for _ in range(2):  # the same file twice changes nothing
        response = analyst.post(
            "/outcomes/public-health/",
            {"file": SimpleUploadedFile("phof.csv", sample, content_type="text/csv")},
            follow=True,
        )
        page = response.content.decode()
        assert "6 indicator values loaded" in page and "row 8: invalid literal" in page
        assert IndicatorValue.objects.count() == 6
    assert "Fuel poverty" in page and "18.5 to 19.5" in page and "13.4" in page
    assert "<polyline" in page
    bad = analyst.post(
        "/outcomes/public-health/",
        {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")},
    )
    assert "not a Fingertips export: no column &#x27;indicator id&#x27;" in bad.content.decode()
    board = signed_in_client(world.user("board_member"))
    assert "Fuel poverty" in board.get("/outcomes/public-health/").content.decode()
    assert board.post("/outcomes/public-health/", {}).status_code == 403


def test_the_evaluator_export_is_pseudonymised_and_audited(world: World) -> None:
    import csv
    import io
    from datetime import date

    from onestory.casework.models import Allocation

    Allocation.objects.create(
        person=world.alice, organisation=world.nav_org, worker=world.user("navigator"),
        kind="lead", started_on=date(2026, 1, 5), allocated_by=world.user("manager"),
    )  # fmt: skip
    navigator = signed_in_client(world.user("navigator"))
    _post(navigator, world.alice.pk, FIRST, "2026-05-01")
    _post(navigator, world.alice.pk, LATER, "2026-08-01")
    analyst = signed_in_client(world.user("analyst"))
    assert (
        "Choose at least one field"
        in analyst.post("/outcomes/evaluation-export/", {}).content.decode()
    )
    response = analyst.post(
        "/outcomes/evaluation-export/",
        {"columns": ["age_band", "support_start_month", "ndta_first", "ndta_latest"]},
    )
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {"pseudonym": rows[0]["pseudonym"], "age_band": rows[0]["age_band"],
         "support_start_month": "2026-01", "ndta_first": "33", "ndta_latest": "12"}
    ]  # fmt: skip
    assert len(rows[0]["pseudonym"]) == 16
    assert (
        "Alice" not in text and "Marsh" not in text and str(world.alice.pk) != rows[0]["pseudonym"]
    )
    event = AuditEvent.objects.filter(action__contains="export.evaluation").get()
    assert event.person_ids == [world.alice.pk]
    assert (
        signed_in_client(world.user("board_member")).get("/outcomes/evaluation-export/").status_code
        == 403
    )


def test_staff_survey_is_kept_without_names_and_shows_a_trend(world: World) -> None:
    from onestory.measures.models import StaffResponse

    for role, answer in (("navigator", "4"), ("practitioner", "5"), ("peer_mentor", "2")):
        client = signed_in_client(world.user(role))
        response = client.post("/staff-survey/", {"item_equipped": answer})
        assert response.status_code == 302
    assert StaffResponse.objects.count() == 3
    fields = {f.name for f in StaffResponse._meta.get_fields()}
    assert not fields & {"user", "recorded_by", "person"}
    event = AuditEvent.objects.filter(action__contains="staff_survey").first()
    assert event is not None and event.actor_user_id is None
    manager = signed_in_client(world.user("manager")).get("/outcomes/").content.decode()
    assert re.search(r"Q\d</th><td[^>]*>3</td><td[^>]*>2<", manager)
    assert "Staff who feel equipped and supported (% agreeing)" in manager
    board = signed_in_client(world.user("board_member")).get("/outcomes/").content.decode()
    assert re.search(r"Q\d</th><td[^>]*>\*</td><td[^>]*>\*<", board)


def test_an_administrator_adds_a_licensed_questionnaire_without_code(world: World) -> None:
    import json

    admin = signed_in_client(world.user("administrator"))
    page = admin.get("/admin-area/questionnaires/").content.decode()
    assert "New Directions Team Assessment" in page
    bad = admin.post("/admin-area/questionnaires/", {"definition": "{not json"})
    assert "not valid JSON" in bad.content.decode()
    wrong = admin.post(
        "/admin-area/questionnaires/",
        {"definition": json.dumps({"code": "x", "version": 1, "name": "X", "items": []})},
    )
    assert "needs at least one item" in wrong.content.decode()
    star = {
        "code": "licensed_star", "version": 1, "name": "A licensed outcomes tool",
        "completed_by": "worker", "repeat_days": 91,
        "items": [
            {"key": "wellbeing", "text": "Wellbeing", "scale": [[1, "1"], [2, "2"], [3, "3"]]},
            {"key": "housing", "text": "Housing", "scale": [[1, "1"], [2, "2"], [3, "3"]]},
        ],
    }  # fmt: skip
    assert (
        admin.post("/admin-area/questionnaires/", {"definition": json.dumps(star)}).status_code
        == 302
    )
    navigator = signed_in_client(world.user("navigator"))
    measures = navigator.get(f"/people/{world.alice.pk}/measures/").content.decode()
    assert "Record A licensed outcomes tool" in measures
    response = navigator.post(
        f"/people/{world.alice.pk}/measures/licensed_star/new/",
        {"completed_on": "2026-06-01", "item_wellbeing": "2", "item_housing": "3"},
    )
    assert response.status_code == 302
    assert Completion.objects.get(instrument__code="licensed_star").total == 5
    again = admin.post("/admin-area/questionnaires/", {"definition": json.dumps(star)})
    assert "already exists" in again.content.decode()
    assert (
        signed_in_client(world.user("manager")).get("/admin-area/questionnaires/").status_code
        == 403
    )


def test_the_caseload_says_when_an_ndta_is_due(world: World) -> None:
    from datetime import date

    from onestory.casework.models import Allocation

    Allocation.objects.create(
        person=world.alice, organisation=world.nav_org, worker=world.user("navigator"),
        kind="lead", started_on=date(2026, 1, 5), allocated_by=world.user("manager"),
    )  # fmt: skip
    navigator = signed_in_client(world.user("navigator"))
    assert "NDTA due" in navigator.get("/caseload/").content.decode()
    from django.utils import timezone

    _post(navigator, world.alice.pk, FIRST, timezone.localdate().isoformat())
    assert "NDTA due" not in navigator.get("/caseload/").content.decode()
