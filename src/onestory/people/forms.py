from __future__ import annotations

from typing import Any

from django import forms

from onestory.access.models import BreakGlass, User
from onestory.core.forms import GovukForm


class AboutMeForm(GovukForm):
    what_matters = forms.CharField(
        label="What matters to me",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="In the person's own words.",
    )
    what_helps = forms.CharField(
        label="What helps me", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    what_to_avoid = forms.CharField(
        label="What to avoid, or please don't ask me about",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    how_to_contact = forms.CharField(
        label="How to contact me", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    important_people = forms.CharField(
        label="People who are important to me",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    person_agreed_wording = forms.BooleanField(
        label="The person has read or heard this and agrees with the wording", required=False
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class PeopleSearchForm(GovukForm):
    q = forms.CharField(label="Search by name or NHS number", required=False, max_length=100)


class TeamMemberForm(GovukForm):
    worker = forms.ModelChoiceField(label="Worker", queryset=User.objects.none())
    role_description = forms.CharField(
        label="Their role", max_length=200, help_text="For example: housing officer, CPN."
    )
    how_to_reach = forms.CharField(
        label="How to reach them", max_length=200, required=False, help_text="Phone or email."
    )

    def __init__(self, *args: Any, workers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["worker"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[w.pk for w in workers])


class BreakGlassForm(GovukForm):
    reason = forms.ChoiceField(
        label="Why do you need this record now?",
        choices=BreakGlass.Reason.choices,
        widget=forms.RadioSelect,
    )
    explanation = forms.CharField(
        label="Explain what is happening",
        help_text=(
            "Your organisation's privacy officer, and those of every organisation working "
            "with this person, will read this and review it."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class ClaimForm(GovukForm):
    reason = forms.CharField(
        label="Why are you working with this person?",
        help_text=(
            "For example: they came to our drop-in and asked for a navigator. Your "
            "privacy officer will review this."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class SealForm(GovukForm):
    sealed = forms.ChoiceField(
        label="Who can see this entry?",
        choices=[
            ("yes", "Only my organisation (sealed)"),
            ("no", "Everyone who may see this part of the record"),
        ],
        widget=forms.RadioSelect,
    )
