from __future__ import annotations

from typing import Any

from django import forms

from onestory.access.models import Organisation, Service
from onestory.core.forms import DateInput, GovukForm
from onestory.voice.models import (
    Answer,
    Barrier,
    BarrierGroup,
    BarrierUpdate,
    Category,
    Recommendation,
)


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


EASY_ANSWERS = [(a.value, a.label) for a in Answer]


class FeedbackForm(GovukForm):
    """Easy read: short questions, one idea each, every answer optional to explain."""

    listened = forms.ChoiceField(
        label="Did we listen to you?",
        choices=EASY_ANSWERS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an answer: did we listen to you?"},
    )
    told_once = forms.ChoiceField(
        label="Did you only have to tell your story once?",
        choices=EASY_ANSWERS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an answer: did you only have to tell your story once?"},
    )
    have_a_say = forms.ChoiceField(
        label="Do you have a say in your support?",
        choices=EASY_ANSWERS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an answer: do you have a say in your support?"},
    )
    right_help = forms.ChoiceField(
        label="Did you get the help you needed?",
        choices=EASY_ANSWERS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an answer: did you get the help you needed?"},
    )
    better = forms.CharField(
        label="What could we do better? (you don't have to answer)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        error_messages={"max_length": "Please keep this to 2,000 characters or fewer"},
    )
    barrier = forms.CharField(
        label="Did something get in the way of getting help? Tell us what (you don't have to)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        error_messages={"max_length": "Please keep this to 2,000 characters or fewer"},
    )
    get_in_touch = forms.CharField(
        label="Do you want someone to get back to you? Leave a name and a way to reach you "
        "(you don't have to)",
        max_length=300,
        required=False,
        error_messages={"max_length": "Please keep this to 300 characters or fewer"},
    )


class SpeakUpForm(GovukForm):
    what_happened = forms.CharField(
        label="What gets in the way, or what would you change?",
        help_text="Do not name the people we support, or yourself if you want to stay anonymous.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        error_messages={"required": "Say what gets in the way"},
    )
    category = forms.ChoiceField(
        label="What kind of barrier is it?",
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what kind of barrier it is"},
    )
    service_or_rule = forms.CharField(label="Which service or rule", max_length=300, required=False)
    impact = forms.ChoiceField(
        label="What difference does it make?",
        choices=Barrier.Impact.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what difference it makes"},
    )


class PanelMeetingForm(GovukForm):
    held_on = forms.DateField(
        label="Date of the meeting",
        widget=DateInput,
        error_messages={
            "required": "Enter the date of the meeting",
            "invalid": "Enter a real date",
        },
    )
    theme = forms.CharField(
        label="What the panel looked at", max_length=200,
        error_messages={"required": "Say what the panel looked at"},
    )  # fmt: skip
    summary = forms.CharField(
        label="What the panel said",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        required=False,
    )


class RecommendationForm(GovukForm):
    text = forms.CharField(
        label="The panel's recommendation",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say what the panel recommends"},
    )
    organisation = forms.ModelChoiceField(
        label="Made to",
        queryset=Organisation.objects.filter(is_active=True).order_by("name"),
        error_messages={"required": "Choose the organisation it is made to"},
    )


class RecommendationResponseForm(VersionedForm):
    status = forms.ChoiceField(
        label="Your answer",
        choices=[c for c in Recommendation.Status.choices if c[0] != "waiting"],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose your answer"},
    )
    response = forms.CharField(
        label="Your response",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Give your response"},
    )
    what_changed = forms.CharField(
        label="What changed (if anything yet)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
    )


class StoryForm(GovukForm):
    you_said = forms.CharField(
        label="You said",
        help_text="In plain words for the public. No names, places or details that could "
        "identify anyone.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "Fill in 'You said'"},
    )
    we_did = forms.CharField(
        label="We did",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "Fill in 'We did'"},
    )
