from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from onestory.access.models import Organisation
from onestory.access.roles import SHAREABLE_CATEGORIES
from onestory.consent.models import (
    DataSharingAgreement,
    SharingBasis,
)
from onestory.core.forms import DateInput, GovukForm, GovukModelForm


class SharingDecisionForm(GovukForm):
    organisations = forms.ModelMultipleChoiceField(
        label="Which organisations may see it?",
        queryset=Organisation.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one organisation"},
    )
    categories = forms.MultipleChoiceField(
        label="What information may they see?",
        help_text="Their name, date of birth and NHS number are shared with any of these.",
        choices=[(c.value, c.label) for c in SHAREABLE_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one kind of information"},
    )
    basis = forms.ChoiceField(
        label="Basis for sharing",
        choices=SharingBasis.choices,
        widget=forms.RadioSelect,
        initial=SharingBasis.CONSENT,
    )
    review_on = forms.DateField(
        label="Review date",
        help_text="Sharing stops on this date unless it is reviewed.",
        widget=DateInput,
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For an override, say why it was needed and who agreed it.",
    )

    def clean_review_on(self) -> date:
        review_on: date = self.cleaned_data["review_on"]
        if review_on <= date.today():  # noqa: DTZ011 - a calendar date is intended
            raise forms.ValidationError("The review date must be in the future")
        return review_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("basis") and data["basis"] != SharingBasis.CONSENT and not data.get("notes"):
            self.add_error("notes", "Say why an override was needed")
        return data


class WithdrawForm(GovukForm):
    reason = forms.CharField(
        label="Why is sharing being withdrawn?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why sharing is being withdrawn"},
    )


class AgreementForm(GovukModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = DataSharingAgreement
        fields = [
            "name",
            "purposes",
            "parties",
            "lead_navigation_organisations",
            "article6_basis",
            "article9_condition",
            "starts_on",
            "review_on",
            "ends_on",
        ]
        widgets = {
            "parties": forms.CheckboxSelectMultiple,
            "lead_navigation_organisations": forms.CheckboxSelectMultiple,
            "article6_basis": forms.RadioSelect,
            "article9_condition": forms.RadioSelect,
            "starts_on": DateInput,
            "review_on": DateInput,
            "ends_on": DateInput,
            "purposes": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "lead_navigation_organisations": (
                "Their navigators and managers may see the by-name list's minimal fields "
                "before a person has agreed to share, so they can be approached."
            ),
        }
