"""Shared fixtures: a small world of organisations, people and personas (one per role).

Personas follow healthchecks' pattern: the right user, a user of an organisation with no
relationship, a wrong role in the right organisation, and an administrator.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db.backends.signals import connection_created
from django.test import Client
from django.utils import timezone

from onestory.access import scope
from onestory.access.middleware import SESSION_MEMBERSHIP
from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import SHAREABLE_CATEGORIES, Role
from onestory.audit import services as audit_services
from onestory.audit.models import AuditEvent
from onestory.consent.models import DataSharingAgreement, SharingDecision
from onestory.people.models import AboutMe, OtherName, Person, Relationship, TimelineEvent

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def initialised_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory ``onestory init`` has set up on the embedded SQLite, made once per
    test process: migrating a new database takes about 15 s."""
    directory = tmp_path_factory.mktemp("initialised")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONESTORY_", "DATABASE"))}
    env["ONESTORY_DATA_DIR"] = str(directory)
    subprocess.run(
        [sys.executable, "-m", "onestory.cli", "init"],
        env=env, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return directory


@pytest.fixture
def initialised(tmp_path: Path, initialised_template: Path) -> Path:
    """``tmp_path`` as a data directory after ``onestory init`` (a copy of one set up once),
    for tests of commands on a new deployment that do not test migrating it."""
    shutil.copytree(initialised_template, tmp_path, dirs_exist_ok=True)
    return tmp_path


PASSWORD = "correct-horse-battery-staple"
TOTP_SECRETS: dict[str, str] = {}


def make_user(username: str, org: Organisation, role: Role, *, mfa: bool = True) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=username.split("_")[0].title(),
        last_name="Tester",
    )
    Membership.objects.create(user=user, organisation=org, role=role.value)
    if mfa:
        secret = pyotp.random_base32()
        TOTP.activate(user, secret)
        TOTP_SECRETS[username] = secret
    return user


@dataclass
class World:
    nav_org: Organisation
    housing_org: Organisation
    police_org: Organisation
    hub_org: Organisation
    alice: Person
    bob: Person
    users: dict[str, User] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.users[name]


def share(
    person: Person,
    org: Organisation,
    by: User,
    categories: list[str] | None = None,
    days: int = 180,
) -> SharingDecision:
    return SharingDecision.objects.create(
        person=person,
        organisation=org,
        categories=categories or [c.value for c in SHAREABLE_CATEGORIES],
        basis="consent",
        recorded_by=by,
        recorded_by_organisation=org,
        review_on=timezone.localdate() + timedelta(days=days),
    )


def relate(person: Person, org: Organisation, kind: str = "caseload") -> Relationship:
    return Relationship.objects.create(
        person=person,
        organisation=org,
        kind=kind,
        started_on=timezone.localdate() - timedelta(days=30),
    )


def _system_by_default(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Tests build their worlds outside any request, as the system; each request through the
    app then acts as its signed-in user, so on PostgreSQL (as a role that row-level security
    binds, like the CI's) every page is served under the policies (ADR 0022)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('onestory.actor', 'system', false)")


connection_created.connect(_system_by_default, dispatch_uid="onestory-tests-system-by-default")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 is deliberately slow; the tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: None) -> World:
    nav = Organisation.objects.create(name="Framework Navigators", org_type="charity")
    housing = Organisation.objects.create(name="City Council Housing", org_type="council_housing")
    police = Organisation.objects.create(name="Nottinghamshire Police", org_type="police")
    hub = Organisation.objects.create(name="OneStory Partnership Hub", org_type="other")
    alice = Person.objects.create(
        given_name="Alice",
        family_name="Marsh",
        date_of_birth=date(1984, 3, 9),
        nhs_number="9434765919",
        pnc_id="04/1234567F",
        address_line="12 Forest Road",
        postcode="NG7 6GR",
        phone="07700 900123",
        email="alice@example.org",
        sex="F",
    )
    OtherName.objects.create(person=alice, given_name="Ally", family_name="Marsh", kind="nickname")
    bob = Person.objects.create(
        given_name="Bob", family_name="Hart", date_of_birth=date(1979, 1, 1)
    )
    w = World(nav, housing, police, hub, alice, bob)
    w.users = {
        "navigator": make_user("navigator_nav", nav, Role.NAVIGATOR),
        "practitioner": make_user("practitioner_housing", housing, Role.PRACTITIONER),
        "peer_mentor": make_user("peer_nav", nav, Role.PEER_MENTOR),
        "manager": make_user("manager_nav", nav, Role.MANAGER),
        "outsider": make_user("outsider_police", police, Role.NAVIGATOR),
        "analyst": make_user("analyst_nav", nav, Role.ANALYST),
        "data_manager": make_user("datamanager_nav", nav, Role.DATA_MANAGER),
        "privacy_officer": make_user("privacy_nav", nav, Role.PRIVACY_OFFICER),
        "board_member": make_user("board_hub", hub, Role.BOARD_MEMBER),
        "administrator": make_user("admin_hub", hub, Role.ADMINISTRATOR),
        "no_mfa": make_user("nomfa_nav", nav, Role.NAVIGATOR, mfa=False),
    }
    relate(alice, nav)
    relate(alice, housing, kind="team")
    share(alice, nav, w.users["navigator"])
    share(alice, housing, w.users["navigator"], ["homelessness", "about_me", "contact_location"])
    AboutMe.objects.create(
        person=alice,
        version=1,
        what_matters="My dog Pepper and getting my own flat.",
        what_helps="Texts before a visit.",
        what_to_avoid="Please don't ask about my dad.",
        how_to_contact="Text 07700 900123; I'm at the day centre most mornings.",
        important_people="My sister Jo.",
        person_agreed_wording=True,
        recorded_by=w.users["navigator"],
        recorded_by_organisation=nav,
    )
    today = timezone.localdate()
    for category, event_type in [
        ("homelessness", "rough_sleeping_verified"),
        ("criminal_justice", "arrest"),
        ("health", "attendance"),
        ("mental_health", "crisis_contact"),
        ("support_plan", "goal_set"),
    ]:
        TimelineEvent.objects.create(
            person=alice,
            organisation=housing if category == "homelessness" else nav,
            category=category,
            event_type=event_type,
            occurred_on=today - timedelta(days=10),
            summary=f"{event_type} note",
        )
    agreement = DataSharingAgreement.objects.create(
        name="City SMD partnership agreement",
        purposes="Joined-up support for people facing SMD.",
        article6_basis="6(1)(e)",
        article9_condition="9(2)(h)",
        starts_on=today,
        review_on=today + timedelta(days=365),
    )
    agreement.parties.set([nav, housing, police])
    agreement.lead_navigation_organisations.set([nav])
    return w


def visible(page: str | bytes) -> str:
    """A page's HTML without its random CSRF tokens, so that a check that a name is *not*
    shown cannot fail because a token happened to spell it."""
    text = page.decode() if isinstance(page, bytes) else page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', text)


def signed_in_client(user: User, membership: Membership | None = None) -> Client:
    """A client signed in as ``user``, acting in their (first) membership, with MFA done."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    chosen = membership or user.memberships.first()
    if chosen is not None:
        session = client.session
        session[SESSION_MEMBERSHIP] = chosen.pk
        session.save()
    return client


@pytest.fixture
def client_for(world: World):  # type: ignore[no-untyped-def]
    def make(name: str) -> Client:
        if name == "anonymous":
            return Client()
        return signed_in_client(world.user(name))

    return make


@pytest.fixture(autouse=True)
def every_scoped_person_is_audited_once() -> Iterator[None]:
    """SECURITY.md rule 11, checked in every test: each person handed out by
    ``access.scope`` appears in exactly one audit event written for that request or
    command."""
    returned: set[tuple[str, int]] = set()
    written: list[AuditEvent] = []

    def on_return(request_id: str, person_ids: list[int]) -> None:
        returned.update((request_id, p) for p in person_ids)

    scope.observers.append(on_return)
    audit_services.write_observers.append(written.append)
    try:
        yield
    finally:
        scope.observers.remove(on_return)
        audit_services.write_observers.remove(written.append)
    for request_id, person_id in returned:
        events = [e for e in written if e.request_id == request_id and person_id in e.person_ids]
        assert len(events) == 1, (
            f"person {person_id} returned by access.scope in request {request_id} "
            f"appears in {len(events)} audit events, expected exactly 1"
        )
