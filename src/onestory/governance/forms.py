from __future__ import annotations

from django import forms

from onestory.core.forms import DateInput, GovukForm
from onestory.governance.models import RectificationOutcome


def _received_on() -> forms.DateField:
    """Both kinds of request start from the day it was received."""
    return forms.DateField(
        label="Date the request was received",
        widget=DateInput,
        error_messages={
            "required": "Enter the date the request was received",
            "invalid": "Enter a real date",
        },
    )


class FindPersonForm(GovukForm):
    q = forms.CharField(
        label="Who is the request about?",
        help_text="A name, an NHS number, or a date of birth as DD/MM/YYYY.",
        max_length=100,
        error_messages={"required": "Enter a name, an NHS number or a date of birth"},
    )


class SubjectAccessForm(GovukForm):
    received_on = _received_on()
    requester = forms.CharField(
        label="Who made the request",
        help_text="The person themselves, or who acts for them and the authority they showed.",
        max_length=200,
        error_messages={"required": "Say who made the request"},
    )
    identity_checked = forms.CharField(
        label="How you checked who they are",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say how you checked who they are"},
    )


class ExtendForm(GovukForm):
    months = forms.TypedChoiceField(
        label="Extend by",
        choices=[(1, "One month"), (2, "Two months")],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how long to extend by"},
    )
    reason = forms.CharField(
        label="Why the request is complex or one of several",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why the request needs more time"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class CloseForm(GovukForm):
    sent_on = forms.DateField(
        label="Date the response was sent",
        widget=DateInput,
        error_messages={"required": "Enter the date it was sent", "invalid": "Enter a real date"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class RectificationForm(GovukForm):
    received_on = _received_on()
    what_is_wrong = forms.CharField(
        label="What the person says is wrong, in their words",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Write what the person says is wrong"},
    )
    where = forms.CharField(
        label="Where it is recorded",
        help_text="For example: timeline entry from City Hospital on 3 March 2026.",
        max_length=200,
        required=False,
    )


class DecideForm(GovukForm):
    outcome = forms.ChoiceField(
        label="What was decided",
        choices=RectificationOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what was decided"},
    )
    note = forms.CharField(
        label="What was done and why",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Say what was done and why"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class DestroyForm(GovukForm):
    reason = forms.CharField(
        label="Why it can be destroyed now",
        help_text="For example: no contact for 8 years; no open complaint, claim or enquiry.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why it can be destroyed now"},
    )
    confirm = forms.BooleanField(
        label="I have reviewed this record and it should be destroyed. This cannot be undone.",
        error_messages={"required": "Confirm that you have reviewed the record"},
    )


class HoldForm(GovukForm):
    until = forms.DateField(
        label="Review it again on",
        widget=DateInput,
        error_messages={
            "required": "Enter the date to review it again",
            "invalid": "Enter a real date",
        },
    )
    reason = forms.CharField(
        label="Why it must be kept for now",
        help_text="For example: an ongoing safeguarding enquiry, a complaint or a legal claim.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why it must be kept"},
    )
