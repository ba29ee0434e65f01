"""One-to-one support pages. Thin: scope, one service, render."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from onestory.access import policy, scope
from onestory.access.context import AccessContext, request_access
from onestory.access.decorators import roles
from onestory.access.roles import CASEWORK_ROLES, Role
from onestory.access.scope import PersonView
from onestory.casework import forms, selectors, services
from onestory.casework.migration import MigrationRefused, caseload_migrate
from onestory.casework.models import EntryRevision
from onestory.casework.services import CaseworkError

CASEWORK = tuple(CASEWORK_ROLES)
RECORDING = (Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER)
ViewFn = Callable[..., HttpResponse]


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def person_page(action: str) -> Callable[[ViewFn], ViewFn]:
    """Fetch the person through the scope (404 when missing or not theirs, audited) and
    pass the view on; an id merged into another person redirects to the same page there."""

    def wrap(fn: ViewFn) -> ViewFn:
        @wraps(fn)
        def inner(request: HttpRequest, person_id: int, **kwargs: Any) -> HttpResponse:
            access = request_access(request)
            try:
                view = scope.person_get(access, person_id, action=action)
            except scope.PersonMoved as moved:
                assert request.resolver_match is not None
                name = request.resolver_match.view_name
                return redirect(reverse(name, kwargs={**kwargs, "person_id": moved.person_id}))
            return fn(request, access, view, **kwargs)

        return inner

    return wrap


def _person_context(view: PersonView, section: str = "", **extra: Any) -> dict[str, Any]:
    """What every page about a person shows: their name, sections and safety markers."""
    return {
        "view": view,
        "person": view.person,
        "section": section,
        "safety_banner": selectors.safety_markers(view) or [],
        **extra,
    }


def _bool(value: str) -> bool:
    return value == "yes"


# --- My caseload and allocation


@roles(*CASEWORK)
def my_caseload(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    rows = selectors.my_caseload(access)
    cap = services.setting("CASELOAD_CAP")
    actions = [
        a for a in scope.actions_owned(access) if a.action.owner_id in {None, access.user.pk}
    ]
    return render(
        request,
        "casework/my_caseload.html",
        {
            "rows": rows,
            "cap": cap,
            "size": len(rows),
            "not_seen_days": services.setting("NOT_SEEN_DAYS"),
            "can_add": policy.may_allocate(role=access.role, to_self=True),
            "actions": actions,
            "today": timezone.localdate(),
        },
    )


@roles(Role.MANAGER)
def team_caseloads(request: HttpRequest) -> HttpResponse:
    """A manager's view of every worker's caseload size against the cap (no person data)."""
    access = request_access(request)
    workers = selectors.caseload_workers(access.organisation_id)
    cap = services.setting("CASELOAD_CAP")
    sizes = []
    for worker in workers:
        size = services.caseload_size(worker, access.organisation_id)
        sizes.append((worker, size, cap - size))
    return render(request, "casework/team_caseloads.html", {"sizes": sizes, "cap": cap})


@roles(Role.NAVIGATOR, Role.MANAGER)
def person_add(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    form = forms.PersonAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.person_add(
                actor=access,
                given_name=data["given_name"],
                family_name=data["family_name"],
                preferred_name=data["preferred_name"],
                date_of_birth=data["date_of_birth"],
            )
        except CaseworkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                "Added to your caseload. Next, record what they agree to share, so the team "
                "around them can help.",
            )
            return redirect("consent:sharing_new", person_id=person.pk)
    return render(request, "casework/person_add.html", {"form": form})


@roles(Role.NAVIGATOR, Role.MANAGER)
@person_page("allocation.view")
def allocate(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    manager = access.role == Role.MANAGER
    workers = selectors.caseload_workers(access.organisation_id)
    if not manager:
        workers = [w for w in workers if w.pk == access.user.pk]
    form = forms.AllocateForm(
        request.POST or None,
        workers=workers,
        manager=manager,
        initial={"worker": access.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.allocation_create(
                actor=access,
                person=view.person,
                worker=data["worker"],
                kind=data["kind"],
                handover_note=data["handover_note"],
                agree_over_cap=data.get("agree_over_cap", False),
            )
        except CaseworkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Allocation saved.")
            return redirect("people:detail", person_id=view.id)
    return render(
        request,
        "casework/allocate.html",
        {
            "form": form,
            "view": view,
            "person": view.person,
            "current": selectors.allocations(view),
            "history": selectors.allocation_history(view),
            "cap": services.setting("CASELOAD_CAP"),
        },
    )


# --- Contacts


@roles(*CASEWORK)
@person_page("contacts.view")
def contacts(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    form = forms.ContactForm(request.POST or None, initial={"occurred_on": timezone.localdate()})
    if request.method == "POST":
        if not policy.may_record_contact(role=access.role):
            return _forbidden(request)
        if form.is_valid():
            data = form.cleaned_data
            services.contact_record(
                actor=access,
                view=view,
                occurred_on=data["occurred_on"],
                method=data["method"],
                successful=_bool(data["successful"]),
                where=data["where"],
                who=data["who"],
                note=data["note"],
            )
            messages.success(request, "Contact recorded.")
            return redirect("casework:contacts", person_id=view.id)
    log = selectors.contacts(access, view)
    return render(
        request,
        "casework/contacts.html",
        _person_context(
            view,
            "contacts",
            form=form,
            contacts=log,
            persistence=selectors.persistence([view.id])[view.id] if log is not None else None,
            can_record=policy.may_record_contact(role=access.role),
            organisation_id=access.organisation_id,
            can_seal=policy.may_seal(
                role=access.role,
                entry_organisation_id=access.organisation_id,
                organisation_id=access.organisation_id,
            ),
        ),
    )


# --- Support plan, goals, steps, reviews


def _plan_context(access: AccessContext, view: PersonView) -> dict[str, Any]:
    return _person_context(
        view,
        "plan",
        plan=selectors.plan(view),
        reviews=selectors.reviews(view),
        can_edit=not view.read_only
        and policy.may_edit_plan(role=access.role, categories=view.categories),
    )


@roles(*CASEWORK)
@person_page("plan.view")
def plan(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    return render(request, "casework/plan.html", _plan_context(access, view))


@roles(*CASEWORK)
@person_page("plan.history")
def plan_history(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    """Every wording the plan has had: corrections are appended, never overwritten."""
    return render(
        request,
        "casework/plan_history.html",
        _person_context(view, "plan", versions=selectors.plan_versions(view)),
    )


@roles(*RECORDING)
@person_page("plan.edit")
def plan_edit(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    if not policy.may_edit_plan(role=access.role, categories=view.categories):
        return _forbidden(request)
    current = selectors.plan(view)
    existing = current.plan if current else None
    initial = {
        "aspirations": existing.aspirations if existing else "",
        "strengths": existing.strengths if existing else "",
        "based_on_version": existing.version if existing else 0,
    }
    form = forms.PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_save(
                actor=access,
                view=view,
                aspirations=form.cleaned_data["aspirations"],
                strengths=form.cleaned_data["strengths"],
                based_on_version=form.cleaned_data["based_on_version"],
            )
        except CaseworkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Plan saved.")
            return redirect("casework:plan", person_id=view.id)
    return render(
        request, "casework/plan_edit.html", {"form": form, "view": view, "person": view.person}
    )


@roles(*RECORDING)
@person_page("goal.create")
def goal_new(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    if not policy.may_edit_plan(role=access.role, categories=view.categories):
        return _forbidden(request)
    form = forms.GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        goal = services.goal_create(
            actor=access,
            view=view,
            in_their_words=form.cleaned_data["in_their_words"],
            target_on=form.cleaned_data["target_on"],
            review_on=form.cleaned_data["review_on"],
        )
        messages.success(request, "Goal set. Now add the steps towards it, and who helps.")
        return redirect("casework:goal", person_id=view.id, goal_id=goal.pk)
    return render(
        request, "casework/goal_new.html", {"form": form, "view": view, "person": view.person}
    )


@roles(*CASEWORK)
@person_page("goal.view")
def goal(
    request: HttpRequest, access: AccessContext, view: PersonView, goal_id: int
) -> HttpResponse:
    item = selectors.goal_get(view, goal_id)
    if item is None:
        return render(request, "404.html", status=404)
    team = selectors.team_organisations(access, view)
    step_form = forms.StepForm(None, organisations=team, prefix="step")
    progress_form = forms.ProgressForm(None, prefix="progress")
    status_form = forms.GoalStatusForm(
        None, initial={"status": item.status, "based_on_version": item.version}, prefix="status"
    )
    can_edit = policy.may_edit_plan(role=access.role, categories=view.categories)
    can_progress = policy.may_add_progress(role=access.role, categories=view.categories)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "step" and can_edit:
                step_form = forms.StepForm(request.POST, organisations=team, prefix="step")
                if step_form.is_valid():
                    data = step_form.cleaned_data
                    services.step_add(
                        actor=access,
                        view=view,
                        goal=item,
                        description=data["description"],
                        organisation=data["organisation"],
                        helper=data["helper"],
                        target_on=data["target_on"],
                    )
                    messages.success(request, "Step added.")
                    return redirect("casework:goal", person_id=view.id, goal_id=item.pk)
            elif action == "progress" and can_progress:
                progress_form = forms.ProgressForm(request.POST, prefix="progress")
                if progress_form.is_valid():
                    services.progress_add(
                        actor=access, view=view, goal=item, text=progress_form.cleaned_data["text"]
                    )
                    messages.success(request, "Progress note added.")
                    return redirect("casework:goal", person_id=view.id, goal_id=item.pk)
            elif action == "status" and can_edit:
                status_form = forms.GoalStatusForm(request.POST, prefix="status")
                if status_form.is_valid():
                    services.goal_set_status(
                        actor=access,
                        view=view,
                        goal=item,
                        status=status_form.cleaned_data["status"],
                        based_on_version=status_form.cleaned_data["based_on_version"],
                    )
                    messages.success(request, "Goal updated.")
                    return redirect("casework:goal", person_id=view.id, goal_id=item.pk)
            elif action == "done" and can_progress:
                step = selectors.step_get(item, int(request.POST.get("step") or 0))
                if step is not None:
                    services.step_done(actor=access, view=view, step=step)
                    messages.success(request, "Step marked as done.")
                return redirect("casework:goal", person_id=view.id, goal_id=item.pk)
            else:
                return _forbidden(request)
        except CaseworkError as exc:
            messages.error(request, str(exc))
    return render(
        request,
        "casework/goal.html",
        {
            "view": view,
            "person": view.person,
            "goal": item,
            "step_form": step_form,
            "progress_form": progress_form,
            "status_form": status_form,
            "can_edit": can_edit,
            "can_progress": can_progress,
        },
    )


@roles(*RECORDING)
@person_page("review.schedule")
def review_new(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    if not policy.may_edit_plan(role=access.role, categories=view.categories):
        return _forbidden(request)
    form = forms.ReviewScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.review_schedule(
            actor=access,
            view=view,
            kind=form.cleaned_data["kind"],
            due_on=form.cleaned_data["due_on"],
            notes=form.cleaned_data["notes"],
        )
        messages.success(request, "Review scheduled. It shows on the caseload.")
        return redirect("casework:plan", person_id=view.id)
    return render(
        request, "casework/review_new.html", {"form": form, "view": view, "person": view.person}
    )


@roles(*RECORDING)
@person_page("review.view")
def review(
    request: HttpRequest, access: AccessContext, view: PersonView, review_id: int
) -> HttpResponse:
    item = selectors.review_get(view, review_id)
    if item is None:
        return render(request, "404.html", status=404)
    form = forms.ReviewHoldForm(
        request.POST or None, initial={"held_on": item.held_on or timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.review_hold(
                actor=access,
                view=view,
                review=item,
                held_on=form.cleaned_data["held_on"],
                organisations=list(form.cleaned_data["organisations"]),
                notes=form.cleaned_data["notes"],
            )
        except CaseworkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Review recorded.")
            return redirect("casework:plan", person_id=view.id)
    return render(
        request,
        "casework/review.html",
        {
            "form": form,
            "view": view,
            "person": view.person,
            "review": item,
            "revisions": services.entry_revisions(EntryRevision.Kind.REVIEW, item.pk),
        },
    )


# --- Closing support


@roles(Role.MANAGER)
@person_page("support.close")
def close(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    form = forms.CloseForm(request.POST or None, initial={"closed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.support_close(
                actor=access,
                view=view,
                reason=data["reason"],
                closed_on=data["closed_on"],
                note=data["note"],
                died_on=data["died_on"],
            )
        except CaseworkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Support closed.")
            return redirect("casework:my_caseload")
    return render(
        request,
        "casework/close.html",
        {
            "form": form,
            "view": view,
            "person": view.person,
            "closures": selectors.closures(view),
            "allocations": selectors.allocations(view),
        },
    )


# --- Safety and safeguarding


@roles(*CASEWORK)
@person_page("safety.view")
def safety(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    can_record = policy.may_record_safety(role=access.role, categories=view.categories)
    form = forms.SafetyMarkerForm(request.POST or None)
    if request.method == "POST":
        if not can_record:
            return _forbidden(request)
        if request.POST.get("action") == "end":
            marker = selectors.safety_marker_get(view, int(request.POST.get("marker") or 0))
            if marker is not None:
                try:
                    services.safety_marker_end(actor=access, view=view, marker=marker)
                except CaseworkError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(request, "Safety marker ended.")
            return redirect("casework:safety", person_id=view.id)
        if form.is_valid():
            services.safety_marker_add(
                actor=access,
                view=view,
                kind=form.cleaned_data["kind"],
                detail=form.cleaned_data["detail"],
                review_on=form.cleaned_data["review_on"],
            )
            messages.success(request, "Safety marker recorded. It shows before every visit.")
            return redirect("casework:safety", person_id=view.id)
    return render(
        request,
        "casework/safety.html",
        _person_context(
            view,
            "safety",
            form=form,
            markers=selectors.safety_markers(view, current_only=False),
            concerns=selectors.safeguarding_concerns(view),
            can_record=can_record,
            can_raise=policy.may_raise_safeguarding(role=access.role),
        ),
    )


@roles(*CASEWORK)
@person_page("safeguarding.raise")
def safeguarding_new(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    if not policy.may_raise_safeguarding(role=access.role):
        return _forbidden(request)
    form = forms.SafeguardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            concern = services.safeguarding_raise(
                actor=access,
                view=view,
                kind=data["kind"],
                concern=data["concern"],
                immediate_risk=data["immediate_risk"],
                sent_to=data["sent_to"],
            )
        except CaseworkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Concern sent to {concern.sent_to}.")
            return redirect("casework:safety", person_id=view.id)
    return render(
        request,
        "casework/safeguarding_new.html",
        {"form": form, "view": view, "person": view.person},
    )


@roles(*CASEWORK)
def safeguarding_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "casework/safeguarding_list.html",
        {"concerns": scope.safeguarding_received(request_access(request))},
    )


@roles(*CASEWORK)
def safeguarding_concern(request: HttpRequest, concern_id: int) -> HttpResponse:
    access = request_access(request)
    item = scope.safeguarding_concern_get(access, concern_id)
    concern = item.concern
    receiving = concern.sent_to_id == access.organisation_id
    form = forms.SafeguardingUpdateForm(
        request.POST or None,
        initial={"status": concern.status, "based_on_version": concern.version},
    )
    if request.method == "POST":
        if not receiving:
            return _forbidden(request)
        if form.is_valid():
            try:
                services.safeguarding_update(
                    actor=access,
                    concern=concern,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                    based_on_version=form.cleaned_data["based_on_version"],
                )
            except CaseworkError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Concern updated.")
                return redirect("casework:safeguarding_concern", concern_id=concern.pk)
    return render(
        request,
        "casework/safeguarding_concern.html",
        {
            "item": item,
            "concern": concern,
            "person": item.view.person,
            "updates": list(concern.updates.select_related("recorded_by", "organisation")),
            "form": form,
            "receiving": receiving,
        },
    )


# --- Deaths


@roles(Role.MANAGER)
def deaths(request: HttpRequest) -> HttpResponse:
    return render(
        request, "casework/deaths.html", {"deaths": scope.deaths(request_access(request))}
    )


@roles(Role.MANAGER)
def death(request: HttpRequest, death_id: int) -> HttpResponse:
    access = request_access(request)
    item = scope.death_get(access, death_id).death
    form = forms.DeathReviewForm(
        request.POST or None,
        initial={"status": item.review_status, "learning": item.review_learning},
    )
    if request.method == "POST" and form.is_valid():
        services.death_review_update(
            actor=access,
            death=item,
            status=form.cleaned_data["status"],
            learning=form.cleaned_data["learning"],
        )
        messages.success(request, "Death review updated.")
        return redirect("casework:deaths")
    revisions = services.entry_revisions(EntryRevision.Kind.DEATH_REVIEW, item.pk)
    return render(
        request, "casework/death.html", {"death": item, "form": form, "revisions": revisions}
    )


# --- Flexible personal budget


@roles(*CASEWORK)
@person_page("spends.view")
def spends(request: HttpRequest, access: AccessContext, view: PersonView) -> HttpResponse:
    can_record = policy.may_record_spend(role=access.role, categories=view.categories)
    approvers = selectors.managers(access.organisation_id)
    form = forms.SpendForm(
        request.POST or None,
        approvers=approvers,
        initial={"spent_on": timezone.localdate()},
    )
    if request.method == "POST":
        if not can_record:
            return _forbidden(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.spend_record(
                    actor=access,
                    view=view,
                    kind=data["kind"],
                    amount=data["amount"],
                    purpose=data["purpose"],
                    spent_on=data["spent_on"],
                    approved_by=data["approved_by"],
                )
            except CaseworkError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Spend recorded.")
                return redirect("casework:spends", person_id=view.id)
    return render(
        request,
        "casework/spends.html",
        _person_context(
            view,
            "spends",
            form=form,
            spends=selectors.spends(view),
            can_record=can_record,
            position=services.budget_position(access.user, access.organisation_id),
        ),
    )


@roles(Role.MANAGER)
def budgets(request: HttpRequest) -> HttpResponse:
    """Budgets per worker and the spend report: totals only, no person data."""
    access = request_access(request)
    workers = selectors.caseload_workers(access.organisation_id)
    form = forms.BudgetForm(request.POST or None, workers=workers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.budget_set(
                actor=access,
                worker=data["worker"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                amount=data["amount"],
            )
        except CaseworkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Budget set.")
            return redirect("casework:budgets")
    positions = [(w, services.budget_position(w, access.organisation_id)) for w in workers]
    report = selectors.spend_report(access.organisation_id)
    total = sum((r["total"] for r in report), Decimal("0"))
    return render(
        request,
        "casework/budgets.html",
        {"form": form, "positions": positions, "report": report, "total": total},
    )


# --- Caseload migration


@roles(Role.MANAGER)
def migrate(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    form = forms.MigrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = caseload_migrate(actor=access, upload=upload)
        except MigrationRefused as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("casework:migration", run_id=run.pk)
    runs = selectors.migration_runs(access.organisation_id)
    return render(request, "casework/migrate.html", {"form": form, "runs": runs})


@roles(Role.MANAGER)
def migration(request: HttpRequest, run_id: int) -> HttpResponse:
    access = request_access(request)
    run = selectors.migration_run_get(access.organisation_id, run_id)
    if run is None:
        return render(request, "404.html", status=404)
    return render(
        request,
        "casework/migration.html",
        {"run": run, "quarantine": list(run.quarantine.all()[:500])},
    )
