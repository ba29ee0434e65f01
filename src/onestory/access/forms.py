from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password

from onestory.access.models import Organisation, Service
from onestory.access.roles import Role
from onestory.core.forms import GovukForm, GovukModelForm


class OrganisationForm(GovukModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "org_type", "ods_code", "is_active"]
        labels = {"is_active": "Active (its staff can sign in and work)"}


class ServiceForm(GovukModelForm):
    class Meta:
        model = Service
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class UserCreateForm(GovukForm):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name")
    email = forms.EmailField(label="Email address")
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        help_text=(
            "At least 12 characters. They set up their authenticator app when they first sign in."
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            try:
                validate_password(data["password"])
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class MembershipForm(GovukForm):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(is_active=True), empty_label="Choose organisation"
    )
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role])
