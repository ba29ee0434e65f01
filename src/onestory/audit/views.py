"""The privacy officer's view of the audit trail (they see the trail, not the records)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from onestory.access import scope
from onestory.access.context import request_access
from onestory.access.decorators import roles
from onestory.access.models import PrivacyReview
from onestory.access.roles import Role
from onestory.access.services import TrustError, privacy_review_record
from onestory.audit.models import AuditEvent, AuditPersonAccess
from onestory.audit.services import audit_verify
from onestory.core.forms import GovukForm


class PrivacyReviewForm(GovukForm):
    finding = forms.ChoiceField(
        label="Was it appropriate?",
        choices=[
            (PrivacyReview.Status.APPROPRIATE, "Appropriate"),
            (PrivacyReview.Status.INAPPROPRIATE, "Inappropriate: end the access now"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note",
        help_text="What you checked, who you spoke to, and what you found.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput)


@roles(Role.PRIVACY_OFFICER)
def audit_list(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.order_by("-seq")
    person = request.GET.get("person", "").strip()
    if person.isdigit():
        events = events.filter(
            pk__in=AuditPersonAccess.objects.filter(person_id=int(person)).values("event_id")
        )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/list.html", {"page": page, "person": person})


@roles(Role.PRIVACY_OFFICER)
def audit_check(request: HttpRequest) -> HttpResponse:
    result = audit_verify()
    return render(request, "audit/check.html", {"result": result})


# --- The privacy officer's review queue: break glass and claimed relationships


@roles(Role.PRIVACY_OFFICER)
def privacy_reviews(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    reviews = scope.privacy_reviews(access)
    pending = [r for r in reviews if r.status == PrivacyReview.Status.PENDING]
    done = [r for r in reviews if r.status != PrivacyReview.Status.PENDING]
    return render(request, "audit/reviews.html", {"pending": pending, "done": done})


@roles(Role.PRIVACY_OFFICER)
def privacy_review(request: HttpRequest, review_id: int) -> HttpResponse:
    """Review one break glass or claim: appropriate or inappropriate, with a note."""
    access = request_access(request)
    review = scope.privacy_review_get(access, review_id)
    form = PrivacyReviewForm(request.POST or None, initial={"based_on_version": review.version})
    if request.method == "POST" and form.is_valid():
        try:
            privacy_review_record(
                actor=access,
                review=review,
                finding=form.cleaned_data["finding"],
                note=form.cleaned_data["note"],
                based_on_version=form.cleaned_data["based_on_version"],
            )
        except TrustError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Review recorded.")
            return redirect("privacy:reviews")
    return render(
        request,
        "audit/review.html",
        {"review": review, "form": form, "now": timezone.now()},
    )
