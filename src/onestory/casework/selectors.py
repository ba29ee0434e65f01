"""Reads for one-to-one support, always for a person ``access.scope`` has authorised.

Each function takes the ``PersonView`` (the person as this user may see them) and returns
only the categories that view allows; the scope call that produced the view has already
put the person in the request's audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from onestory.access import scope
from onestory.access.context import AccessContext
from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import CASEWORK_ROLES, Category, Role
from onestory.access.scope import PersonView
from onestory.casework.models import (
    Allocation,
    Closure,
    Contact,
    Death,
    Goal,
    MigrationRun,
    PersonVisit,
    Review,
    SafeguardingConcern,
    SafetyMarker,
    Spend,
    Step,
    SupportPlan,
    SupportPlanVersion,
)
from onestory.people.models import TimelineEvent

# Events that matter before the next visit ("new since my last visit" on My caseload).
NOTABLE_EVENTS = ("attendance", "arrest", "custody", "release", "eviction", "crisis_contact",
                  "admission", "mha_detention", "marac_referral")  # fmt: skip


def allocations(view: PersonView, *, current_only: bool = True) -> list[Allocation]:
    """Who supports the person (identity-level: anyone who may open the person sees it)."""
    rows = Allocation.objects.filter(person=view.person).select_related("worker", "organisation")
    if current_only:
        rows = rows.filter(ended_on__isnull=True)
    return list(rows)


def allocation_history(view: PersonView) -> list[Allocation]:
    return allocations(view, current_only=False)


@dataclass(frozen=True)
class Persistence:
    """How contact is going: the last successful contact and the attempts since."""

    last_contact: date | None
    attempts_since: int
    not_seen_days: int

    @property
    def days_since(self) -> int | None:
        if self.last_contact is None:
            return None
        return (timezone.localdate() - self.last_contact).days

    @property
    def flagged(self) -> bool:
        days = self.days_since
        return days is None or days >= self.not_seen_days


def persistence(
    person_ids: list[int], organisation_id: int | None = None
) -> dict[int, Persistence]:
    """Persistence for each person, from every organisation's contacts (or one's)."""
    cfg: dict[str, Any] = settings.ONESTORY
    limit = int(cfg["NOT_SEEN_DAYS"])
    rows = Contact.objects.filter(person_id__in=person_ids)
    if organisation_id is not None:
        rows = rows.filter(organisation_id=organisation_id)
    last: dict[int, date] = {}
    attempts: dict[int, list[date]] = {}
    for person_id, occurred_on, successful in rows.values_list(
        "person_id", "occurred_on", "successful"
    ):
        if successful:
            last[person_id] = max(last.get(person_id, occurred_on), occurred_on)
        else:
            attempts.setdefault(person_id, []).append(occurred_on)
    result = {}
    for pid in person_ids:
        seen = last.get(pid)
        tried = [d for d in attempts.get(pid, []) if seen is None or d > seen]
        result[pid] = Persistence(seen, len(tried), limit)
    return result


def contacts(ctx: AccessContext, view: PersonView) -> list[Contact] | None:
    """The contact log, or ``None`` when this user may not see case notes; another
    organisation's sealed contacts are left out (rule 6)."""
    if not view.can_see(Category.CASE_NOTES):
        return None
    return list(scope.person_contacts_visible(ctx, view).select_related("worker", "organisation"))


def reviews(view: PersonView) -> list[Review] | None:
    if not view.can_see(Category.SUPPORT_PLAN):
        return None
    return list(
        Review.objects.filter(person=view.person)
        .select_related("organisation", "scheduled_by")
        .prefetch_related("organisations")
    )


def review_get(view: PersonView, review_id: int) -> Review | None:
    if not view.can_see(Category.SUPPORT_PLAN):
        return None
    return Review.objects.filter(person=view.person, pk=review_id).first()


def closures(view: PersonView) -> list[Closure]:
    if not view.can_see(Category.CASE_NOTES):
        return []
    return list(Closure.objects.filter(person=view.person).select_related("organisation"))


@dataclass
class Plan:
    plan: SupportPlan | None
    goals: list[Goal] = field(default_factory=list)


def plan(view: PersonView) -> Plan | None:
    """The support plan with its goals, steps and progress notes, or ``None`` when this
    user may not see it."""
    if not view.can_see(Category.SUPPORT_PLAN):
        return None
    goals = list(
        Goal.objects.filter(person=view.person)
        .select_related("organisation", "created_by")
        .prefetch_related(
            Prefetch("steps", queryset=Step.objects.select_related("organisation")),
            "progress_notes__recorded_by",
            "progress_notes__organisation",
        )
    )
    return Plan(SupportPlan.objects.filter(person=view.person).first(), goals)


def plan_versions(view: PersonView) -> list[SupportPlanVersion] | None:
    """Every kept wording of the plan, newest first (rule 8)."""
    if not view.can_see(Category.SUPPORT_PLAN):
        return None
    return list(
        SupportPlanVersion.objects.filter(plan__person=view.person).select_related(
            "recorded_by", "recorded_by_organisation"
        )
    )


def goal_get(view: PersonView, goal_id: int) -> Goal | None:
    if not view.can_see(Category.SUPPORT_PLAN):
        return None
    return (
        Goal.objects.filter(person=view.person, pk=goal_id)
        .prefetch_related(
            Prefetch("steps", queryset=Step.objects.select_related("organisation")),
            "progress_notes__recorded_by",
        )
        .first()
    )


def step_get(goal: Goal, step_id: int) -> Step | None:
    return Step.objects.filter(goal=goal, pk=step_id).first()


def safety_markers(view: PersonView, *, current_only: bool = True) -> list[SafetyMarker] | None:
    if not view.can_see(Category.SAFETY):
        return None
    rows = SafetyMarker.objects.filter(person=view.person).select_related(
        "organisation", "recorded_by"
    )
    if current_only:
        rows = rows.filter(ended_on__isnull=True)
    return list(rows)


def safety_marker_get(view: PersonView, marker_id: int) -> SafetyMarker | None:
    if not view.can_see(Category.SAFETY):
        return None
    return SafetyMarker.objects.filter(person=view.person, pk=marker_id).first()


def safeguarding_concerns(view: PersonView) -> list[SafeguardingConcern] | None:
    if not view.can_see(Category.SAFETY):
        return None
    return list(
        SafeguardingConcern.objects.filter(person=view.person)
        .select_related("organisation", "sent_to", "raised_by")
        .prefetch_related("updates__recorded_by")
    )


def death(view: PersonView) -> Death | None:
    return Death.objects.filter(person=view.person).first()


def spends(view: PersonView) -> list[Spend] | None:
    if not view.can_see(Category.CASE_NOTES):
        return None
    return list(
        Spend.objects.filter(person=view.person).select_related(
            "worker", "approved_by", "organisation"
        )
    )


def team_organisations(ctx: AccessContext, view: PersonView) -> list[Organisation]:
    """Organisations with a current relationship: the ones a step can be given to."""
    return sorted({r.organisation for r in scope.team(ctx, view)}, key=lambda o: o.name)


def caseload_workers(organisation_id: int) -> list[User]:
    """People in the organisation who hold casework roles (to allocate to)."""
    ids = Membership.objects.filter(
        organisation_id=organisation_id, role__in=[r.value for r in CASEWORK_ROLES]
    ).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("first_name", "last_name"))


def managers(organisation_id: int) -> list[User]:
    ids = Membership.objects.filter(organisation_id=organisation_id, role=Role.MANAGER).values(
        "user_id"
    )
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("first_name"))


@dataclass(frozen=True)
class CaseloadRow:
    view: PersonView
    allocation: Allocation
    lead: Allocation | None
    persistence: Persistence | None
    next_review: date | None
    safety: list[SafetyMarker] | None
    new_events: list[TimelineEvent]
    open_steps: list[Step]
    overdue_reviews: int
    ndta_due: bool = False  # the NDTA is repeated on a schedule (the instrument's setting)


def my_caseload(ctx: AccessContext) -> list[CaseloadRow]:
    """The user's caseload: each person as they may see them, with what needs attention."""
    views = scope.caseload(ctx)
    if not views:
        return []
    ids = [v.id for v in views]
    mine = {
        a.person_id: a
        for a in Allocation.objects.filter(
            worker=ctx.user,
            organisation_id=ctx.organisation_id,
            ended_on__isnull=True,
            person_id__in=ids,
        )
    }
    leads = {
        a.person_id: a
        for a in Allocation.objects.filter(
            person_id__in=ids, kind=Allocation.Kind.LEAD, ended_on__isnull=True
        ).select_related("worker", "organisation")
    }
    contact = persistence(ids)
    today = timezone.localdate()
    review_rows = Review.objects.filter(person_id__in=ids, held_on__isnull=True).values_list(
        "person_id", "due_on"
    )
    next_review: dict[int, date] = {}
    overdue: dict[int, int] = {}
    for pid, due in review_rows:
        next_review[pid] = min(next_review.get(pid, due), due)
        if due < today:
            overdue[pid] = overdue.get(pid, 0) + 1
    markers: dict[int, list[SafetyMarker]] = {}
    for marker in SafetyMarker.objects.filter(person_id__in=ids, ended_on__isnull=True):
        markers.setdefault(marker.person_id, []).append(marker)
    visits: dict[int, datetime] = dict(
        PersonVisit.objects.filter(user=ctx.user, person_id__in=ids).values_list(
            "person_id", "seen_at"
        )
    )
    steps: dict[int, list[Step]] = {}
    for step in Step.objects.filter(
        goal__person_id__in=ids,
        goal__status=Goal.Status.ACTIVE,
        organisation_id=ctx.organisation_id,
        done_on__isnull=True,
    ).select_related("goal"):
        steps.setdefault(step.goal.person_id, []).append(step)
    ndta_due = _ndta_due(ids, today)
    # What is new since each person's last visit, for everyone on the caseload in one query
    # (then narrowed per person to what they may see), rather than one query a person.
    default_since = timezone.now() - timedelta(days=14)
    since_of = {pid: visits.get(pid) or default_since for pid in ids}
    new_by_person: dict[int, list[TimelineEvent]] = {}
    for event in (
        TimelineEvent.objects.filter(
            person_id__in=ids,
            event_type__in=NOTABLE_EVENTS,
            created_at__gt=min(since_of.values()),
        )
        .filter(Q(sealed=False) | Q(organisation_id=ctx.organisation_id))
        .select_related("organisation")
        .order_by("-occurred_on", "-id")
    ):
        if event.created_at > since_of[event.person_id]:
            new_by_person.setdefault(event.person_id, []).append(event)
    rows = []
    for view in views:
        allowed = {c.value for c in view.categories}
        events = [e for e in new_by_person.get(view.id, []) if e.category in allowed][:5]
        rows.append(
            CaseloadRow(
                view=view,
                allocation=mine[view.id],
                lead=leads.get(view.id),
                persistence=contact[view.id] if view.can_see(Category.CASE_NOTES) else None,
                next_review=next_review.get(view.id)
                if view.can_see(Category.SUPPORT_PLAN)
                else None,
                safety=markers.get(view.id, []) if view.can_see(Category.SAFETY) else None,
                new_events=events,
                open_steps=steps.get(view.id, []) if view.can_see(Category.SUPPORT_PLAN) else [],
                ndta_due=view.id in ndta_due and view.can_see(Category.MEASURES),
                overdue_reviews=overdue.get(view.id, 0)
                if view.can_see(Category.SUPPORT_PLAN)
                else 0,
            )
        )
    rows.sort(
        key=lambda r: (
            not (r.persistence.flagged if r.persistence else False),
            r.view.person.family_name,
        )
    )
    return rows


def spend_report(organisation_id: int) -> list[dict[str, Any]]:
    """Spends by worker and category, this financial year: totals only."""
    today = timezone.localdate()
    year_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    rows = (
        Spend.objects.filter(organisation_id=organisation_id, spent_on__gte=year_start)
        .values("worker__first_name", "worker__last_name", "worker__username", "kind")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("worker__first_name", "kind")
    )
    labels = dict(Spend.Kind.choices)
    return [
        {
            "worker": f"{r['worker__first_name']} {r['worker__last_name']}".strip()
            or r["worker__username"],
            "kind": labels.get(r["kind"], r["kind"]),
            "total": r["total"],
            "count": r["count"],
        }
        for r in rows
    ]


def migration_runs(organisation_id: int) -> list[MigrationRun]:
    return list(MigrationRun.objects.filter(organisation_id=organisation_id)[:20])


def migration_run_get(organisation_id: int, run_id: int) -> MigrationRun | None:
    return MigrationRun.objects.filter(organisation_id=organisation_id, pk=run_id).first()


def _ndta_due(ids: list[int], today: date) -> set[int]:
    """People whose last NDTA is older than its repeat interval, or who have none."""
    from onestory.measures.models import Completion, Instrument

    instrument = Instrument.objects.filter(code="ndta", active=True).order_by("-version").first()
    every = int((instrument.definition if instrument else {}).get("repeat_days") or 91)
    last: dict[int, date] = {}
    for person_id, day in Completion.objects.filter(
        person_id__in=ids, instrument__code="ndta"
    ).values_list("person_id", "completed_on"):
        last[person_id] = max(last.get(person_id, day), day)
    return {p for p in ids if p not in last or (today - last[p]).days > every}
