from __future__ import annotations

from typing import Any

from django import forms

from onestory.access.models import Organisation, User
from onestory.core.forms import DateInput, GovukForm
from onestory.meetings.models import Action


class MeetingForm(GovukForm):
    title = forms.CharField(label="Meeting", max_length=200, initial="Multi-agency meeting")
    held_on = forms.DateField(label="Date", widget=DateInput)
    organisations = forms.ModelMultipleChoiceField(
        label="Organisations taking part",
        queryset=Organisation.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class AgendaAddForm(GovukForm):
    person = forms.ChoiceField(label="Add a person to the agenda", choices=[])

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["person"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose someone from your caseloads"), *people]


class AgendaRecordForm(GovukForm):
    discussion = forms.CharField(
        label="What was discussed", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    decisions = forms.CharField(
        label="What was decided", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ActionForm(GovukForm):
    description = forms.CharField(label="Action", max_length=300)
    owner_organisation = forms.ModelChoiceField(
        label="Organisation that will do it", queryset=Organisation.objects.filter(is_active=True)
    )
    owner = forms.ModelChoiceField(
        label="Named person (optional)", queryset=User.objects.none(), required=False
    )
    due_on = forms.DateField(label="Due by", widget=DateInput)

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[u.pk for u in owners])


class ActionStatusForm(GovukForm):
    status = forms.ChoiceField(
        label="How does it stand?", choices=Action.Status.choices, widget=forms.RadioSelect
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
