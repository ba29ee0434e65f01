from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from onestory.access.models import Organisation
from onestory.access.roles import Role
from onestory.core.forms import GovukForm
from onestory.partner_api.scopes import ROLE_SCOPES, Scope


class ApiClientForm(GovukForm):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(is_active=True),
        empty_label="Choose organisation",
        label="Which organisation's system is it?",
    )
    name = forms.CharField(
        max_length=100,
        label="Name of the client",
        help_text="The partner system that will call OneStory, for example City Hospital EPR.",
    )
    role = forms.ChoiceField(
        label="What role does it act in?",
        widget=forms.RadioSelect,
        help_text="It sees and does what a person in this role in your organisation may.",
    )
    scopes = forms.MultipleChoiceField(
        label="What may it do?",
        choices=[(s.value, s.label) for s in Scope],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_in_days = forms.IntegerField(
        label="Days until the token expires",
        min_value=1,
        max_value=int(settings.ONESTORY["API_TOKEN_MAX_DAYS"]),
        initial=int(settings.ONESTORY["API_TOKEN_DAYS"]),
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-4"}),
    )
    contact_email = forms.EmailField(label="Who to contact about it (email)", required=False)
    description = forms.CharField(
        label="What it is for", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, roles: list[Role], organisation: Organisation | None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = [(r.value, r.label) for r in roles]
        if organisation is not None:
            # Managers and data managers make clients for their own organisation only.
            del self.fields["organisation"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role, scopes = data.get("role"), data.get("scopes")
        if role and scopes:
            refused = [s for s in scopes if Scope(s) not in ROLE_SCOPES[Role(role)]]
            if refused:
                self.add_error(
                    "scopes",
                    f"A client acting as a {Role(role).label.lower()} cannot "
                    + " or ".join(Scope(s).label.lower() for s in refused),
                )
        return data


class RotateForm(GovukForm):
    revoke_old_now = forms.BooleanField(
        label="Stop the old token at once (it may have leaked)",
        required=False,
        help_text="Otherwise it keeps working for "
        f"{settings.ONESTORY['API_TOKEN_OVERLAP_HOURS']} hours, so the partner can switch.",
    )
    expires_in_days = forms.IntegerField(
        label="Days until the new token expires",
        min_value=1,
        max_value=int(settings.ONESTORY["API_TOKEN_MAX_DAYS"]),
        initial=int(settings.ONESTORY["API_TOKEN_DAYS"]),
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-4"}),
    )
