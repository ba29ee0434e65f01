from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from onestory.access.models import Organisation, User
from onestory.casework.models import (
    Allocation,
    Closure,
    Contact,
    Death,
    Goal,
    Review,
    SafeguardingConcern,
    SafetyMarker,
    Spend,
)
from onestory.core.forms import DateInput, GovukForm

YES_NO = [("yes", "Yes"), ("no", "No")]


class WorkerChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        user: User = obj
        return user.get_full_name() or user.username


def _not_future(value: date, what: str) -> date:
    if value > timezone.localdate():
        raise forms.ValidationError(f"The date {what} cannot be in the future")
    return value


class AllocateForm(GovukForm):
    worker = WorkerChoice(
        label="Worker",
        queryset=User.objects.none(),
        error_messages={"required": "Choose who will support this person"},
    )
    kind = forms.ChoiceField(
        label="As",
        choices=Allocation.Kind.choices,
        widget=forms.RadioSelect,
        initial=Allocation.Kind.LEAD,
    )
    handover_note = forms.CharField(
        label="Handover note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="If someone else was the lead worker: what the new worker needs to know.",
    )
    agree_over_cap = forms.BooleanField(
        label="I agree to this worker going over the caseload cap",
        required=False,
        help_text="Only a manager can agree to this.",
    )

    def __init__(self, *args: Any, workers: list[User], manager: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["worker"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[w.pk for w in workers]).order_by(
            "first_name", "last_name"
        )
        if not manager:
            del self.fields["agree_over_cap"]


class PersonAddForm(GovukForm):
    given_name = forms.CharField(label="First name", max_length=100, required=False)
    family_name = forms.CharField(label="Last name", max_length=100, required=False)
    preferred_name = forms.CharField(
        label="Known as", max_length=100, required=False, help_text="The name they want to use."
    )
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("given_name") or data.get("family_name") or data.get("preferred_name")):
            raise forms.ValidationError("Enter at least one name the person uses")
        dob = data.get("date_of_birth")
        if dob and dob > timezone.localdate():
            self.add_error("date_of_birth", "The date of birth must be in the past")
        return data


class ContactForm(GovukForm):
    occurred_on = forms.DateField(label="Date", widget=DateInput)
    method = forms.ChoiceField(
        label="How", choices=Contact.Method.choices, widget=forms.RadioSelect
    )
    successful = forms.ChoiceField(
        label="Did you see or speak with them?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether you saw or spoke with them"},
    )
    where = forms.CharField(label="Where", max_length=200, required=False)
    who = forms.CharField(label="Who else was there", max_length=200, required=False)
    note = forms.CharField(
        label="Short note", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_occurred_on(self) -> date:
        return _not_future(self.cleaned_data["occurred_on"], "of a contact")


class ReviewScheduleForm(GovukForm):
    kind = forms.ChoiceField(
        label="Kind of review",
        choices=Review.Kind.choices,
        widget=forms.RadioSelect,
        initial=Review.Kind.PLAN,
    )
    due_on = forms.DateField(label="Date", widget=DateInput)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewHoldForm(GovukForm):
    held_on = forms.DateField(label="Date it was held", widget=DateInput)
    organisations = forms.ModelMultipleChoiceField(
        label="Organisations that took part",
        queryset=Organisation.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    notes = forms.CharField(
        label="What was agreed", widget=forms.Textarea(attrs={"rows": 4}), required=True
    )

    def clean_held_on(self) -> date:
        return _not_future(self.cleaned_data["held_on"], "a review was held")


class CloseForm(GovukForm):
    reason = forms.ChoiceField(
        label="Why is support ending?",
        choices=Closure.Reason.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Support is never closed because someone is not engaging. To close as declined, "
            "first record a review with the organisations involved."
        ),
        error_messages={
            "required": "Choose why support is ending",
            "invalid_choice": (
                "Support is not closed because someone is not engaging. Record a review with "
                "the organisations involved first; if the person has decided they do not want "
                "support, close it as declined after that review."
            ),
        },
    )
    closed_on = forms.DateField(label="Date support ends", widget=DateInput)
    died_on = forms.DateField(
        label="Date of death (if the person died)", required=False, widget=DateInput
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PlanForm(GovukForm):
    aspirations = forms.CharField(
        label="What I want for my future",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="In the person's own words.",
    )
    strengths = forms.CharField(
        label="My strengths, and what is going well",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class GoalForm(GovukForm):
    in_their_words = forms.CharField(
        label="The goal, in the person's words",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the goal in the person's words"},
    )
    target_on = forms.DateField(label="Target date", required=False, widget=DateInput)
    review_on = forms.DateField(label="Review date", required=False, widget=DateInput)


class GoalStatusForm(GovukForm):
    status = forms.ChoiceField(
        label="How does this goal stand?", choices=Goal.Status.choices, widget=forms.RadioSelect
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class StepForm(GovukForm):
    description = forms.CharField(label="Step", max_length=300)
    organisation = forms.ModelChoiceField(
        label="Organisation that helps",
        queryset=Organisation.objects.none(),
        help_text="Organisations in the team around the person.",
        error_messages={"required": "Choose the organisation that helps with this step"},
    )
    helper = forms.CharField(label="Who helps (name or role)", max_length=200, required=False)
    target_on = forms.DateField(label="Target date", required=False, widget=DateInput)

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations])


class ProgressForm(GovukForm):
    text = forms.CharField(
        label="Progress note",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the progress note"},
    )


class SafetyMarkerForm(GovukForm):
    kind = forms.ChoiceField(
        label="Kind of marker", choices=SafetyMarker.Kind.choices, widget=forms.RadioSelect
    )
    detail = forms.CharField(
        label="What staff need to know before a visit",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what staff need to know"},
    )
    review_on = forms.DateField(label="Review date", required=False, widget=DateInput)


class SafeguardingForm(GovukForm):
    kind = forms.ChoiceField(
        label="Who is at risk?", choices=SafeguardingConcern.Kind.choices, widget=forms.RadioSelect
    )
    concern = forms.CharField(
        label="What is the concern?",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Describe the concern"},
    )
    immediate_risk = forms.BooleanField(
        label="Someone is at immediate risk",
        required=False,
        help_text="If someone is in immediate danger, call 999 first.",
    )
    sent_to = forms.ModelChoiceField(
        label="Send to",
        queryset=Organisation.objects.filter(
            is_active=True, org_type__in=["adult_social_care", "childrens_services"]
        ),
        required=False,
        help_text="Leave empty to send to the organisation that handles this kind of concern.",
    )


class SafeguardingUpdateForm(GovukForm):
    status = forms.ChoiceField(
        label="Where does the concern stand?",
        choices=SafeguardingConcern.Status.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DeathReviewForm(GovukForm):
    status = forms.ChoiceField(
        label="Review", choices=Death.ReviewStatus.choices, widget=forms.RadioSelect
    )
    learning = forms.CharField(
        label="What we learned", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class SpendForm(GovukForm):
    spent_on = forms.DateField(label="Date", widget=DateInput)
    kind = forms.ChoiceField(label="Category", choices=Spend.Kind.choices)
    amount = forms.DecimalField(label="Amount (£)", min_value=0.01, max_digits=9, decimal_places=2)
    purpose = forms.CharField(label="What it was for", max_length=300)
    approved_by = WorkerChoice(label="Approved by", queryset=User.objects.none())

    def __init__(self, *args: Any, approvers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["approved_by"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[u.pk for u in approvers])

    def clean_spent_on(self) -> date:
        return _not_future(self.cleaned_data["spent_on"], "of a spend")


class BudgetForm(GovukForm):
    worker = WorkerChoice(label="Worker", queryset=User.objects.none())
    starts_on = forms.DateField(label="From", widget=DateInput)
    ends_on = forms.DateField(label="To", widget=DateInput)
    amount = forms.DecimalField(label="Amount (£)", min_value=0, max_digits=9, decimal_places=2)

    def __init__(self, *args: Any, workers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["worker"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[u.pk for u in workers])


class MigrationForm(GovukForm):
    file = forms.FileField(
        label="Caseload file",
        help_text="CSV (UTF-8 or Windows-1252) or .xlsx, in the caseload template's columns.",
    )
