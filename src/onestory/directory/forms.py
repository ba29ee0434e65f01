from __future__ import annotations

from django import forms

from onestory.access.models import Organisation, OrganisationType, Service
from onestory.core.forms import GovukForm, GovukModelForm


class DirectorySearchForm(GovukForm):
    q = forms.CharField(label="Search services", required=False, max_length=100)
    org_type = forms.ChoiceField(
        label="Kind of organisation",
        required=False,
        choices=[("", "Any"), *OrganisationType.choices],
    )
    needs = forms.MultipleChoiceField(
        label="Only show services where",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, Service.flexibility_label(name)) for name in Service.FLEXIBILITY],
    )


class ServiceEntryForm(GovukModelForm):
    class Meta:
        model = Service
        fields = [
            "name", "description", "eligibility", "how_to_access", "hours", "location",
            "referral_route", *Service.FLEXIBILITY, "is_active",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "eligibility": forms.Textarea(attrs={"rows": 3}),
            "how_to_access": forms.Textarea(attrs={"rows": 3}),
            "referral_route": forms.Textarea(attrs={"rows": 3}),
        }


def organisations_with_services() -> list[Organisation]:
    return list(Organisation.objects.filter(services__is_active=True).distinct())
