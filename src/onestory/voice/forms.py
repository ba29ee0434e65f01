from __future__ import annotations

from typing import Any

from django import forms

from onestory.access.models import Organisation, Service
from onestory.core.forms import GovukForm
from onestory.voice.models import Barrier, BarrierGroup, BarrierUpdate, Category


class BarrierForm(GovukForm):
    what_happened = forms.CharField(
        label="What happened",
        help_text="What got in the way, in plain words. Do not name the person here.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        error_messages={"required": "Say what happened"},
    )
    category = forms.ChoiceField(
        label="What kind of barrier was it?",
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what kind of barrier it was"},
    )
    service = forms.ModelChoiceField(
        label="Service (if it was one in the directory)",
        queryset=Service.objects.none(),
        required=False,
    )
    service_or_rule = forms.CharField(
        label="Which service or rule",
        help_text="For example, 'the council's housing register: 2 years' local connection'.",
        max_length=300,
        required=False,
    )
    impact = forms.ChoiceField(
        label="What difference did it make?",
        choices=Barrier.Impact.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what difference it made"},
    )
    impact_note = forms.CharField(
        label="Anything more about the difference it made (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Service.objects.filter(is_active=True).select_related("organisation")


class VersionedForm(GovukForm):
    based_on_version = forms.IntegerField(widget=forms.HiddenInput)


class AssignForm(VersionedForm):
    owner = forms.ModelChoiceField(
        label="Organisation that owns this barrier",
        queryset=Organisation.objects.filter(is_active=True).order_by("name"),
        error_messages={"required": "Choose the organisation that owns it"},
    )
    note = forms.CharField(
        label="Note to them (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )


class GroupForm(VersionedForm):
    group = forms.ModelChoiceField(
        label="Group with similar barriers",
        queryset=BarrierGroup.objects.order_by("title"),
        required=False,
    )
    new_title = forms.CharField(label="Or start a new group called", max_length=200, required=False)


class NoteForm(VersionedForm):
    text = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say why"},
    )


class RespondForm(VersionedForm):
    kind = forms.ChoiceField(
        label="What are you recording?",
        choices=[
            (BarrierUpdate.Kind.RESPONSE, "Our response"),
            (BarrierUpdate.Kind.ACTION, "An action we have taken"),
            (BarrierUpdate.Kind.RESOLVED, "It is resolved: what changed"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what you are recording"},
    )
    text = forms.CharField(
        label="What you did or will do",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Say what you did or will do"},
    )


class BoardFilter(GovukForm):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any"), ("open", "Open"), ("overdue", "Overdue"), *Barrier.Status.choices],
    )
    category = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Any"), *Category.choices]
    )
