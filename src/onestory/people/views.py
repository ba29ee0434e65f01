"""My people, the person page and About me. Thin: scope, one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from onestory.access import policy, scope
from onestory.access.context import request_access
from onestory.access.decorators import roles
from onestory.access.policy import may_edit_about_me
from onestory.access.roles import CASEWORK_ROLES, Category, Role
from onestory.access.services import (
    TrustError,
    break_glass_hours,
    break_glass_start,
    relationship_claim,
)
from onestory.casework import selectors as casework
from onestory.casework import services as casework_services
from onestory.casework.models import Contact
from onestory.people.forms import (
    AboutMeForm,
    BreakGlassForm,
    ClaimForm,
    PeopleSearchForm,
    SealForm,
    TeamMemberForm,
)
from onestory.people.models import TimelineEvent
from onestory.people.services import (
    AboutMeText,
    SealError,
    StaleVersion,
    TeamError,
    about_me_save,
    entry_seal,
    team_member_add,
    team_member_end,
)

CASEWORK = tuple(CASEWORK_ROLES)


@roles(*CASEWORK)
def people_list(request: HttpRequest) -> HttpResponse:
    form = PeopleSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    people = scope.people_list(request_access(request), query=query)
    context = {"form": form, "people": people, "query": query}
    if request.headers.get("HX-Request"):
        return render(request, "people/_people_results.html", context)
    return render(request, "people/list.html", context)


@roles(*CASEWORK)
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    access = request_access(request)
    try:
        view = scope.person_get(access, person_id)
    except scope.PersonMoved as moved:
        return redirect("people:detail", person_id=moved.person_id)
    except scope.PersonNotFound:
        # Missing and not-yours look the same; workers who may break glass or claim a
        # relationship are told how, whether or not the person exists (rule 1).
        return render(
            request,
            "people/not_found.html",
            {
                "person_id": person_id,
                "can_break_glass": policy.may_break_glass(role=access.role),
                "can_claim": policy.may_claim_relationship(
                    role=access.role, has_relationship=False
                ),
            },
            status=404,
        )
    category = request.GET.get("category") or ""
    visible = [c for c in Category if view.can_see(c) and c not in NON_TIMELINE]
    if category not in {c.value for c in visible}:
        category = ""
    events = scope.timeline_page(
        access, view, category=category or None, page=request.GET.get("page")
    )
    versions = scope.about_me_versions(access, view)
    contact = casework.persistence([view.id])[view.id] if view.can_see("case_notes") else None
    if not view.read_only:
        casework_services.person_visit_touch(user=access.user, person_id=view.id)
    writable = not view.read_only  # break glass is read-only (rule 7)
    context = {
        "section": "overview",
        "safety_banner": casework.safety_markers(view) or [],
        "allocations": casework.allocations(view),
        "persistence": contact,
        "death": casework.death(view),
        "can_allocate": writable and policy.may_allocate(role=access.role, to_self=True),
        "can_close": writable and policy.may_close_support(role=access.role),
        "can_refer": writable and policy.may_refer(role=access.role),
        "organisation_id": access.organisation_id,
        "actions": scope.person_actions(view),
        "view": view,
        "person": view.person,
        "about_me": versions[0] if versions else None,
        "team": scope.team(access, view),
        "events": events,
        "categories": visible,
        "category": category,
        "can_edit_about_me": writable
        and may_edit_about_me(role=access.role, categories=view.categories),
        "can_seal": writable
        and policy.may_seal(
            role=access.role,
            entry_organisation_id=access.organisation_id,
            organisation_id=access.organisation_id,
        ),
    }
    if request.headers.get("HX-Request") and request.GET.get("partial") == "timeline":
        return render(request, "people/_timeline.html", context)
    return render(request, "people/detail.html", context)


# Categories shown in their own sections, not as timeline filters.
NON_TIMELINE = {Category.IDENTITY, Category.CONTACT_LOCATION, Category.ABOUT_ME}


@roles(*CASEWORK)
def about_me_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    access = request_access(request)
    try:
        view = scope.person_get(access, person_id, action="about_me.edit")
    except scope.PersonMoved as moved:
        return redirect("people:about_me_edit", person_id=moved.person_id)
    if not may_edit_about_me(role=access.role, categories=view.categories):
        return render(request, "errors/403.html", status=403)
    versions = scope.about_me_versions(access, view)
    latest = versions[0] if versions else None
    initial = {"based_on_version": latest.version if latest else 0}
    if latest:
        for name in (
            "what_matters",
            "what_helps",
            "what_to_avoid",
            "how_to_contact",
            "important_people",
        ):
            initial[name] = getattr(latest, name)
    form = AboutMeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if view.contact_hidden and latest is not None:
            # The contact part is hidden from this user: keep it as it was.
            data["how_to_contact"] = latest.how_to_contact
        try:
            about_me_save(
                actor=access,
                person=view.person,
                text=AboutMeText(
                    what_matters=data["what_matters"],
                    what_helps=data["what_helps"],
                    what_to_avoid=data["what_to_avoid"],
                    how_to_contact=data["how_to_contact"],
                    important_people=data["important_people"],
                ),
                person_agreed_wording=data["person_agreed_wording"],
                based_on_version=data["based_on_version"],
            )
        except StaleVersion:
            form.add_error(
                None,
                "Someone else saved a newer version of About me while you were editing. "
                "Your words are below; copy anything you need, then reload the page to see "
                "their version.",
            )
        else:
            messages.success(request, "About me saved as a new version.")
            return redirect("people:detail", person_id=person_id)
    return render(
        request, "people/about_me_edit.html", {"form": form, "view": view, "person": view.person}
    )


@roles(*CASEWORK)
def about_me_history(request: HttpRequest, person_id: int) -> HttpResponse:
    access = request_access(request)
    try:
        view = scope.person_get(access, person_id, action="about_me.history")
    except scope.PersonMoved as moved:
        return redirect("people:about_me_history", person_id=moved.person_id)
    versions = scope.about_me_versions(access, view)
    return render(
        request,
        "people/about_me_history.html",
        {"view": view, "person": view.person, "versions": versions},
    )


@roles(Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER)
def team(request: HttpRequest, person_id: int) -> HttpResponse:
    """The team around the person: name a worker from your organisation, or end one."""
    access = request_access(request)
    try:
        view = scope.person_get(access, person_id, action="team.view")
    except scope.PersonMoved as moved:
        return redirect("people:team", person_id=moved.person_id)
    workers = casework.caseload_workers(access.organisation_id)
    form = TeamMemberForm(request.POST or None, workers=workers)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "end":
                team_member_end(
                    actor=access,
                    person=view.person,
                    relationship_id=int(request.POST.get("relationship") or 0),
                )
                messages.success(request, "Removed from the team.")
                return redirect("people:team", person_id=view.id)
            if form.is_valid():
                team_member_add(
                    actor=access,
                    person=view.person,
                    worker=form.cleaned_data["worker"],
                    role_description=form.cleaned_data["role_description"],
                    how_to_reach=form.cleaned_data["how_to_reach"],
                )
                messages.success(request, "Added to the team.")
                return redirect("people:team", person_id=view.id)
        except TeamError as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "people/team.html",
        {
            "form": form,
            "view": view,
            "person": view.person,
            "team": scope.team(access, view),
            "organisation_id": access.organisation_id,
        },
    )


@roles(Role.NAVIGATOR, Role.PRACTITIONER)
def break_glass(request: HttpRequest, person_id: int) -> HttpResponse:
    """Break glass (rule 7): a reason from a list and in words, then the record opens
    read-only for a few hours. The page shows nothing of the person before the reason."""
    access = request_access(request)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person, already = scope.person_for_break_glass(access, person_id)
        if already:
            messages.info(request, "You can already open this record; no need to break glass.")
            return redirect("people:detail", person_id=person.pk)
        try:
            break_glass_start(
                actor=access,
                person=person,
                reason=form.cleaned_data["reason"],
                explanation=form.cleaned_data["explanation"],
            )
        except TrustError as exc:
            form.add_error("explanation", str(exc))
        else:
            messages.warning(
                request,
                "You broke glass. The record is open to you read-only until the time shown; "
                "privacy officers have been told and will review it.",
            )
            return redirect("people:detail", person_id=person.pk)
    return render(
        request,
        "people/break_glass.html",
        {"form": form, "person_id": person_id, "hours": break_glass_hours()},
    )


@roles(Role.NAVIGATOR)
def claim(request: HttpRequest, person_id: int) -> HttpResponse:
    """Claim a relationship (rule 3); the privacy officer reviews it. Next, the person's
    sharing decision is recorded, as for anyone new."""
    access = request_access(request)
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = scope.person_for_claim(access, person_id)
        try:
            relationship_claim(actor=access, person=person, reason=form.cleaned_data["reason"])
        except TrustError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.success(
                request,
                "Relationship claimed; your privacy officer will review it. Next, record "
                "what the person agrees to share with your organisation.",
            )
            return redirect("consent:sharing_new", person_id=person.pk)
    return render(request, "people/claim.html", {"form": form, "person_id": person_id})


@roles(Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER)
def entry_seal_view(request: HttpRequest, person_id: int, kind: str, entry_id: int) -> HttpResponse:
    """Seal or unseal one of your organisation's own entries (rule 6)."""
    access = request_access(request)
    try:
        view = scope.person_get(access, person_id, action="entry.seal")
    except scope.PersonMoved as moved:
        return redirect("people:entry_seal", person_id=moved.person_id, kind=kind,
                        entry_id=entry_id)  # fmt: skip
    entry: TimelineEvent | Contact
    if kind == "timeline":
        entry = scope.timeline_entry_for_sealing(access, view, entry_id)
        back = redirect("people:detail", person_id=view.id)
    elif kind == "contact":
        entry = scope.contact_for_sealing(access, view, entry_id)
        back = redirect("casework:contacts", person_id=view.id)
    else:
        raise Http404("No such entry")
    form = SealForm(request.POST or None, initial={"sealed": "yes" if entry.sealed else "no"})
    if request.method == "POST" and form.is_valid():
        sealed = form.cleaned_data["sealed"] == "yes"
        try:
            entry_seal(actor=access, person=view.person, entry=entry, sealed=sealed)
        except SealError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Entry sealed." if sealed else "Entry unsealed.")
            return back
    return render(
        request,
        "people/entry_seal.html",
        {"form": form, "view": view, "person": view.person, "entry": entry, "kind": kind},
    )
