from __future__ import annotations

from typing import Any

from django import forms

from onestory.access.models import Organisation, Service
from onestory.core.forms import DateInput, GovukForm
from onestory.referrals.models import Referral


class ReferralForm(GovukForm):
    to_organisation = forms.ModelChoiceField(
        label="Refer to",
        queryset=Organisation.objects.none(),
        help_text="Organisations this person has agreed to share information with.",
        error_messages={"required": "Choose the organisation to refer to"},
    )
    service = forms.ModelChoiceField(
        label="Service (if you know it)", queryset=Service.objects.none(), required=False
    )
    reason = forms.CharField(
        label="Why you are referring",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say why you are referring"},
    )
    what_they_want = forms.CharField(
        label="What the person wants, in their words",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what the person wants"},
    )
    duty_to_refer = forms.BooleanField(
        label="This is a Duty to Refer (Housing Act 1996, section 213B)",
        required=False,
        help_text="The person is homeless or threatened with homelessness and agrees to the "
        "referral. Send it to the council's housing service.",
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [o.pk for o in organisations]
        org_field = self.fields["to_organisation"]
        service_field = self.fields["service"]
        assert isinstance(org_field, forms.ModelChoiceField)
        assert isinstance(service_field, forms.ModelChoiceField)
        org_field.queryset = Organisation.objects.filter(pk__in=ids)
        service_field.queryset = Service.objects.filter(
            organisation_id__in=ids, is_active=True
        ).select_related("organisation")


class DecisionForm(GovukForm):
    decision = forms.ChoiceField(
        label="Your answer",
        choices=[
            ("accept", "Accept: we will work with this person"),
            ("more_info", "Ask for more information"),
            ("decline", "Decline"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose your answer"},
    )
    decline_reason = forms.ChoiceField(
        label="If you decline, why?",
        choices=[("", "Choose a reason"), *Referral.DeclineReason.choices],
        required=False,
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you need to know, or anything the referrer should hear.",
    )
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "decline" and not data.get("decline_reason"):
            self.add_error("decline_reason", "Choose why you are declining")
        if data.get("decision") == "more_info" and not (data.get("note") or "").strip():
            self.add_error("note", "Say what you need to know")
        return data


class ReplyForm(GovukForm):
    text = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write your reply"},
    )


class EventForm(GovukForm):
    event_type = forms.ChoiceField(label="What happened?", widget=forms.RadioSelect, choices=[])
    occurred_on = forms.DateField(label="When", widget=DateInput)
    summary = forms.CharField(label="Short note", max_length=300, required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["event_type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
