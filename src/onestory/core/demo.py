"""``onestory demo``: a synthetic city in the data directory, with demo users of every role.

Until the linkage issue lands, people are created from the generator's ground truth (one
Person per true person) rather than by linking the feeds; the feeds' events become their
timelines and each partner's recent events its relationships.
"""

from __future__ import annotations

import csv
import random
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rich.console import Console
from rich.progress import Progress

from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import SHAREABLE_CATEGORIES, Role
from onestory.audit.services import audited_command
from onestory.casework import demo as casework_demo
from onestory.consent.models import DataSharingAgreement, SharingDecision
from onestory.governance import demo as governance_demo
from onestory.intake.linking import link_everything
from onestory.intake.models import SourceRecord
from onestory.intake.services import feed_import
from onestory.measures import demo as measures_demo
from onestory.meetings import demo as meetings_demo
from onestory.people.models import AboutMe, Person, Relationship, TimelineEvent
from onestory.voice import demo as voice_demo
from onestory_engine.synthetic import SOURCES, City, TruePerson, generate_city, write_feeds

NAVIGATION_SOURCE = "navigator_register"
HUB = ("OneStory Partnership Hub", "other")

# (username, organisation source name or "hub", role, full name)
DEMO_USERS: list[tuple[str, str, Role, str]] = [
    ("nav.amira", NAVIGATION_SOURCE, Role.NAVIGATOR, "Amira Khan"),
    ("nav.dan", NAVIGATION_SOURCE, Role.NAVIGATOR, "Dan Okafor"),
    ("nav.sophie", NAVIGATION_SOURCE, Role.NAVIGATOR, "Sophie Clarke"),
    ("peer.leon", NAVIGATION_SOURCE, Role.PEER_MENTOR, "Leon Walsh"),
    ("manager.ruth", NAVIGATION_SOURCE, Role.MANAGER, "Ruth Adeyemi"),
    ("data.navs", NAVIGATION_SOURCE, Role.DATA_MANAGER, "Priya Shah"),
    ("housing.tom", "council_housing", Role.PRACTITIONER, "Tom Barker"),
    ("housing.manager", "council_housing", Role.MANAGER, "Helen Price"),
    ("housing.data", "council_housing", Role.DATA_MANAGER, "Gary Holt"),
    ("mh.nurse", "mh_trust", Role.PRACTITIONER, "Grace Mensah"),
    ("ed.liaison", "city_hospital_ed", Role.PRACTITIONER, "Olu Ade"),
    ("police.sgt", "police_custody", Role.PRACTITIONER, "Mark Reid"),
    ("police.data", "police_custody", Role.DATA_MANAGER, "Janet Cole"),
    ("probation.po", "probation", Role.PRACTITIONER, "Kofi Boateng"),
    ("recovery.worker", "recovery_service", Role.PRACTITIONER, "Ellie Ford"),
    ("idva.worker", "idva_service", Role.PRACTITIONER, "Sam Rivers"),
    ("prison.officer", "prison_releases", Role.PRACTITIONER, "Alan Moss"),
    ("outreach.worker", "street_outreach", Role.PRACTITIONER, "Bea Lowe"),
    ("privacy.officer", "hub", Role.PRIVACY_OFFICER, "Nadia Hussain"),
    ("analyst.jo", "hub", Role.ANALYST, "Jo Turner"),
    ("board.chair", "hub", Role.BOARD_MEMBER, "Cllr Pat Evans"),
    ("admin", "hub", Role.ADMINISTRATOR, "Chris Admin"),
]

ABOUT_ME = [
    (
        "Getting my own place and keeping my dog with me.",
        "Texts before anyone visits. Meeting somewhere quiet.",
        "Please don't ask about my childhood.",
        "Text me; I'm at the day centre most mornings.",
        "My sister and my dog, Pepper.",
    ),
    (
        "Seeing my kids again.",
        "People who turn up when they say they will.",
        "Don't bring up my time inside unless I do.",
        "Phone after 11am. I don't read letters.",
        "My mum and my two boys.",
    ),
    (
        "Staying clean and getting back to work.",
        "Being listened to, not lectured.",
        "Appointments before 10am. Crowded waiting rooms.",
        "Ring the hostel and ask for me.",
        "My key worker and my friend Dave.",
    ),
    (
        "Feeling safe where I live.",
        "A woman worker. Knowing what happens next.",
        "Please don't ask me to repeat what happened.",
        "Through my IDVA only.",
        "My best friend Kerry.",
    ),
    (
        "A bit of peace and a proper bed.",
        "Food first, questions later.",
        "Being told I have to sort my drinking before anything else.",
        "Outreach find me by the market most days.",
        "Nobody really at the moment.",
    ),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    organisation: str
    role: str
    totp_secret: str


def _domains(person: TruePerson, since: date) -> set[str]:
    return {d for e in person.events if e.event_date > since and (d := e.domain) is not None}


def build_demo(*, persons: int, seed: int, console: Console | None = None) -> Path:
    """Build the demo city into the data directory; returns the path of demo-logins.csv."""
    console = console or Console()
    today = timezone.localdate()
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    if Person.objects.exists():
        console.print(
            "This data directory already holds a city: keeping it and renewing the "
            "demo logins. Delete the data directory to build a new one."
        )
        with audited_command("demo"), transaction.atomic():
            logins, _ = _users(_organisations(), rng)
        return _write_logins(logins, console)
    city = generate_city(persons, seed=seed, as_of=today)
    feeds_dir = Path(settings.DATA_DIR) / "demo-feeds"
    files = write_feeds(city, feeds_dir)
    with audited_command("demo") as ctx, Progress(console=console) as bar:
        task = bar.add_task("Building the synthetic city", total=len(files) + 4)
        with transaction.atomic():
            orgs = _organisations()
            logins, users = _users(orgs, rng)
            _agreement(orgs, today)
        bar.advance(task)
        for feed in files:
            bar.update(task, description=f"Importing {feed.source}")
            feed_import(
                actor=ctx.actor,
                kind=feed.kind,
                path=feed.path,
                source_name=feed.source,
                organisation_name=feed.organisation_name,
                link=False,
            )
            bar.advance(task)
        bar.update(task, description="Linking records into people")
        link_everything(actor=ctx.actor)
        bar.advance(task)
        bar.update(task, description="Caseloads, plans and sharing decisions")
        with transaction.atomic():
            people = _people_of(city)
            first_user = {
                m.organisation_id: m.user
                for m in Membership.objects.filter(role=Role.PRACTITIONER.value).select_related(
                    "user"
                )
            }
            _relationships_and_sharing(city.people, people, orgs, users, first_user, today, rng)
        bar.advance(task)
        ctx.add(
            persons=[p.pk for p in people.values()], detail={"persons": len(people), "seed": seed}
        )
        bar.advance(task)
    from onestory.casework.models import Allocation, Closure, Contact, Goal

    console.print(
        f"Casework: {Allocation.objects.filter(ended_on__isnull=True).count()} allocations, "
        f"{Contact.objects.count()} contacts, {Goal.objects.count()} goals, "
        f"{Closure.objects.count()} closures"
    )
    from onestory.governance import retention
    from onestory.governance.models import RectificationRequest, SubjectAccessRequest

    console.print(
        f"Information requests: {SubjectAccessRequest.objects.count()} subject access, "
        f"{RectificationRequest.objects.count()} correction; "
        f"{len(retention.due(today))} records due for a retention review"
    )
    console.print(
        f"{Person.objects.filter(merged_into__isnull=True).count()} people linked from "
        f"{sum(f.rows for f in files)} feed records; "
        f"{TimelineEvent.objects.count()} timeline events. Feeds in {feeds_dir}"
    )
    return _write_logins(logins, console)


def _people_of(city: City) -> dict[str, Person]:
    """Each true person's linked Person: where most of their records went."""
    where: dict[str, Counter[int]] = defaultdict(Counter)
    records = SourceRecord.objects.filter(person__isnull=False).values_list(
        "source__name", "source_record_id", "person_id"
    )
    for source, sid, person in records.iterator(chunk_size=10000):
        key = city.truth.get((source, sid))
        if key is not None and person is not None:
            where[key][person] += 1
    chosen = {key: counts.most_common(1)[0][0] for key, counts in where.items()}
    persons = Person.objects.in_bulk(set(chosen.values()))
    return {key: persons[pid] for key, pid in chosen.items()}


def _write_logins(logins: list[DemoLogin], console: Console) -> Path:
    path = Path(settings.DATA_DIR) / "demo-logins.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["username", "password", "organisation", "role", "totp_secret"])
        for login in logins:
            writer.writerow(
                [login.username, login.password, login.organisation, login.role, login.totp_secret]
            )
    console.print(
        "Demo logins: sign in, then enter the 6-digit code for the TOTP secret "
        "(add the secret to any authenticator app)."
    )
    for login in logins:
        console.print(
            f"  {login.username:<16} {login.password:<18} {login.role:<16} "
            f"{login.totp_secret}  {login.organisation}",
            highlight=False,
            soft_wrap=True,
        )
    return path


def _organisations() -> dict[str, Organisation]:
    orgs: dict[str, Organisation] = {}
    for source in SOURCES:
        org, _ = Organisation.objects.get_or_create(
            name=source.organisation_name, defaults={"org_type": source.organisation_type}
        )
        orgs[source.name] = org
    hub, _ = Organisation.objects.get_or_create(name=HUB[0], defaults={"org_type": HUB[1]})
    orgs["hub"] = hub
    return orgs


def _users(
    orgs: dict[str, Organisation], rng: random.Random
) -> tuple[list[DemoLogin], dict[str, User]]:
    logins, users = [], {}
    for username, org_key, role, full_name in DEMO_USERS:
        org = orgs[org_key]
        password = f"demo-{secrets.token_urlsafe(9)}"
        first, last = full_name.rsplit(" ", 1)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, first_name=first, last_name=last)
        user.set_password(password)
        user.save()
        Membership.objects.get_or_create(user=user, organisation=org, role=role.value)
        from allauth.mfa.models import Authenticator

        Authenticator.objects.filter(user=user).delete()
        secret = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
        TOTP.activate(user, secret)
        RecoveryCodes.activate(user)
        users[username] = user
        logins.append(DemoLogin(username, password, org.name, role.value, secret))
    return logins, users


def _agreement(orgs: dict[str, Organisation], today: date) -> None:
    agreement, _ = DataSharingAgreement.objects.get_or_create(
        name="Trentside SMD partnership information sharing agreement",
        defaults={
            "purposes": "Identifying people facing severe multiple disadvantage, joining up "
            "their support around them, and measuring whether it helps.",
            "article6_basis": "6(1)(e)",
            "article9_condition": "9(2)(h)",
            "starts_on": today - timedelta(days=400),
            "review_on": today + timedelta(days=330),
        },
    )
    agreement.parties.set([o for k, o in orgs.items() if k != "hub"])
    agreement.lead_navigation_organisations.set([orgs[NAVIGATION_SOURCE]])


def _relationships_and_sharing(
    truth: tuple[TruePerson, ...],
    people: dict[str, Person],
    orgs: dict[str, Organisation],
    users: dict[str, User],
    first_user: dict[int, User],
    today: date,
    rng: random.Random,
) -> None:
    nav_org = orgs[NAVIGATION_SOURCE]
    navigators = [users["nav.amira"], users["nav.dan"], users["nav.sophie"]]
    caseloads: Counter[int] = Counter()
    # (person, worker, started, team) for current and formerly supported people.
    current: list[tuple[Person, User, date, list[Organisation]]] = []
    former: list[tuple[Person, User, date, list[Organisation]]] = []
    year_ago = today - timedelta(days=365)
    rels, shares, about = [], [], []
    all_cats = [c.value for c in SHAREABLE_CATEGORIES]
    # Service episodes came from the feeds when they were linked (rule 3).
    episodes: dict[int, set[int]] = defaultdict(set)
    for person_id, org_id in Relationship.objects.filter(
        kind="service_episode", ended_on__isnull=True
    ).values_list("person_id", "organisation_id"):
        episodes[person_id].add(org_id)
    by_id = {o.pk: o for o in orgs.values()}
    done: set[int] = set()
    for t in truth:
        person = people.get(t.key)
        if person is None or person.pk in done:
            continue
        done.add(person.pk)
        smd = len(_domains(t, year_ago)) >= 3 and t.age_on(today) >= 18
        on_caseload = smd and rng.random() < 0.6
        team_orgs = {by_id[o] for o in episodes[person.pk] if o in by_id and o != nav_org.pk}
        if on_caseload:
            worker = min(navigators, key=lambda u: caseloads[u.pk])
            # One in four people the navigators took on was supported earlier and has
            # since moved on (housed, moved away, died...): the closures in the demo.
            closed_before = (len(current) + len(former)) % 4 == 3 and len(former) < 12
            if caseloads[worker.pk] >= 9 and not closed_before:
                on_caseload = False
            else:
                if not closed_before:
                    caseloads[worker.pk] += 1
                started = today - timedelta(days=rng.randint(220, 700 if closed_before else 500))
                (former if closed_before else current).append(
                    (person, worker, started, sorted(team_orgs, key=lambda o: o.name))
                )
                rels.append(
                    Relationship(
                        person=person,
                        organisation=nav_org,
                        kind="caseload",
                        worker=worker,
                        role_description="Navigator (lead worker)",
                        started_on=started,
                    )
                )
                shares.append(
                    SharingDecision(
                        person=person,
                        organisation=nav_org,
                        categories=all_cats,
                        basis="consent",
                        recorded_by=worker,
                        recorded_by_organisation=nav_org,
                        review_on=today + timedelta(days=rng.randint(30, 360)),
                    )
                )
                for org in team_orgs:
                    cats = [c for c in all_cats if c not in {"case_notes"}]
                    if org.org_type == "police":
                        cats = ["contact_location", "about_me", "safety", "criminal_justice"]
                    shares.append(
                        SharingDecision(
                            person=person,
                            organisation=org,
                            categories=cats,
                            basis="consent",
                            recorded_by=worker,
                            recorded_by_organisation=nav_org,
                            review_on=today + timedelta(days=rng.randint(30, 360)),
                        )
                    )
                texts = ABOUT_ME[rng.randrange(len(ABOUT_ME))]
                about.append(
                    AboutMe(
                        person=person,
                        version=1,
                        what_matters=texts[0],
                        what_helps=texts[1],
                        what_to_avoid=texts[2],
                        how_to_contact=texts[3],
                        important_people=texts[4],
                        person_agreed_wording=rng.random() < 0.8,
                        recorded_by=worker,
                        recorded_by_organisation=nav_org,
                    )
                )
                if any(e.kind == "domestic_abuse" for e in t.events) and rng.random() < 0.5:
                    person.restricted_location = True
                    person.restricted_owner = nav_org
                    person.save(update_fields=["restricted_location", "restricted_owner"])
        if not on_caseload:
            # Each partner's own service users share with that partner only.
            for org in team_orgs:
                shares.append(
                    SharingDecision(
                        person=person,
                        organisation=org,
                        categories=all_cats,
                        basis="consent",
                        recorded_by=first_user.get(org.pk, users["manager.ruth"]),
                        recorded_by_organisation=org,
                        review_on=today + timedelta(days=rng.randint(30, 360)),
                    )
                )
    Relationship.objects.bulk_create(rels, batch_size=2000)
    SharingDecision.objects.bulk_create(shares, batch_size=2000)
    AboutMe.objects.bulk_create(about, batch_size=1000)
    caseload_rel = {
        r.person_id: r for r in Relationship.objects.filter(organisation=nav_org, kind="caseload")
    }
    adult_social_care, _ = Organisation.objects.get_or_create(
        name="Trentside Adult Social Care", defaults={"org_type": "adult_social_care"}
    )

    def entries(
        rows: list[tuple[Person, User, date, list[Organisation]]],
    ) -> list[casework_demo.CaseloadPerson]:
        return [
            casework_demo.CaseloadPerson(p, w, s, team, caseload_rel[p.pk])
            for p, w, s, team in rows
        ]

    casework_demo.build(
        caseload=entries(current),
        closed=entries(former),
        navigation=nav_org,
        manager=users["manager.ruth"],
        peer_mentor=users["peer.leon"],
        adult_social_care=adult_social_care,
        today=today,
        rng=rng,
    )
    meetings_demo.build(
        orgs=orgs, users=users, people=[p for p, _, _, _ in current], today=today, rng=rng
    )
    voice_demo.build(
        orgs=orgs, users=users, people=[p for p, _, _, _ in current], today=today, rng=rng
    )
    measures_demo.build(
        caseload=[(p, w, s) for p, w, s, _ in current],
        organisation=nav_org,
        today=today,
        rng=rng,
        former=[(p, w, s) for p, w, s, _ in former],
    )
    measures_demo.public_health(today=today, rng=rng)
    governance_demo.build(
        orgs=orgs, users=users, people=[p for p, _, _, _ in current], today=today, rng=rng
    )
