"""PostgreSQL row-level security, the second layer of rule 1 (issue 9, ADR 0022).

Checked as the application's own database role (``onestory_app``: neither superuser nor
BYPASSRLS), in set-based SQL: for every role, with and without break glass, one query over a
world holding every combination of relationship, sharing, restriction, owning team, category,
sealing and writing organisation returns exactly the rows the separately written truth table
(``tests/test_policy.py``) allows, and an UPDATE touches exactly the rows it allows amending.
With no one acting, no rows at all; and the role cannot change or remove the audit trail.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from onestory.access.models import BreakGlass, Organisation, User
from onestory.access.roles import Role
from onestory.audit import services as audit
from onestory.audit.models import AuditEvent
from onestory.consent.models import SharingDecision
from onestory.core import rls
from onestory.people.models import Person, Relationship, TimelineEvent
from tests.test_policy import (
    ENTRY_CATEGORIES,
    SHARED_CHOICES,
    expected_categories,
    expected_entry,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-level security is PostgreSQL's (SQLite: ADR 0022)",
)

PROTECTED = (
    "people_person",
    "people_othername",
    "intake_sourcerecord",
    "people_aboutme",
    "people_timelineevent",
    "casework_contact",
    "casework_supportplan",
    "casework_goal",
    "casework_safetymarker",
    "measures_completion",
)


@pytest.fixture
def as_app_role(db: None) -> Iterator[Any]:
    """A cursor acting as the application role, inside the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [rls.APP_ROLE])
        if cursor.fetchone() is None:
            pytest.fail(
                f"the database role {rls.APP_ROLE} is missing: .ci/run creates it "
                f"(CREATE ROLE {rls.APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS), and the role "
                "running the tests must be a member of it"
            )
        cursor.execute(rls.grant_sql(rls.APP_ROLE))
        cursor.execute(f"SET ROLE {rls.APP_ROLE}")
        try:
            yield cursor
        finally:
            cursor.execute("RESET ROLE")


def _act(cursor: Any, **values: str) -> None:
    settings = dict.fromkeys(rls.SETTINGS, "")
    settings.update(values)
    for name, value in settings.items():
        cursor.execute("SELECT set_config(%s, %s, false)", [f"onestory.{name}", value])


def test_the_application_role_is_neither_superuser_nor_bypassrls(as_app_role: Any) -> None:
    as_app_role.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    assert as_app_role.fetchone() == (False, False)
    assert rls.database_role_problem() is None


def test_every_person_table_has_forced_policies(as_app_role: Any) -> None:
    as_app_role.execute(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
        [list(PROTECTED)],
    )
    rows = {name: (on, forced) for name, on, forced in as_app_role.fetchall()}
    assert rows == dict.fromkeys(PROTECTED, (True, True))


@pytest.fixture
def city(db: None) -> dict[str, Any]:
    """Two organisations; a person for every combination of the truth table's person facts,
    each with an entry for every category x sealed x writing organisation; and, for every
    role, a user with break glass in force for everyone and a user without."""
    own = Organisation.objects.create(name="Own Org")
    other = Organisation.objects.create(name="Other Org")
    today = timezone.localdate()
    recorder = User.objects.create(username="recorder")
    people: dict[int, tuple[bool, int, bool, bool]] = {}
    events = []
    for related, shared, restricted, owner in itertools.product(
        [True, False], range(len(SHARED_CHOICES)), [True, False], [True, False]
    ):
        person = Person.objects.create(
            given_name="Case",
            family_name=f"R{int(related)}S{shared}X{int(restricted)}O{int(owner)}",
            restricted_location=restricted,
            restricted_owner=own if owner else other,
        )
        people[person.pk] = (related, shared, restricted, owner)
        if related:
            Relationship.objects.create(person=person, organisation=own, kind="caseload",
                                        started_on=today - timedelta(days=30))  # fmt: skip
        # The other organisation has everything, so a leak across organisations would show.
        Relationship.objects.create(person=person, organisation=other, kind="caseload",
                                    started_on=today - timedelta(days=30))  # fmt: skip
        SharingDecision.objects.create(person=person, organisation=other, basis="consent",
                                       categories=sorted(SHARED_CHOICES[-1]), recorded_by=recorder,
                                       recorded_by_organisation=other,
                                       review_on=today + timedelta(days=90))  # fmt: skip
        if SHARED_CHOICES[shared]:
            SharingDecision.objects.create(person=person, organisation=own, basis="consent",
                                           categories=sorted(SHARED_CHOICES[shared]),
                                           recorded_by=recorder, recorded_by_organisation=own,
                                           review_on=today + timedelta(days=90))  # fmt: skip
        for category, sealed, own_entry in itertools.product(
            ENTRY_CATEGORIES, [True, False], [True, False]
        ):
            events.append(
                TimelineEvent(
                    person=person,
                    organisation=own if own_entry else other,
                    category=category,
                    event_type="note",
                    occurred_on=today,
                    summary="entry",
                    sealed=sealed,
                    source="test",
                )
            )
    TimelineEvent.objects.bulk_create(events)
    users: dict[tuple[str, bool], User] = {}
    now = timezone.now()
    for role in Role:
        for glass in (True, False):
            user = User.objects.create(username=f"{role.value}-{int(glass)}")
            users[(role.value, glass)] = user
            if glass:
                BreakGlass.objects.bulk_create(
                    BreakGlass(
                        person_id=pid,
                        user=user,
                        organisation=own,
                        role=role.value,
                        reason="risk_to_life",
                        explanation="test",
                        started_at=now - timedelta(minutes=5),
                        expires_at=now + timedelta(hours=4),
                    )
                    for pid in people
                )
    # Every entry with its facts, read before anyone acts (as the system).
    everything = list(
        TimelineEvent.objects.filter(person_id__in=people).values_list(
            "pk", "person_id", "category", "sealed", "organisation_id"
        )
    )
    assert len(everything) == len(people) * len(ENTRY_CATEGORIES) * 2 * 2
    return {"own": own, "other": other, "people": people, "users": users, "entries": everything}


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_rows_through_row_level_security_match_the_truth_table(
    role: str, city: dict[str, Any], as_app_role: Any
) -> None:
    own, people = city["own"], city["people"]
    cursor = as_app_role
    checked = 0
    for glass in (True, False):
        user = city["users"][(role, glass)]
        _act(cursor, actor="user", user_id=str(user.pk), organisation_id=str(own.pk), role=role,
             today=timezone.localdate().isoformat(), now=timezone.now().isoformat())  # fmt: skip

        def wanted(
            action: str, person_id: int, category: str, sealed: bool, org: int, glass: bool = glass
        ) -> bool:
            related, shared, restricted, owner = people[person_id]
            return expected_entry(role, related, SHARED_CHOICES[shared], restricted, owner,
                                  glass, category, sealed, org == own.pk, action)  # fmt: skip

        everything = city["entries"]
        # One set-based read: the rows the policies let through...
        cursor.execute("SELECT id FROM people_timelineevent")
        got = {row[0] for row in cursor.fetchall()}
        want = {pk for pk, *facts in everything if wanted("read", *facts)}
        assert got == want, f"{role}, break glass {glass}: {len(got ^ want)} rows differ"
        # ...one set-based write: the rows an UPDATE reaches (then undone).
        with transaction.atomic():
            sid = transaction.savepoint()
            cursor.execute("UPDATE people_timelineevent SET summary = 'amended' RETURNING id")
            changed = {row[0] for row in cursor.fetchall()}
            transaction.savepoint_rollback(sid)
        want_amend = {pk for pk, *facts in everything if wanted("amend", *facts)}
        assert changed == want_amend, f"{role}, glass {glass}: {len(changed ^ want_amend)} differ"
        # The person rows: identity, exactly when the truth table gives any category.
        cursor.execute("SELECT id FROM people_person")
        got_people = {row[0] for row in cursor.fetchall()}
        want_people = {
            pid
            for pid, (related, shared, restricted, owner) in people.items()
            if "identity"
            in expected_categories(role, related, SHARED_CHOICES[shared], restricted, owner, glass)[
                0
            ]
        }
        assert got_people == want_people, f"{role}, break glass {glass}"
        checked += len(everything)
    assert checked == 2 * len(people) * len(ENTRY_CATEGORIES) * 2 * 2
    _act(cursor)


def test_no_one_acting_means_no_rows(city: dict[str, Any], as_app_role: Any) -> None:
    _act(as_app_role)  # nothing set: as after a connection is made
    for table in PROTECTED:
        as_app_role.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (constant names)
        assert as_app_role.fetchone() == (0,), table
    as_app_role.execute("SELECT count(*) FROM people_person WHERE true")
    assert as_app_role.fetchone() == (0,)
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        as_app_role.execute(
            "INSERT INTO people_person (given_name, family_name, middle_names, preferred_name, "
            "sex, nhs_number, pnc_id, address_line, postcode, no_fixed_abode, phone, email, "
            "restricted_location, version, created_at, updated_at) VALUES ('A', 'B', '', '', "
            "'', '', '', '', '', false, '', '', false, 1, now(), now())"
        )


def test_an_unknown_actor_or_a_basis_a_role_may_not_use_gives_nothing(
    city: dict[str, Any], as_app_role: Any
) -> None:
    own = city["own"]
    total = len(city["entries"])
    people = len(city["people"])

    def counts(**values: str) -> tuple[int, int]:
        _act(as_app_role, organisation_id=str(own.pk), **values)
        as_app_role.execute("SELECT count(*) FROM people_timelineevent")
        events = as_app_role.fetchone()[0]
        as_app_role.execute("SELECT count(*) FROM people_person")
        return events, as_app_role.fetchone()[0]

    assert counts(actor="systemic") == (0, 0)
    assert counts(actor="system") == (total, people)
    assert counts(actor="user", role="analyst", basis="aggregate") == (total, people)
    assert counts(actor="user", role="administrator", basis="aggregate") == (0, 0)
    assert counts(actor="user", role="", basis="aggregate") == (0, 0)
    # Finding someone by identity gives identity only, and only to roles with that duty.
    assert counts(actor="user", role="data_manager", basis="identity") == (0, people)
    assert counts(actor="user", role="analyst", basis="identity") == (0, 0)
    # Identity gives a case-work role everyone's identity, and nothing more of their records.
    peer_mentor = counts(actor="user", role="peer_mentor")
    assert 0 < peer_mentor[1] < people
    assert counts(actor="user", role="peer_mentor", basis="identity") == (peer_mentor[0], people)
    # A basis the role may not use adds nothing to what the role sees of its own people.
    assert counts(actor="user", role="peer_mentor", basis="retention") == peer_mentor
    assert counts(actor="user", role="privacy_officer", basis="subject_access") == (total, people)
    navigator = counts(actor="user", role="navigator")
    assert 0 < navigator[0] < total
    assert counts(actor="user", role="navigator", basis="subject_access") == navigator
    assert counts(actor="user", role="navigator", basis="everything") == navigator
    _act(as_app_role)


def test_the_application_role_cannot_change_or_remove_audit_events(
    db: None, as_app_role: Any
) -> None:
    with audit.audited_command("rls-test"):
        pass
    event_id = AuditEvent.objects.order_by("-seq").values_list("pk", flat=True).first()
    assert event_id is not None
    for sql in (
        "UPDATE audit_auditevent SET action = 'nothing' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
        "UPDATE audit_auditpersonaccess SET person_id = 0 WHERE event_id = %s",
        "DELETE FROM audit_auditpersonaccess WHERE event_id = %s",
    ):
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            as_app_role.execute(sql, [event_id])
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        as_app_role.execute("TRUNCATE audit_auditevent CASCADE")
    # It still writes new events: the trail grows, never changes.
    _act(as_app_role, actor="system")
    before = AuditEvent.objects.count()
    with audit.audited_command("rls-test-again"):
        pass
    assert AuditEvent.objects.count() == before + 1
    assert audit.audit_verify().ok


def test_a_request_acts_as_its_user_and_leaves_nothing_behind(world: Any) -> None:
    from tests.conftest import signed_in_client

    client = signed_in_client(world.user("navigator"))
    before = rls.current()
    assert client.get(f"/people/{world.alice.pk}/").status_code == 200
    assert rls.current() == before  # the request's settings did not outlive it
    with rls.acting(
        rls.for_user(
            user_id=world.user("navigator").pk,
            organisation_id=world.police_org.pk,
            role="navigator",
        )
    ):
        assert rls.current()["role"] == "navigator"
    assert rls.current() == before


def test_the_deploy_check_refuses_a_role_that_bypasses_the_policies() -> None:
    assert rls.role_problem(superuser=False, bypassrls=False) is None
    assert "superuser" in (rls.role_problem(superuser=True, bypassrls=False) or "")
    assert "BYPASSRLS" in (rls.role_problem(superuser=False, bypassrls=True) or "")


@pytest.mark.parametrize(("user", "refused"), [("postgres", True), ("onestory_ci", False)])
def test_check_deploy_refuses_a_superuser_connection(user: str, refused: bool) -> None:
    """``check --deploy --database default`` fails (onestory.E022) for a role that the
    policies do not bind, and passes for the CI's own role."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_"))}
    env.update(
        DATABASE_URL=f"postgres://{user}@127.0.0.1:5432/postgres",
        DJANGO_SETTINGS_MODULE="onestory.settings",
        PYTHONPATH=str(repo / "src"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--database", "default"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ("onestory.E022" in result.stderr + result.stdout) is refused, result.stderr
