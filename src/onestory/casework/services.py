"""Writes for one-to-one support. Each takes ``actor=`` (the acting user's context), checks
the policy for the person as the actor may see them, and is audited explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from onestory.access import policy
from onestory.access.context import AccessContext
from onestory.access.models import Membership, Organisation, User
from onestory.access.roles import Category, Role
from onestory.access.scope import PersonView, current_relationships
from onestory.audit import services as audit
from onestory.casework.models import (
    Allocation,
    Budget,
    Closure,
    Contact,
    Death,
    EntryRevision,
    Goal,
    PersonVisit,
    ProgressNote,
    Review,
    SafeguardingConcern,
    SafeguardingUpdate,
    SafetyMarker,
    Spend,
    Step,
    SupportPlan,
    SupportPlanVersion,
)
from onestory.consent.models import SharingBasis, SharingDecision
from onestory.core import rls
from onestory.people.models import Person, Relationship


class CaseworkError(ValueError):
    """A refused action; the message says why, in plain English, for the person acting."""


class OverCap(CaseworkError):
    """The worker's caseload is full: a manager's agreement is needed."""


class StaleVersion(CaseworkError):
    """Someone else saved first; reload and try again."""


def setting(name: str) -> int:
    """A whole-number casework setting (``settings.ONESTORY``)."""
    cfg: dict[str, Any] = settings.ONESTORY
    return int(cfg[name])


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise CaseworkError(message)


def caseload_size(worker: User, organisation_id: int) -> int:
    """People the worker is allocated to now (as lead or co-worker) in this organisation."""
    return (
        Allocation.objects.filter(
            worker=worker, organisation_id=organisation_id, ended_on__isnull=True
        )
        .values("person_id")
        .distinct()
        .count()
    )


def _caseload_relationship(
    person: Person, organisation: Organisation, worker: User
) -> Relationship:
    relationship = (
        current_relationships(organisation.pk)
        .filter(person=person, kind=Relationship.Kind.CASELOAD)
        .first()
    )
    if relationship is None:
        relationship = Relationship.objects.create(
            person=person,
            organisation=organisation,
            kind=Relationship.Kind.CASELOAD,
            worker=worker,
            started_on=timezone.localdate(),
        )
    return relationship


def allocation_create(
    *,
    actor: AccessContext,
    person: Person,
    worker: User,
    kind: str,
    handover_note: str = "",
    agree_over_cap: bool = False,
) -> Allocation:
    """Put ``person`` on ``worker``'s caseload in the actor's organisation.

    A new lead worker ends the current lead's allocation with the handover note (history
    stays). Allocation creates the caseload relationship (rule 3). Past the cap the
    allocation needs a manager's agreement (``agree_over_cap`` by a manager).
    """
    _require(
        policy.may_allocate(role=actor.role, to_self=worker.pk == actor.user.pk),
        "Only a manager can allocate someone to another worker.",
    )
    _require(
        Membership.objects.filter(
            user=worker,
            organisation_id=actor.organisation_id,
            role__in=[Role.NAVIGATOR, Role.PRACTITIONER, Role.PEER_MENTOR, Role.MANAGER],
        ).exists(),
        "That worker does not do casework in your organisation.",
    )
    cap = setting("CASELOAD_CAP")
    today = timezone.localdate()
    with transaction.atomic():
        # Serialise allocations to this worker so two at once cannot both slip under the cap.
        User.objects.select_for_update().filter(pk=worker.pk).first()
        current = Allocation.objects.filter(
            person=person, organisation_id=actor.organisation_id, ended_on__isnull=True
        )
        if current.filter(worker=worker, kind=kind).exists():
            raise CaseworkError(f"{worker.get_full_name() or worker} is already allocated.")
        size = caseload_size(worker, actor.organisation_id)
        already_on = current.filter(worker=worker).exists()
        over = not already_on and size >= cap
        if over and not (agree_over_cap and policy.may_exceed_cap(role=actor.role)):
            raise OverCap(
                f"{worker.get_full_name() or worker} already has {size} people, the cap is "
                f"{cap}. A manager must agree to go over it."
            )
        ended = []
        if kind == Allocation.Kind.LEAD:
            for old in current.filter(kind=Allocation.Kind.LEAD).exclude(worker=worker):
                old.ended_on = today
                old.handover_note = handover_note
                old.save(update_fields=["ended_on", "handover_note"])
                ended.append(old.pk)
        # The same worker moving between lead and co-worker: one current row each.
        current.filter(worker=worker).update(ended_on=today)
        relationship = _caseload_relationship(person, actor.organisation, worker)
        if kind == Allocation.Kind.LEAD:
            Relationship.objects.filter(pk=relationship.pk).update(worker=worker)
        allocation = Allocation.objects.create(
            person=person,
            organisation=actor.organisation,
            worker=worker,
            kind=kind,
            started_on=today,
            handover_note=handover_note if ended else "",
            over_cap_agreed_by=actor.user if over else None,
            allocated_by=actor.user,
            relationship=relationship,
        )
        audit.record(
            actor=actor.actor,
            action="allocation.create",
            persons=[person.pk],
            detail={
                "worker": worker.username,
                "kind": kind,
                "over_cap": over,
                "ended": ended,
            },
        )
    return allocation


def person_add(
    *,
    actor: AccessContext,
    given_name: str,
    family_name: str,
    preferred_name: str = "",
    date_of_birth: date | None = None,
) -> Person:
    """Someone met on outreach who is not in the index yet: a new person, on the actor's
    caseload (which gives the relationship to record their sharing decision)."""
    _require(
        policy.may_allocate(role=actor.role, to_self=True),
        "Only navigators and managers add people.",
    )
    # The new person is no one's yet, so the system adds them on the actor's behalf.
    with transaction.atomic(), rls.system():
        person = Person.objects.create(
            given_name=given_name,
            family_name=family_name,
            preferred_name=preferred_name,
            date_of_birth=date_of_birth,
        )
        audit.record(actor=actor.actor, action="person.add", persons=[person.pk])
        allocation_create(actor=actor, person=person, worker=actor.user, kind=Allocation.Kind.LEAD)
    return person


def contact_record(
    *,
    actor: AccessContext,
    view: PersonView,
    occurred_on: date,
    method: str,
    successful: bool,
    where: str = "",
    who: str = "",
    note: str = "",
) -> Contact:
    _require(policy.may_record_contact(role=actor.role), "Your role cannot record contacts.")
    _require(occurred_on <= timezone.localdate(), "The date of a contact cannot be in the future.")
    # A peer mentor records contacts without reading case notes back (rule 5), so the row
    # is written on their behalf (ADR 0022).
    with transaction.atomic(), rls.system():
        contact = Contact.objects.create(
            person=view.person,
            organisation=actor.organisation,
            worker=actor.user,
            occurred_on=occurred_on,
            method=method,
            successful=successful,
            where=where,
            who=who,
            note=note,
        )
        audit.record(
            actor=actor.actor,
            action="contact.record",
            persons=[view.id],
            detail={"contact": contact.pk, "successful": successful},
        )
    return contact


def review_schedule(
    *, actor: AccessContext, view: PersonView, kind: str, due_on: date, notes: str = ""
) -> Review:
    _require(
        policy.may_edit_plan(role=actor.role, categories=view.categories),
        "Your role cannot schedule reviews for this person.",
    )
    with transaction.atomic():
        review = Review.objects.create(
            person=view.person,
            organisation=actor.organisation,
            kind=kind,
            due_on=due_on,
            notes=notes,
            scheduled_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="review.schedule",
            persons=[view.id],
            detail={"review": review.pk, "kind": kind, "due_on": due_on.isoformat()},
        )
    return review


def _revise(
    actor: AccessContext, kind: str, entry_id: int, person_id: int, values: dict[str, Any]
) -> EntryRevision:
    """Append the entry's new version (rule 8), as the labels and words a reader sees. The
    lock on the entry's latest revision numbers concurrent saves one after the other."""
    latest = (
        EntryRevision.objects.select_for_update()
        .filter(kind=kind, entry_id=entry_id)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return EntryRevision.objects.create(
        kind=kind,
        entry_id=entry_id,
        person_id=person_id,
        number=(latest or 0) + 1,
        values=values,
        recorded_by=actor.user,
        organisation=actor.organisation,
    )


def entry_revisions(kind: str, entry_id: int) -> list[EntryRevision]:
    """Every version of an entry, newest first (for the entry's own page)."""
    return list(
        EntryRevision.objects.filter(kind=kind, entry_id=entry_id).select_related(
            "recorded_by", "organisation"
        )
    )


def review_hold(
    *,
    actor: AccessContext,
    view: PersonView,
    review: Review,
    held_on: date,
    organisations: list[Organisation],
    notes: str,
) -> Review:
    """Record that a review took place, who took part and what was agreed."""
    _require(
        policy.may_edit_plan(role=actor.role, categories=view.categories),
        "Your role cannot record reviews for this person.",
    )
    _require(review.organisation_id == actor.organisation_id, "Only the organisation that "
             "scheduled a review records it.")  # fmt: skip
    _require(held_on <= timezone.localdate(), "A review cannot be held in the future.")
    if review.kind == Review.Kind.ENGAGEMENT:
        _require(bool(organisations), "Say which organisations took part in the review.")
    with transaction.atomic():
        review.held_on = held_on
        review.notes = notes
        review.save(update_fields=["held_on", "notes"])
        review.organisations.set(organisations)
        _revise(
            actor,
            EntryRevision.Kind.REVIEW,
            review.pk,
            view.id,
            {
                "Held on": held_on.strftime("%-d %B %Y"),
                "Organisations that took part": ", ".join(sorted(o.name for o in organisations)),
                "What was agreed": notes,
            },
        )
        audit.record(
            actor=actor.actor,
            action="review.hold",
            persons=[view.id],
            detail={"review": review.pk, "organisations": [o.pk for o in organisations]},
        )
    return review


def support_close(
    *,
    actor: AccessContext,
    view: PersonView,
    reason: str,
    closed_on: date,
    note: str = "",
    died_on: date | None = None,
) -> Closure:
    """End the actor's organisation's support for the person, for a recorded reason.

    "Not engaging" is refused; declining is accepted only after a recent multi-agency
    review of engagement. A death is recorded for review.
    """
    _require(policy.may_close_support(role=actor.role), "Only a manager can close support.")
    since = timezone.localdate() - timedelta(days=setting("DECLINE_REVIEW_DAYS"))
    review = (
        Review.objects.filter(
            person=view.person,
            organisation_id=actor.organisation_id,
            kind=Review.Kind.ENGAGEMENT,
            held_on__gte=since,
        )
        .exclude(organisations=None)
        .order_by("-held_on")
        .first()
    )
    refusal = policy.closure_refusal(reason=reason, recent_engagement_review=review is not None)
    if refusal:
        raise CaseworkError(refusal)
    if reason not in Closure.Reason.values:
        raise CaseworkError("Choose why support is ending.")
    active = Allocation.objects.filter(
        person=view.person, organisation_id=actor.organisation_id, ended_on__isnull=True
    )
    _require(active.exists(), "This person has no current support from your organisation.")
    with transaction.atomic():
        closure = Closure.objects.create(
            person=view.person,
            organisation=actor.organisation,
            reason=reason,
            closed_on=closed_on,
            note=note,
            review=review if reason == Closure.Reason.DECLINED else None,
            closed_by=actor.user,
        )
        active.update(ended_on=closed_on)
        Relationship.objects.filter(
            person=view.person,
            organisation_id=actor.organisation_id,
            kind=Relationship.Kind.CASELOAD,
            ended_on__isnull=True,
        ).update(ended_on=closed_on)
        if reason == Closure.Reason.DIED:
            Death.objects.get_or_create(
                person=view.person,
                defaults={
                    "died_on": died_on,
                    "circumstances": note,
                    "organisation": actor.organisation,
                    "recorded_by": actor.user,
                },
            )
        audit.record(
            actor=actor.actor,
            action="support.close",
            persons=[view.id],
            detail={"closure": closure.pk, "reason": reason},
        )
    return closure


def plan_save(
    *,
    actor: AccessContext,
    view: PersonView,
    aspirations: str,
    strengths: str,
    based_on_version: int,
) -> SupportPlan:
    """Save the plan's aspirations and strengths as a new version that supersedes the
    last; every earlier version is kept (rule 8). A concurrent edit is refused, not lost."""
    _require(
        policy.may_edit_plan(role=actor.role, categories=view.categories),
        "Your role cannot change this person's plan.",
    )
    with transaction.atomic():
        plan = SupportPlan.objects.select_for_update().filter(person=view.person).first()
        if plan is None:
            if based_on_version != 0:
                raise StaleVersion("The plan changed while you were editing it.")
            plan = SupportPlan.objects.create(
                person=view.person,
                aspirations=aspirations,
                strengths=strengths,
                updated_by=actor.user,
                updated_by_organisation=actor.organisation,
            )
        else:
            updated = SupportPlan.objects.filter(pk=plan.pk, version=based_on_version).update(
                aspirations=aspirations,
                strengths=strengths,
                version=F("version") + 1,
                updated_by=actor.user,
                updated_by_organisation=actor.organisation,
                updated_at=timezone.now(),
            )
            if not updated:
                raise StaleVersion(
                    "Someone else changed the plan while you were editing it. Your words are "
                    "below; reload the page to see theirs."
                )
            plan.refresh_from_db()
        try:
            with transaction.atomic():
                SupportPlanVersion.objects.create(
                    plan=plan,
                    version=plan.version,
                    aspirations=aspirations,
                    strengths=strengths,
                    recorded_by=actor.user,
                    recorded_by_organisation=actor.organisation,
                )
        except IntegrityError as exc:  # the unique (plan, version): no lost update
            raise StaleVersion("The plan changed while you were editing it.") from exc
        audit.record(
            actor=actor.actor,
            action="plan.save",
            persons=[view.id],
            detail={"version": plan.version},
        )
    return plan


def goal_create(
    *,
    actor: AccessContext,
    view: PersonView,
    in_their_words: str,
    target_on: date | None,
    review_on: date | None,
) -> Goal:
    _require(
        policy.may_edit_plan(role=actor.role, categories=view.categories),
        "Your role cannot set goals for this person.",
    )
    with transaction.atomic():
        goal = Goal.objects.create(
            person=view.person,
            organisation=actor.organisation,
            in_their_words=in_their_words,
            target_on=target_on,
            review_on=review_on,
            created_by=actor.user,
        )
        audit.record(
            actor=actor.actor, action="goal.create", persons=[view.id], detail={"goal": goal.pk}
        )
    return goal


def goal_set_status(
    *, actor: AccessContext, view: PersonView, goal: Goal, status: str, based_on_version: int
) -> Goal:
    _require(
        policy.may_edit_plan(role=actor.role, categories=view.categories),
        "Your role cannot change this person's goals.",
    )
    _require(status in Goal.Status.values, "Choose how the goal stands.")
    with transaction.atomic():
        updated = Goal.objects.filter(pk=goal.pk, version=based_on_version).update(
            status=status, status_changed_on=timezone.localdate(), version=F("version") + 1
        )
        if not updated:
            raise StaleVersion("Someone else changed this goal first. Reload the page.")
        goal.refresh_from_db()
        audit.record(
            actor=actor.actor,
            action="goal.status",
            persons=[view.id],
            detail={"goal": goal.pk, "status": status},
        )
    return goal


def step_add(
    *,
    actor: AccessContext,
    view: PersonView,
    goal: Goal,
    description: str,
    organisation: Organisation,
    helper: str = "",
    target_on: date | None = None,
) -> Step:
    """A step, and the organisation that helps with it: one the person already works with."""
    _require(
        policy.may_edit_plan(role=actor.role, categories=view.categories),
        "Your role cannot change this person's plan.",
    )
    _require(
        current_relationships(organisation.pk).filter(person_id=view.id).exists(),
        f"{organisation} does not work with this person yet. Refer them first, or choose an "
        f"organisation in the team around the person.",
    )
    with transaction.atomic():
        step = Step.objects.create(
            goal=goal,
            description=description,
            organisation=organisation,
            helper=helper,
            target_on=target_on,
            created_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="step.add",
            persons=[view.id],
            detail={"goal": goal.pk, "step": step.pk, "organisation": organisation.pk},
        )
    return step


def step_done(*, actor: AccessContext, view: PersonView, step: Step) -> Step:
    _require(
        policy.may_add_progress(role=actor.role, categories=view.categories),
        "Your role cannot update this person's plan.",
    )
    with transaction.atomic():
        Step.objects.filter(pk=step.pk, done_on__isnull=True).update(done_on=timezone.localdate())
        step.refresh_from_db()
        audit.record(
            actor=actor.actor, action="step.done", persons=[view.id], detail={"step": step.pk}
        )
    return step


def progress_add(*, actor: AccessContext, view: PersonView, goal: Goal, text: str) -> ProgressNote:
    _require(
        policy.may_add_progress(role=actor.role, categories=view.categories),
        "Your role cannot add progress notes for this person.",
    )
    with transaction.atomic():
        note = ProgressNote.objects.create(
            goal=goal, text=text, organisation=actor.organisation, recorded_by=actor.user
        )
        audit.record(
            actor=actor.actor, action="progress.add", persons=[view.id], detail={"goal": goal.pk}
        )
    return note


def safety_marker_add(
    *,
    actor: AccessContext,
    view: PersonView,
    kind: str,
    detail: str,
    review_on: date | None = None,
) -> SafetyMarker:
    _require(
        policy.may_record_safety(role=actor.role, categories=view.categories),
        "Your role cannot record safety information for this person.",
    )
    with transaction.atomic():
        marker = SafetyMarker.objects.create(
            person=view.person,
            organisation=actor.organisation,
            kind=kind,
            detail=detail,
            review_on=review_on,
            recorded_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="safety.add",
            persons=[view.id],
            detail={"marker": marker.pk, "kind": kind},
        )
    return marker


def safety_marker_end(*, actor: AccessContext, view: PersonView, marker: SafetyMarker) -> None:
    _require(
        policy.may_record_safety(role=actor.role, categories=view.categories)
        and marker.organisation_id == actor.organisation_id,
        "Only the organisation that recorded a safety marker can end it.",
    )
    with transaction.atomic():
        SafetyMarker.objects.filter(pk=marker.pk, ended_on__isnull=True).update(
            ended_on=timezone.localdate(), ended_by=actor.user
        )
        audit.record(
            actor=actor.actor, action="safety.end", persons=[view.id], detail={"marker": marker.pk}
        )


def safeguarding_routes(kind: str) -> list[Organisation]:
    """The organisations that take this kind of safeguarding concern (settings)."""
    cfg: dict[str, Any] = settings.ONESTORY
    org_type = cfg["SAFEGUARDING_ROUTES"].get(kind)
    return list(Organisation.objects.filter(org_type=org_type, is_active=True).order_by("name"))


# What the receiving organisation may see under the safeguarding override (rule 4).
SAFEGUARDING_SHARE = [
    Category.CONTACT_LOCATION.value,
    Category.ABOUT_ME.value,
    Category.SAFETY.value,
]


def safeguarding_raise(
    *,
    actor: AccessContext,
    view: PersonView,
    kind: str,
    concern: str,
    immediate_risk: bool,
    sent_to: Organisation | None = None,
) -> SafeguardingConcern:
    """Raise a concern and send it to the organisation that handles it.

    The concern is recorded with a safeguarding override (rule 4) so the receiving
    organisation can open the person's contact, About me and safety information, and a
    safeguarding relationship (rule 3) for as long as the enquiry lasts.
    """
    _require(policy.may_raise_safeguarding(role=actor.role), "Your role cannot raise concerns.")
    routes = safeguarding_routes(kind)
    if not routes:
        label = SafeguardingConcern.Kind(kind).label.lower()
        raise CaseworkError(
            f"No organisation in OneStory takes {label} safeguarding concerns. Ask an "
            f"administrator to add one, and phone your local authority now."
        )
    if sent_to is None:
        if len(routes) > 1:
            raise CaseworkError("Choose which organisation to send the concern to.")
        sent_to = routes[0]
    _require(sent_to in routes, f"{sent_to} does not take this kind of concern.")
    today = timezone.localdate()
    with transaction.atomic():
        item = SafeguardingConcern.objects.create(
            person=view.person,
            organisation=actor.organisation,
            kind=kind,
            concern=concern,
            immediate_risk=immediate_risk,
            sent_to=sent_to,
            raised_by=actor.user,
        )
        SafeguardingUpdate.objects.create(
            concern=item,
            status=SafeguardingConcern.Status.SENT,
            note=f"Sent to {sent_to}.",
            organisation=actor.organisation,
            recorded_by=actor.user,
        )
        Relationship.objects.create(
            person=view.person,
            organisation=sent_to,
            kind=Relationship.Kind.SAFEGUARDING,
            started_on=today,
            role_description=f"{SafeguardingConcern.Kind(kind).label} concern",
        )
        SharingDecision.objects.create(
            person=view.person,
            organisation=sent_to,
            categories=SAFEGUARDING_SHARE,
            basis=SharingBasis.SAFEGUARDING,
            notes=f"Safeguarding concern {item.pk} raised by {actor.organisation}.",
            recorded_by=actor.user,
            recorded_by_organisation=actor.organisation,
            review_on=today + timedelta(days=90),
        )
        audit.record(
            actor=actor.actor,
            action="safeguarding.raise",
            persons=[view.id],
            basis="safeguarding",
            detail={"concern": item.pk, "kind": kind, "sent_to": sent_to.pk},
        )
    return item


def safeguarding_update(
    *,
    actor: AccessContext,
    concern: SafeguardingConcern,
    status: str,
    note: str,
    based_on_version: int,
) -> SafeguardingConcern:
    """The receiving organisation tracks the concern: acknowledged, enquiry, closed."""
    _require(
        concern.sent_to_id == actor.organisation_id and actor.role in policy.CONTACT_ROLES,
        "Only the organisation the concern was sent to can update it.",
    )
    _require(status in SafeguardingConcern.Status.values, "Choose where the concern stands.")
    with transaction.atomic():
        updated = SafeguardingConcern.objects.filter(
            pk=concern.pk, version=based_on_version
        ).update(status=status, version=F("version") + 1)
        if not updated:
            raise StaleVersion("Someone else updated this concern first. Reload the page.")
        SafeguardingUpdate.objects.create(
            concern=concern,
            status=status,
            note=note,
            organisation=actor.organisation,
            recorded_by=actor.user,
        )
        if status == SafeguardingConcern.Status.CLOSED:
            Relationship.objects.filter(
                person_id=concern.person_id,
                organisation_id=concern.sent_to_id,
                kind=Relationship.Kind.SAFEGUARDING,
                ended_on__isnull=True,
            ).update(ended_on=timezone.localdate())
        concern.refresh_from_db()
        audit.record(
            actor=actor.actor,
            action="safeguarding.update",
            persons=[concern.person_id],
            basis="safeguarding",
            detail={"concern": concern.pk, "status": status},
        )
    return concern


def death_review_update(*, actor: AccessContext, death: Death, status: str, learning: str) -> Death:
    _require(actor.role == Role.MANAGER, "Only a manager records a death review.")
    _require(status in Death.ReviewStatus.values, "Choose where the review stands.")
    with transaction.atomic():
        death.review_status = status
        death.review_learning = learning
        death.save(update_fields=["review_status", "review_learning"])
        _revise(
            actor,
            EntryRevision.Kind.DEATH_REVIEW,
            death.pk,
            death.person_id,
            {
                "Where the review stands": Death.ReviewStatus(status).label,
                "What we learnt": learning,
            },
        )
        audit.record(
            actor=actor.actor,
            action="death.review",
            persons=[death.person_id],
            detail={"death": death.pk, "status": status},
        )
    return death


@dataclass(frozen=True)
class BudgetPosition:
    budget: Budget | None
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return (self.budget.amount if self.budget else Decimal("0")) - self.spent


def budget_position(worker: User, organisation_id: int, on: date | None = None) -> BudgetPosition:
    on = on or timezone.localdate()
    budget = Budget.objects.filter(
        worker=worker, organisation_id=organisation_id, starts_on__lte=on, ends_on__gte=on
    ).first()
    if budget is None:
        return BudgetPosition(None, Decimal("0"))
    spent = Spend.objects.filter(
        worker=worker,
        organisation_id=organisation_id,
        spent_on__gte=budget.starts_on,
        spent_on__lte=budget.ends_on,
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return BudgetPosition(budget, spent)


def budget_set(
    *, actor: AccessContext, worker: User, starts_on: date, ends_on: date, amount: Decimal
) -> Budget:
    _require(actor.role == Role.MANAGER, "Only a manager sets budgets.")
    _require(ends_on >= starts_on, "The end date must be on or after the start date.")
    _require(
        Membership.objects.filter(user=worker, organisation_id=actor.organisation_id).exists(),
        "That worker is not in your organisation.",
    )
    with transaction.atomic():
        budget = Budget.objects.create(
            organisation=actor.organisation,
            worker=worker,
            starts_on=starts_on,
            ends_on=ends_on,
            amount=amount,
            set_by=actor.user,
        )
        audit.record(
            actor=actor.actor,
            action="budget.set",
            detail={"budget": budget.pk, "worker": worker.username, "amount": str(amount)},
        )
    return budget


def spend_record(
    *,
    actor: AccessContext,
    view: PersonView,
    kind: str,
    amount: Decimal,
    purpose: str,
    spent_on: date,
    approved_by: User,
) -> Spend:
    """A small spend for the person from the actor's budget, approved by a manager."""
    _require(
        policy.may_record_spend(role=actor.role, categories=view.categories),
        "Your role cannot record spends for this person.",
    )
    _require(
        Membership.objects.filter(
            user=approved_by, organisation_id=actor.organisation_id, role=Role.MANAGER
        ).exists(),
        "The person approving must be a manager in your organisation.",
    )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.user.pk).first()
        position = budget_position(actor.user, actor.organisation_id, spent_on)
        if position.budget is None:
            raise CaseworkError("You have no personal budget for that date. Ask your manager.")
        if amount > position.remaining:
            raise CaseworkError(
                f"That is more than your budget has left (£{position.remaining:.2f})."
            )
        spend = Spend.objects.create(
            person=view.person,
            organisation=actor.organisation,
            worker=actor.user,
            spent_on=spent_on,
            kind=kind,
            amount=amount,
            purpose=purpose,
            approved_by=approved_by,
        )
        audit.record(
            actor=actor.actor,
            action="spend.record",
            persons=[view.id],
            detail={"spend": spend.pk, "amount": str(amount)},
        )
    return spend


def person_visit_touch(*, user: User, person_id: int) -> None:
    """Remember when the user last opened the person (for "new since my last visit")."""
    # One statement: an insert that updates the user's earlier visit (an upsert).
    PersonVisit.objects.bulk_create(
        [PersonVisit(user=user, person_id=person_id, seen_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "person"],
        update_fields=["seen_at"],
    )
