"""The only way to fetch person data (SECURITY.md rule 1).

Every function here takes the caller's ``AccessContext``, applies the policy, returns
materialised objects (never a lazy queryset a view could widen), and notes every person it
returns in the current audit event. Called outside a request or command there is no audit
context and no rows come back: the scope fails closed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.models import BreakGlass, Organisation, PrivacyReview
from onestory.access.roles import CASEWORK_ROLES, Category, Role
from onestory.audit.services import current_context
from onestory.casework.models import Allocation, Contact, Death, SafeguardingConcern
from onestory.consent.models import DataSharingAgreement, SharingDecision
from onestory.core import rls
from onestory.governance import retention
from onestory.governance import selectors as governance
from onestory.governance.models import RectificationRequest, SubjectAccessRequest
from onestory.intake.models import IdentityChange, MatchPair, SourceRecord
from onestory.measures.models import Completion, Equality
from onestory.meetings.models import Action, AgendaItem, Meeting
from onestory.people.models import AboutMe, Person, Relationship, TimelineEvent
from onestory.referrals.models import Alert, Referral
from onestory.voice.models import (
    Barrier,
    BarrierPerson,
    FeedbackResponse,
    PanelMeeting,
    Recommendation,
)
from onestory_engine import standardise


class PersonNotFound(Http404):
    """Missing and not-yours look the same (rule 1)."""

    def __init__(self) -> None:
        super().__init__("No person found")


class NoAuditContext(RuntimeError):
    pass


class PersonMoved(Exception):
    """The id was merged into another person this user may see (cli.md: it resolves)."""

    def __init__(self, person_id: int) -> None:
        super().__init__(person_id)
        self.person_id = person_id


# Observers see every person the scope hands out (the tests use this to prove each one is
# in exactly one audit event). Called with (request_id, person_ids).
observers: list[Callable[[str, list[int]], None]] = []


@dataclass(frozen=True)
class PersonView:
    """A person as one user may see them."""

    person: Person
    categories: frozenset[Category]
    has_relationship: bool
    # The break glass this record is open by, when it is (read-only; rule 7).
    break_glass: BreakGlass | None = None

    @property
    def read_only(self) -> bool:
        return self.break_glass is not None

    @property
    def basis(self) -> str:
        return "break_glass" if self.break_glass is not None else ""

    def can_see(self, category: Category | str) -> bool:
        return Category(category) in self.categories

    @property
    def contact_hidden(self) -> bool:
        return Category.CONTACT_LOCATION not in self.categories

    @property
    def sees_about_me(self) -> bool:
        return Category.ABOUT_ME in self.categories

    @property
    def id(self) -> int:
        return self.person.pk


def _today() -> date:
    return timezone.localdate()


def _note_returned(person_ids: Iterable[int], *, action: str, basis: str = "") -> None:
    ctx = current_context()
    if ctx is None:
        raise NoAuditContext("person data requested outside an audited request or command")
    ids = [int(p) for p in person_ids]
    ctx.add(action=action, persons=ids, basis=basis)
    for observer in observers:
        observer(ctx.request_id, ids)


def _require_context() -> None:
    if current_context() is None:
        raise NoAuditContext("person data requested outside an audited request or command")


def relationships_in_force() -> QuerySet[Relationship]:
    """Relationships in force today. ``ended_on`` is the day a relationship ended: from that
    day on it gives no access (closing a referral or support takes effect at once)."""
    today = _today()
    return Relationship.objects.filter(started_on__lte=today).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=today)
    )


def current_relationships(organisation_id: int) -> QuerySet[Relationship]:
    return relationships_in_force().filter(organisation_id=organisation_id)


def sharing_in_force() -> QuerySet[SharingDecision]:
    """Sharing decisions neither withdrawn nor past their review date (rule 4)."""
    return SharingDecision.objects.filter(withdrawn_at__isnull=True, review_on__gte=_today())


def active_sharing(organisation_id: int) -> QuerySet[SharingDecision]:
    return sharing_in_force().filter(organisation_id=organisation_id)


def _shared_categories(organisation_id: int, person_ids: list[int]) -> dict[int, set[Category]]:
    shared: dict[int, set[Category]] = defaultdict(set)
    rows = active_sharing(organisation_id).filter(person_id__in=person_ids)
    for person_id, categories in rows.values_list("person_id", "categories"):
        shared[person_id].update(Category(c) for c in categories)
    return shared


def break_glass_in_force(ctx: AccessContext) -> QuerySet[BreakGlass]:
    """This user's break glass in force now, in the role and organisation they act in."""
    return BreakGlass.objects.filter(
        user=ctx.user,
        organisation_id=ctx.organisation_id,
        role=ctx.role.value,
        started_at__lte=timezone.now(),
        expires_at__gt=timezone.now(),
        ended_at__isnull=True,
    )


def _views(
    ctx: AccessContext, people: list[Person], *, break_glass: bool = False
) -> list[PersonView]:
    """The people as this user may see them. With ``break_glass`` (one person's read-only
    pages only), a break glass in force opens a record the ordinary rules do not."""
    ids = [p.pk for p in people]
    related = set(
        current_relationships(ctx.organisation_id)
        .filter(person_id__in=ids)
        .values_list("person_id", flat=True)
    )
    shared = _shared_categories(ctx.organisation_id, ids)
    glass: dict[int, BreakGlass] = {}
    if break_glass and policy.may_break_glass(role=ctx.role):
        for row in break_glass_in_force(ctx).filter(person_id__in=ids).order_by("-expires_at"):
            glass.setdefault(row.person_id, row)
    views = []
    for person in people:
        has_relationship = person.pk in related
        person_shared = shared.get(person.pk, set())
        categories = policy.visible_categories(
            role=ctx.role,
            has_relationship=has_relationship,
            shared=person_shared,
            restricted_location=person.restricted_location,
            in_owning_team=person.restricted_owner_id == ctx.organisation_id,
            break_glass=person.pk in glass,
        )
        if categories:
            by_glass = policy.uses_break_glass(
                role=ctx.role, has_relationship=has_relationship, shared=person_shared
            )
            views.append(
                PersonView(
                    person,
                    categories,
                    has_relationship,
                    glass[person.pk] if by_glass else None,
                )
            )
    return views


# Timeline events on one page of the person's record.
TIMELINE_PAGE = 50

# The pages a break glass opens: reading the record, never changing it (rule 7).
BREAK_GLASS_READS = frozenset(
    {"person.view", "person.timeline", "about_me.history", "plan.view", "plan.history"}
)


def _candidates(ctx: AccessContext) -> QuerySet[Person]:
    """People the organisation has a relationship and a sharing basis with (pre-policy)."""
    related = current_relationships(ctx.organisation_id).values("person_id")
    shared = active_sharing(ctx.organisation_id).values("person_id")
    return Person.objects.filter(pk__in=related, merged_into__isnull=True).filter(pk__in=shared)


def _people_matching(ctx: AccessContext, query: str) -> QuerySet[Person]:
    people = _candidates(ctx)
    # A NUL can match no name, and PostgreSQL refuses it in a text parameter (found by
    # schemathesis through the API's ?q=).
    query = query.replace("\x00", "").strip()
    if query:
        digits = query.replace(" ", "")
        terms = Q()
        for word in query.split():
            terms &= (
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(preferred_name__icontains=word)
                | Q(other_names__given_name__icontains=word)
                | Q(other_names__family_name__icontains=word)
            )
        if digits.isdigit():
            terms = terms | Q(nhs_number=digits)
        people = people.filter(terms).distinct()
    return people


def people_list(
    ctx: AccessContext, *, query: str = "", limit: int = 50, offset: int = 0
) -> list[PersonView]:
    """My people: everyone this user may open, optionally searched by name or NHS number
    (a page of them: ``offset`` and ``limit``)."""
    _require_context()
    people = _people_matching(ctx, query).order_by("family_name", "given_name", "pk")
    views = _views(ctx, list(people[offset : offset + limit]))
    _note_returned((v.id for v in views), action="people.list")
    return views


def people_count(ctx: AccessContext, *, query: str = "") -> int:
    """How many people ``people_list`` pages through (a number, no one's record)."""
    _require_context()
    if ctx.role not in CASEWORK_ROLES:
        return 0
    return _people_matching(ctx, query).count()


def person_get(ctx: AccessContext, person_id: int, *, action: str = "person.view") -> PersonView:
    """One person as this user may see them, or 404 (audited) when missing or not theirs."""
    _require_context()
    person = Person.objects.filter(pk=person_id).select_related("restricted_owner").first()
    hops = 0
    while person is not None and person.merged_into_id is not None and hops < 20:
        person, hops = Person.objects.filter(pk=person.merged_into_id).first(), hops + 1
    ctx_audit = current_context()
    glass = bool(ctx_audit and ctx_audit.read_only and action in BREAK_GLASS_READS)
    if person is not None and person.pk != person_id:
        if _views(ctx, [person], break_glass=glass):
            raise PersonMoved(person.pk)
        person = None
    views = _views(ctx, [person], break_glass=glass) if person is not None else []
    if not views:
        record_denied(person_id, action=action)
        raise PersonNotFound
    view = views[0]
    if view.break_glass is not None:
        record_audit_detail(break_glass=view.break_glass.pk)
    _note_returned([person_id], action=action, basis=view.basis)
    return view


def record_audit_detail(**detail: object) -> None:
    ctx = current_context()
    if ctx is not None:
        ctx.add(detail=dict(detail))


def person_for_break_glass(ctx: AccessContext, person_id: int) -> tuple[Person, bool]:
    """The person a navigator or practitioner breaks glass for, and whether they can
    already open the record without it; 404 when missing. Called only once the user has
    given their reason (the break glass page itself shows nothing of anyone)."""
    _require_context()
    with rls.basis("identity"):  # finding them is all; the record opens through the policy
        person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
    if person is None or not policy.may_break_glass(role=ctx.role):
        record_denied(person_id, action="break_glass.start")
        raise PersonNotFound
    already = bool(_views(ctx, [person]))
    _note_returned([person_id], action="break_glass.start", basis="" if already else "break_glass")
    return person, already


def person_for_claim(ctx: AccessContext, person_id: int) -> Person:
    """The person a navigator claims a relationship with: one their organisation has no
    relationship with yet; 404 when missing or already related."""
    _require_context()
    with rls.basis("identity"):
        person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
    related = current_relationships(ctx.organisation_id).filter(person_id=person_id).exists()
    if person is None or not policy.may_claim_relationship(role=ctx.role, has_relationship=related):
        record_denied(person_id, action="relationship.claim")
        raise PersonNotFound
    _note_returned([person_id], action="relationship.claim", basis="claimed_relationship")
    return person


def record_denied(person_id: int, *, action: str) -> None:
    """Note a refused attempt in the audit event, without counting it as data returned."""
    ctx = current_context()
    if ctx is not None:
        ctx.add(action=f"{action}.denied", outcome="denied", detail={"requested_person": person_id})


def person_for_sharing(ctx: AccessContext, person_id: int) -> Person:
    """A person whose sharing decision this user may record: a relationship is enough
    (without it there is nothing to record a decision for)."""
    _require_context()
    with rls.basis("identity"):  # a relationship without a basis yet: identity only
        person = Person.objects.filter(pk=person_id).first()
    has_relationship = (
        person is not None
        and current_relationships(ctx.organisation_id).filter(person_id=person_id).exists()
    )
    if person is None or not policy.may_record_sharing(
        role=ctx.role, has_relationship=has_relationship
    ):
        record_denied(person_id, action="sharing.view")
        raise PersonNotFound
    _note_returned([person_id], action="sharing.view")
    return person


def sharing_decisions(ctx: AccessContext, person: Person) -> list[SharingDecision]:
    """All sharing decisions for a person whose sharing this user may manage."""
    return list(
        SharingDecision.objects.filter(person=person).select_related(
            "organisation", "recorded_by", "recorded_by_organisation", "withdrawn_by"
        )
    )


def timeline(
    ctx: AccessContext, view: PersonView, *, category: str | None = None
) -> list[TimelineEvent]:
    """The person's timeline, only the categories this user may see; sealed entries only
    to the organisation that wrote them."""
    return list(_timeline_events(ctx, view, category=category))


def timeline_page(
    ctx: AccessContext,
    view: PersonView,
    *,
    category: str | None = None,
    page: str | int | None = None,
    per_page: int = TIMELINE_PAGE,
) -> Page[TimelineEvent]:
    """One page of ``timeline``, newest first: a person with years of A&E attendances has
    hundreds of events, and the page shows the latest and links to the rest."""
    return Paginator(_timeline_events(ctx, view, category=category), per_page).get_page(page)


def _timeline_events(
    ctx: AccessContext, view: PersonView, *, category: str | None
) -> QuerySet[TimelineEvent]:
    allowed = {c.value for c in view.categories}
    if category:
        allowed &= {category}
    events = TimelineEvent.objects.filter(person_id=view.id, category__in=allowed).filter(
        sealed_visible(ctx, view)
    )
    return events.select_related("organisation")


def sealed_visible(ctx: AccessContext, view: PersonView) -> Q:
    """The entries of this person the user may see as far as sealing goes (rule 6,
    ``policy.may_see_entry`` as a query): unsealed ones, and sealed ones their own
    organisation wrote, except through break glass."""
    if view.read_only:
        return Q(sealed=False)
    return Q(sealed=False) | Q(organisation_id=ctx.organisation_id)


def timeline_entry_for_sealing(
    ctx: AccessContext, view: PersonView, event_id: int
) -> TimelineEvent:
    """One of this organisation's own timeline entries for the person, or 404."""
    event = TimelineEvent.objects.filter(
        pk=event_id, person_id=view.id, organisation_id=ctx.organisation_id
    ).first()
    if event is None or view.read_only or not view.can_see(event.category):
        raise Http404("No such entry")
    return event


def contact_for_sealing(ctx: AccessContext, view: PersonView, contact_id: int) -> Contact:
    contact = Contact.objects.filter(
        pk=contact_id, person_id=view.id, organisation_id=ctx.organisation_id
    ).first()
    if contact is None or view.read_only or not view.can_see(Category.CASE_NOTES):
        raise Http404("No such entry")
    return contact


def team(ctx: AccessContext, view: PersonView) -> list[Relationship]:
    """The team around the person: organisations with a current relationship."""
    return list(
        relationships_in_force().filter(person_id=view.id).select_related("organisation", "worker")
    )


def about_me_versions(ctx: AccessContext, view: PersonView) -> list[AboutMe]:
    if not view.can_see(Category.ABOUT_ME):
        return []
    return list(
        AboutMe.objects.filter(person_id=view.id).select_related(
            "recorded_by", "recorded_by_organisation"
        )
    )


# --- Data managers: identity fields of their organisation's records, and both sides of the
# pairs in the review queue (rule 10, and the roles table). Nothing else of the person.


def review_queue(ctx: AccessContext) -> list[MatchPair]:
    """Pending pairs with at least one record this organisation supplied."""
    _require_context()
    if ctx.role != Role.DATA_MANAGER:
        return []
    own = Q(record_l__source__organisation_id=ctx.organisation_id) | Q(
        record_r__source__organisation_id=ctx.organisation_id
    )
    pairs = list(
        MatchPair.objects.filter(status=MatchPair.Status.PENDING)
        .filter(own)
        .select_related("record_l__source__organisation", "record_r__source__organisation")
        .order_by("-match_probability")[:200]
    )
    persons = {r.person_id for p in pairs for r in (p.record_l, p.record_r) if r.person_id}
    _note_returned(sorted(persons), action="review.list")
    return pairs


def review_pair_get(ctx: AccessContext, pair_id: int) -> MatchPair:
    _require_context()
    pair = (
        MatchPair.objects.filter(pk=pair_id)
        .select_related("record_l__source__organisation", "record_r__source__organisation")
        .first()
    )
    if (
        pair is None
        or ctx.role != Role.DATA_MANAGER
        or ctx.organisation_id
        not in {pair.record_l.source.organisation_id, pair.record_r.source.organisation_id}
    ):
        record_denied(pair_id, action="review.view")
        raise PersonNotFound
    _note_returned(
        sorted({p for p in (pair.record_l.person_id, pair.record_r.person_id) if p}),
        action="review.view",
    )
    return pair


@dataclass(frozen=True)
class IdentityView:
    person: Person
    records: list[SourceRecord]  # the ones this data manager may see
    hidden_records: int  # other organisations' records, counted only
    changes: list[IdentityChange]


def identity_get(ctx: AccessContext, person_id: int) -> IdentityView:
    """A person's linked records as a data manager may see them: their own organisation's
    records, and other organisations' records that are in a pair with one of them."""
    _require_context()
    person = Person.objects.filter(pk=person_id).first()
    if person is not None and person.merged_into_id is not None:
        person = Person.objects.filter(pk=person.merged_into_id).first()
    records = (
        list(SourceRecord.objects.filter(person=person).select_related("source__organisation"))
        if person is not None
        else []
    )
    own = {r.pk for r in records if r.source.organisation_id == ctx.organisation_id}
    if ctx.role != Role.DATA_MANAGER or not own or person is None:
        record_denied(person_id, action="identity.view")
        raise PersonNotFound
    paired: set[int] = set()
    for left, right in MatchPair.objects.filter(
        Q(record_l_id__in=own) | Q(record_r_id__in=own)
    ).values_list("record_l_id", "record_r_id"):
        paired.update({left, right})
    visible = [r for r in records if r.pk in own or r.pk in paired]
    changes = list(
        IdentityChange.objects.filter(Q(kept_person=person) | Q(other_person=person))
        .select_related("made_by")
        .order_by("-made_at")[:20]
    )
    _note_returned([person.pk], action="identity.view")
    return IdentityView(person, visible, len(records) - len(visible), changes)


# --- Information governance (SECURITY.md: the privacy officer sees a person's whole record
# only while producing their subject access request, and every look is audited)


def _require_privacy_officer(ctx: AccessContext, person_id: int, action: str) -> None:
    if ctx.role != Role.PRIVACY_OFFICER:
        record_denied(person_id, action=action)
        raise PersonNotFound


def subject_access_search(ctx: AccessContext, *, query: str, limit: int = 20) -> list[Person]:
    """People matching a name, NHS number or date of birth (``DD/MM/YYYY``), for a privacy
    officer to say whom a request is about: identity fields only."""
    _require_context()
    _require_privacy_officer(ctx, 0, "subject_access.search")
    people = Person.objects.filter(merged_into__isnull=True)
    query = query.replace("\x00", "")
    digits = query.replace(" ", "")
    born = standardise.parse_date(query.strip())
    if digits.isdigit() and len(digits) == 10:
        people = people.filter(nhs_number=digits)
    elif born is not None:
        people = people.filter(date_of_birth=born)
    else:
        for word in query.split():
            people = people.filter(
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(preferred_name__icontains=word)
            )
    found = list(people[:limit]) if query.strip() else []
    _note_returned([p.pk for p in found], action="subject_access.search", basis="subject_access")
    return found


def governance_person(ctx: AccessContext, person_id: int) -> Person:
    """The person a new request is about (identity only), for a privacy officer."""
    _require_context()
    _require_privacy_officer(ctx, person_id, "subject_access.person")
    person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
    if person is None:
        record_denied(person_id, action="subject_access.person")
        raise PersonNotFound
    _note_returned([person.pk], action="subject_access.person", basis="subject_access")
    return person


def subject_access_requests(ctx: AccessContext) -> list[SubjectAccessRequest]:
    _require_context()
    _require_privacy_officer(ctx, 0, "subject_access.list")
    rows = list(
        SubjectAccessRequest.objects.filter(organisation_id=ctx.organisation_id).select_related(
            "person"
        )
    )
    _note_returned(
        {r.person_id for r in rows}, action="subject_access.list", basis="subject_access"
    )
    return rows


def subject_access_get(ctx: AccessContext, request_id: int) -> SubjectAccessRequest:
    _require_context()
    # Each organisation's privacy officer answers the requests made to it.
    sar = (
        SubjectAccessRequest.objects.select_related("person")
        .filter(pk=request_id, organisation_id=ctx.organisation_id)
        .first()
    )
    _require_privacy_officer(ctx, sar.person_id if sar else 0, "subject_access.view")
    if sar is None:
        raise PersonNotFound
    _note_returned([sar.person_id], action="subject_access.view", basis="subject_access")
    return sar


def subject_access_record(ctx: AccessContext, sar: SubjectAccessRequest) -> dict[str, Any]:
    """Everything held about the person, while their request is not yet closed."""
    _require_context()
    _require_privacy_officer(ctx, sar.person_id, "subject_access.produce")
    if sar.status == "closed":
        record_denied(sar.person_id, action="subject_access.produce")
        raise PersonNotFound
    with rls.basis("subject_access"):
        record = governance.person_record(sar.person_id)
    _note_returned(
        [sar.person_id, *record["merged_person_ids"]],
        action="subject_access.produce",
        basis="subject_access",
    )
    return record


def rectification_requests(ctx: AccessContext) -> list[RectificationRequest]:
    _require_context()
    _require_privacy_officer(ctx, 0, "rectification.list")
    rows = list(
        RectificationRequest.objects.filter(organisation_id=ctx.organisation_id).select_related(
            "person"
        )
    )
    _note_returned({r.person_id for r in rows}, action="rectification.list", basis="subject_access")
    return rows


def rectification_get(ctx: AccessContext, request_id: int) -> RectificationRequest:
    _require_context()
    row = (
        RectificationRequest.objects.select_related("person")
        .filter(pk=request_id, organisation_id=ctx.organisation_id)
        .first()
    )
    _require_privacy_officer(ctx, row.person_id if row else 0, "rectification.view")
    if row is None:
        raise PersonNotFound
    _note_returned([row.person_id], action="rectification.view", basis="subject_access")
    return row


def retention_queue(ctx: AccessContext) -> list[tuple[Any, Person]]:
    """Records due for a retention review, each with the person (identity only)."""
    _require_context()
    _require_privacy_officer(ctx, 0, "retention.queue")
    items = retention.due(_today())
    with rls.basis("retention"):
        people = Person.objects.in_bulk([d.person_id for d in items])
    _note_returned([d.person_id for d in items], action="retention.queue", basis="retention")
    return [(d, people[d.person_id]) for d in items]


def retention_item(ctx: AccessContext, person_id: int) -> tuple[Any, Person]:
    """One record due for review, for the privacy officer deciding on it."""
    _require_context()
    _require_privacy_officer(ctx, person_id, "retention.review")
    found = retention.due(_today(), [person_id])
    with rls.basis("retention"):
        person = Person.objects.filter(pk=person_id).first()
    if not found or person is None:
        record_denied(person_id, action="retention.review")
        raise PersonNotFound
    _note_returned([person_id], action="retention.review", basis="retention")
    return found[0], person


# --- One-to-one support


def caseload(ctx: AccessContext) -> list[PersonView]:
    """The people allocated to this user in their organisation, as they may see them."""
    _require_context()
    allocated = Allocation.objects.filter(
        worker=ctx.user, organisation_id=ctx.organisation_id, ended_on__isnull=True
    ).values("person_id")
    people = list(
        Person.objects.filter(pk__in=allocated, merged_into__isnull=True).order_by(
            "family_name", "given_name", "pk"
        )
    )
    views = _views(ctx, people)
    _note_returned((v.id for v in views), action="caseload.list")
    return views


@dataclass(frozen=True)
class ConcernView:
    concern: SafeguardingConcern
    view: PersonView


def safeguarding_received(ctx: AccessContext) -> list[ConcernView]:
    """Concerns sent to this user's organisation, each with its person as they may see them
    (the safeguarding override gives contact, About me and safety)."""
    _require_context()
    if ctx.role not in CASEWORK_ROLES:
        return []
    concerns = list(
        SafeguardingConcern.objects.filter(sent_to_id=ctx.organisation_id)
        .select_related("person", "organisation", "raised_by")
        .order_by("status", "-raised_at")[:200]
    )
    views = {v.id: v for v in _views(ctx, list({c.person for c in concerns}))}
    visible = [ConcernView(c, views[c.person_id]) for c in concerns if c.person_id in views]
    _note_returned(sorted({c.view.id for c in visible}), action="safeguarding.list")
    return visible


def safeguarding_concern_get(ctx: AccessContext, concern_id: int) -> ConcernView:
    """A concern sent to, or raised by, this user's organisation, or 404."""
    _require_context()
    concern = (
        SafeguardingConcern.objects.filter(pk=concern_id)
        .filter(Q(sent_to_id=ctx.organisation_id) | Q(organisation_id=ctx.organisation_id))
        .select_related("person", "organisation", "sent_to", "raised_by")
        .first()
    )
    views = _views(ctx, [concern.person]) if concern is not None else []
    if concern is None or not views or not views[0].can_see(Category.SAFETY):
        record_denied(concern_id, action="safeguarding.view")
        raise PersonNotFound
    _note_returned([concern.person_id], action="safeguarding.view")
    return ConcernView(concern, views[0])


@dataclass(frozen=True)
class DeathView:
    death: Death
    view: PersonView | None  # None: the person is no longer visible to this user


def deaths(ctx: AccessContext) -> list[DeathView]:
    """Deaths of people this manager's organisation supported, for review (a manager's
    organisation keeps its link to the person through its closed allocation)."""
    _require_context()
    if ctx.role != Role.MANAGER:
        return []
    supported = Allocation.objects.filter(organisation_id=ctx.organisation_id).values("person_id")
    with rls.basis("identity"):  # no longer a relationship: their name, for the review
        rows = list(
            Death.objects.filter(person_id__in=supported)
            .select_related("person", "organisation", "recorded_by")
            .order_by("review_status", "-recorded_at")
        )
    _note_returned(sorted({d.person_id for d in rows}), action="deaths.list")
    return [DeathView(d, None) for d in rows]


def death_get(ctx: AccessContext, death_id: int) -> DeathView:
    _require_context()
    supported = Allocation.objects.filter(organisation_id=ctx.organisation_id).values("person_id")
    with rls.basis("identity"):
        death = (
            Death.objects.filter(pk=death_id, person_id__in=supported)
            .select_related("person", "organisation", "recorded_by")
            .first()
        )
    if death is None or ctx.role != Role.MANAGER:
        record_denied(death_id, action="death.view")
        raise PersonNotFound
    _note_returned([death.person_id], action="death.view")
    return DeathView(death, None)


# --- Referrals and alerts. A referral shows the receiving organisation the person's name
# and date of birth and what the referral says, nothing else of the record, until it is
# accepted (the accepted referral is then its relationship).


def _referrals(
    ctx: AccessContext, rows: QuerySet[Referral], action: str, *, limit: int = 300, offset: int = 0
) -> list[Referral]:
    _require_context()
    if ctx.role not in CASEWORK_ROLES:
        return []
    # A referral shows the receiving organisation who it is about before it is accepted.
    with rls.basis("identity"):
        referrals = list(
            rows.select_related(
                "person", "from_organisation", "to_organisation", "service", "sent_by"
            ).order_by("-created_at", "-pk")[offset : offset + limit]
        )
    _note_returned(sorted({r.person_id for r in referrals}), action=action)
    return referrals


def referrals_received(ctx: AccessContext, *, limit: int = 300, offset: int = 0) -> list[Referral]:
    return _referrals(
        ctx,
        Referral.objects.filter(to_organisation_id=ctx.organisation_id),
        "referrals.inbox",
        limit=limit,
        offset=offset,
    )


def referrals_sent(ctx: AccessContext, *, limit: int = 300, offset: int = 0) -> list[Referral]:
    return _referrals(
        ctx,
        Referral.objects.filter(from_organisation_id=ctx.organisation_id),
        "referrals.sent",
        limit=limit,
        offset=offset,
    )


def referrals_count(ctx: AccessContext, *, received: bool) -> int:
    """How many referrals ``referrals_received`` (or ``_sent``) pages through."""
    _require_context()
    if ctx.role not in CASEWORK_ROLES:
        return 0
    side = "to_organisation_id" if received else "from_organisation_id"
    return Referral.objects.filter(**{side: ctx.organisation_id}).count()


def referral_get(ctx: AccessContext, referral_id: int) -> Referral:
    """A referral sent by or to this user's organisation, or 404 (audited)."""
    _require_context()
    with rls.basis("identity"):
        referral = (
            Referral.objects.filter(pk=referral_id)
            .filter(
                Q(to_organisation_id=ctx.organisation_id)
                | Q(from_organisation_id=ctx.organisation_id)
            )
            .select_related("person", "from_organisation", "to_organisation", "service", "sent_by")
            .first()
        )
    if referral is None or ctx.role not in CASEWORK_ROLES:
        record_denied(referral_id, action="referral.view")
        raise PersonNotFound
    _note_returned([referral.person_id], action="referral.view")
    return referral


def alerts(ctx: AccessContext) -> list[tuple[Alert, PersonView]]:
    """This user's alerts, for people they may still open (a lost relationship hides them)."""
    _require_context()
    rows = list(
        Alert.objects.filter(user=ctx.user)
        .select_related("person", "event", "event__organisation")
        .order_by("read_at", "-created_at")[:200]
    )
    views = {v.id: v for v in _views(ctx, list({a.person for a in rows}))}
    shown = [
        (a, views[a.person_id])
        for a in rows
        if a.person_id in views
        and views[a.person_id].can_see(a.event.category)
        and policy.may_see_entry(
            sealed=a.event.sealed,
            entry_organisation_id=a.event.organisation_id,
            organisation_id=ctx.organisation_id,
            break_glass=False,
        )
    ]
    _note_returned(sorted({a.person_id for a, _ in shown}), action="alerts.list")
    return shown


def sharing_organisations(view: PersonView) -> list[Organisation]:
    """Organisations the person has a current sharing decision with (referral targets)."""
    ids = sharing_in_force().filter(person_id=view.id).values("organisation_id")
    return list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name"))


# --- Multi-agency meetings and actions. A meeting is visible to the organisations that
# took part; what was said about each person only to users who may open that person.


@dataclass(frozen=True)
class MeetingView:
    meeting: Meeting
    items: list[tuple[AgendaItem, PersonView]]  # the people this user may open
    hidden: int  # people discussed whom this user may not open


def meetings(ctx: AccessContext) -> list[Meeting]:
    _require_context()
    if ctx.role not in CASEWORK_ROLES:
        return []
    return list(
        Meeting.objects.filter(organisations=ctx.organisation_id)
        .select_related("host")
        .order_by("-held_on")[:100]
    )


def meeting_get(ctx: AccessContext, meeting_id: int) -> MeetingView:
    _require_context()
    meeting = (
        Meeting.objects.filter(pk=meeting_id, organisations=ctx.organisation_id)
        .select_related("host")
        .first()
    )
    if meeting is None or ctx.role not in CASEWORK_ROLES:
        record_denied(meeting_id, action="meeting.view")
        raise PersonNotFound
    items = list(meeting.items.order_by("pk"))
    # Only the people this organisation may see come back (row-level security too).
    people = Person.objects.filter(pk__in={i.person_id for i in items})
    views = {v.id: v for v in _views(ctx, list(people))}
    shown = []
    for item in items:
        if item.person_id in views:
            item.person = views[item.person_id].person
            shown.append((item, views[item.person_id]))
    _note_returned(sorted({i.person_id for i, _ in shown}), action="meeting.view")
    return MeetingView(meeting, shown, len(items) - len(shown))


@dataclass(frozen=True)
class ActionView:
    action: Action
    view: PersonView | None  # None: this user may not open the person


def actions_owned(ctx: AccessContext) -> list[ActionView]:
    """Open actions owned by this user's organisation (for its caseload page)."""
    _require_context()
    if ctx.role not in CASEWORK_ROLES:
        return []
    rows = list(
        Action.objects.filter(owner_organisation_id=ctx.organisation_id, status=Action.Status.OPEN)
        .select_related("person", "owner", "created_by")
        .order_by("due_on")[:200]
    )
    views = {v.id: v for v in _views(ctx, list({a.person for a in rows}))}
    # An action is about its person even when only its description is shown.
    _note_returned(sorted({a.person_id for a in rows}), action="actions.list")
    return [ActionView(a, views.get(a.person_id)) for a in rows]


def action_get(ctx: AccessContext, action_id: int) -> ActionView:
    _require_context()
    action = (
        Action.objects.filter(pk=action_id, owner_organisation_id=ctx.organisation_id)
        .select_related("person")
        .first()
    )
    if action is None or ctx.role not in CASEWORK_ROLES:
        record_denied(action_id, action="action.view")
        raise PersonNotFound
    views = _views(ctx, [action.person])
    _note_returned([action.person_id], action="action.view")
    return ActionView(action, views[0] if views else None)


def person_actions(view: PersonView) -> list[Action]:
    """Actions for the person (shown on their page to users who may see case notes)."""
    if not view.can_see(Category.CASE_NOTES):
        return []
    return list(
        Action.objects.filter(person_id=view.id).select_related("owner_organisation", "owner")
    )


def caseload_people_for_agenda(ctx: AccessContext) -> list[PersonView]:
    """People this organisation supports on a caseload (the host's agenda choices)."""
    _require_context()
    allocated = Allocation.objects.filter(
        organisation_id=ctx.organisation_id, ended_on__isnull=True
    ).values("person_id")
    people = list(
        Person.objects.filter(pk__in=allocated, merged_into__isnull=True).order_by(
            "family_name", "given_name"
        )[:300]
    )
    views = _views(ctx, people)
    _note_returned((v.id for v in views), action="meeting.agenda_choices")
    return views


# --- The by-name list (SECURITY.md rule 4, identification before consent): navigators and
# managers of the partnership's lead navigation organisations see the cohort's minimal
# fields (name, age, domains, ED use, allocation) so someone can be allocated and
# approached. Nothing else of the person is shown; allocation creates the relationship.

BY_NAME_ROLES = frozenset({Role.NAVIGATOR, Role.MANAGER})


def may_identify(ctx: AccessContext) -> bool:
    """Whether this user's organisation is a lead navigation organisation of an agreement
    in force today, and their role may use the by-name list."""
    if ctx.role not in BY_NAME_ROLES:
        return False
    today = _today()
    return (
        DataSharingAgreement.objects.filter(
            lead_navigation_organisations=ctx.organisation_id,
            starts_on__lte=today,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .exists()
    )


@dataclass(frozen=True)
class ByNameRow:
    person_id: int
    name: str
    age: int | None
    domains: list[str]
    ed_attendances: int
    lead: str  # the lead worker and organisation, or "" when unallocated
    allocated_here: bool

    @property
    def domain_labels(self) -> list[str]:
        return [d.replace("_", " ").capitalize() for d in self.domains]


def by_name_list(ctx: AccessContext, rows: list[dict[str, object]]) -> list[ByNameRow]:
    """The cohort rows (from the engine) as this user may see them: minimal fields only."""
    _require_context()
    if not may_identify(ctx):
        return []
    ids = [int(str(r["person_id"])) for r in rows if r["smd"] == 1]
    with rls.basis("identity"):  # identification before consent (rule 4): minimal fields
        people = Person.objects.in_bulk(ids)
    leads = {
        a.person_id: a
        for a in Allocation.objects.filter(
            person_id__in=ids, kind=Allocation.Kind.LEAD, ended_on__isnull=True
        ).select_related("worker", "organisation")
    }
    today = _today()
    out = []
    for row in rows:
        pid = int(str(row["person_id"]))
        person = people.get(pid)
        if person is None or row["smd"] != 1:
            continue
        dob = person.date_of_birth
        age = (
            None
            if dob is None
            else today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
        )
        lead = leads.get(pid)
        out.append(
            ByNameRow(
                person_id=pid,
                name=person.display_name,
                age=age,
                domains=[d for d in str(row["domains"]).split(";") if d],
                ed_attendances=int(str(row["ed_attendances"])),
                lead=f"{lead.worker}, {lead.organisation}" if lead else "",
                allocated_here=bool(lead and lead.organisation_id == ctx.organisation_id),
            )
        )
    _note_returned([r.person_id for r in out], action="by_name_list.view", basis="identification")
    return out


def person_for_allocation(ctx: AccessContext, person_id: int, cohort_ids: set[int]) -> Person:
    """A person on the by-name list whom this user may allocate (identification basis)."""
    _require_context()
    with rls.basis("identity"):
        person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
    if person is None or person_id not in cohort_ids or not may_identify(ctx):
        record_denied(person_id, action="by_name_list.allocate")
        raise PersonNotFound
    _note_returned([person_id], action="by_name_list.allocate", basis="identification")
    return person


# --- The barrier log: barriers are about services and rules; the person a barrier
# happened to is person data, shown only to those who may see that person.


def barriers_visible(ctx: AccessContext) -> QuerySet[Barrier]:
    """The barriers this user may see (``policy.may_see_barrier``)."""
    _require_context()
    rows = Barrier.objects.select_related("owner", "service", "group", "raised_by_organisation")
    if ctx.role == Role.BOARD_MEMBER:
        return rows
    if ctx.role == Role.MANAGER:
        return rows.filter(
            Q(owner_id=ctx.organisation_id) | Q(raised_by_organisation_id=ctx.organisation_id)
        )
    if policy.may_raise_barrier(role=ctx.role):
        return rows.filter(raised_by=ctx.user, raised_by_organisation_id=ctx.organisation_id)
    return rows.none()


def barrier_get(ctx: AccessContext, barrier_id: int) -> Barrier:
    """One barrier this user may see, or 404."""
    barrier = barriers_visible(ctx).filter(pk=barrier_id).first()
    if barrier is None:
        raise Http404("No such barrier")
    return barrier


def barrier_person(ctx: AccessContext, barrier: Barrier) -> PersonView | None:
    """The person a barrier happened to, when this user may see them (audited); else
    ``None``. The board never sees who it was."""
    _require_context()
    if ctx.role not in CASEWORK_ROLES:
        return None
    link = BarrierPerson.objects.filter(barrier=barrier).select_related("person").first()
    if link is None:
        return None
    views = _views(ctx, [link.person])
    if not views or not views[0].has_relationship:
        return None
    _note_returned([views[0].id], action="barrier.person")
    return views[0]


def feedback_visible(ctx: AccessContext) -> list[FeedbackResponse]:
    """People's feedback: a manager their organisation's, the board and analysts all (as
    aggregates only: the views never list single answers to them)."""
    _require_context()
    rows = FeedbackResponse.objects.all()
    if ctx.role == Role.MANAGER:
        return list(rows.filter(organisation_id=ctx.organisation_id))
    if ctx.role in {Role.BOARD_MEMBER, Role.ANALYST}:
        return list(rows)
    return []


def panel_meetings(ctx: AccessContext) -> list[PanelMeeting]:
    _require_context()
    if not policy.may_run_panel(role=ctx.role):
        return []
    return list(
        PanelMeeting.objects.annotate(
            waiting=Count("recommendations", filter=Q(recommendations__status="waiting"))
        ).prefetch_related("recommendations__organisation")
    )


def panel_meeting_get(ctx: AccessContext, meeting_id: int) -> PanelMeeting:
    _require_context()
    meeting = (
        PanelMeeting.objects.filter(pk=meeting_id)
        .prefetch_related("recommendations__organisation")
        .first()
    )
    if meeting is None or not policy.may_run_panel(role=ctx.role):
        raise Http404("No such meeting")
    return meeting


def recommendation_get(ctx: AccessContext, recommendation_id: int) -> Recommendation:
    _require_context()
    item = (
        Recommendation.objects.filter(pk=recommendation_id)
        .select_related("meeting", "organisation")
        .first()
    )
    if item is None or not policy.may_run_panel(role=ctx.role):
        raise Http404("No such recommendation")
    return item


# --- Measures


def person_completions(view: PersonView) -> list[Completion] | None:
    """A person's questionnaire completions, or ``None`` when they do not share their
    measures with this organisation."""
    _require_context()
    if not policy.may_see_measures(categories=view.categories):
        return None
    rows = list(
        Completion.objects.filter(person=view.person)
        .select_related("instrument", "organisation")
        .order_by("completed_on", "pk")
    )
    _note_returned([view.id], action="measures.view")
    return rows


def person_equality(view: PersonView) -> tuple[bool, Equality | None]:
    """Whether this user may see the person's equality monitoring, and the record."""
    _require_context()
    if not policy.may_see_equality(categories=view.categories):
        return False, None
    _note_returned([view.id], action="equality.view")
    return True, Equality.objects.filter(person=view.person).first()


# --- The privacy officer's review queue: break glass and claimed relationships that
# affected their organisation. They see who acted, why and when, not the record.


def privacy_reviews(ctx: AccessContext, *, pending_only: bool = False) -> list[PrivacyReview]:
    _require_context()
    if not policy.may_review_privacy(role=ctx.role, affected=True):
        return []
    rows = PrivacyReview.objects.filter(organisation_id=ctx.organisation_id)
    if pending_only:
        rows = rows.filter(status=PrivacyReview.Status.PENDING)
    reviews = list(
        rows.select_related(
            "requested_by", "requested_by_organisation", "break_glass", "relationship",
            "reviewed_by",
        ).order_by("status", "-requested_at", "-id")[:300]
    )  # fmt: skip
    _note_returned(sorted({r.person_id for r in reviews}), action="privacy_review.list")
    return reviews


def privacy_review_get(ctx: AccessContext, review_id: int) -> PrivacyReview:
    """One review of this privacy officer's organisation, or 404 (audited)."""
    _require_context()
    review = (
        PrivacyReview.objects.filter(pk=review_id)
        .select_related(
            "requested_by", "requested_by_organisation", "break_glass", "relationship",
            "reviewed_by", "organisation",
        )
        .first()
    )  # fmt: skip
    if review is None or not policy.may_review_privacy(
        role=ctx.role, affected=review.organisation_id == ctx.organisation_id
    ):
        record_denied(review_id, action="privacy_review.view")
        raise Http404("No such review")
    _note_returned([review.person_id], action="privacy_review.view")
    return review


def person_contacts_visible(ctx: AccessContext, view: PersonView) -> QuerySet[Contact]:
    """The person's contacts this user may see as far as sealing goes (rule 6)."""
    return Contact.objects.filter(person_id=view.id).filter(sealed_visible(ctx, view))


# --- FHIR exchange (ADR 0020): the parts of one person's record a FHIR Bundle carries
# that no other scope function hands out. The person itself comes from ``person_get``.


def person_feed_events(ctx: AccessContext, view: PersonView) -> list[TimelineEvent]:
    """The person's timeline events that came from partner feeds, with their records, as
    far as this user may see them (their categories; sealed entries only to their own
    organisation)."""
    allowed = {c.value for c in view.categories}
    return list(
        TimelineEvent.objects.filter(
            person_id=view.id, category__in=allowed, source_record__isnull=False
        )
        .filter(sealed_visible(ctx, view))
        .select_related("organisation", "source_record__source__organisation")
        .order_by("occurred_on", "pk")
    )


def person_referrals(ctx: AccessContext, view: PersonView) -> list[Referral]:
    """The person's referrals sent by or to this user's organisation (what ``referral_get``
    would show them one by one)."""
    if ctx.role not in CASEWORK_ROLES:
        return []
    return list(
        Referral.objects.filter(person_id=view.id)
        .filter(
            Q(to_organisation_id=ctx.organisation_id) | Q(from_organisation_id=ctx.organisation_id)
        )
        .select_related("from_organisation", "to_organisation", "service")
        .order_by("created_at", "pk")
    )


def person_sharing_decisions(ctx: AccessContext, view: PersonView) -> list[SharingDecision]:
    """The person's sharing decisions, for users who may record them (the sharing page's
    rule); nobody else sees what the person agreed with other organisations."""
    if view.read_only or not policy.may_record_sharing(
        role=ctx.role, has_relationship=view.has_relationship
    ):
        return []
    return sharing_decisions(ctx, view.person)
