from __future__ import annotations

from django import forms

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
