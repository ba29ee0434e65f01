from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from onestory.core.forms import GovukForm
from onestory_engine.feeds import FEED_KINDS

KIND_LABELS = {
    "ed": "Emergency department attendances",
    "housing": "Housing options and homelessness",
    "substance": "Drug and alcohol treatment",
    "mental_health": "Secondary mental health",
    "domestic_abuse": "MARAC and IDVA referrals",
    "police": "Police custody and records",
    "probation": "Probation",
    "prison": "Prison receptions and releases",
    "register": "A list of people you support",
}


class UploadForm(GovukForm):
    kind = forms.ChoiceField(
        label="What kind of feed is it?",
        choices=[(k, KIND_LABELS.get(k, k)) for k in FEED_KINDS],
        widget=forms.RadioSelect,
    )
    source = forms.SlugField(
        label="Source name",
        max_length=100,
        help_text="Your name for this feed, for example city_hospital_ed. Records update by "
        "their ID within the same source.",
    )
    file = forms.FileField(
        label="Upload the file",
        help_text="CSV (UTF-8 or Windows-1252) or Excel .xlsx, first sheet only; or a FHIR "
        "R4 Bundle of Patient and Encounter resources (.json).",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.ONESTORY_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file must be smaller than {limit // (1024 * 1024)} MB"
            )
        name = upload.name.lower()
        if not name.endswith((".csv", ".txt", ".xlsx", ".json")):
            raise forms.ValidationError(
                "The selected file must be a CSV, .xlsx or FHIR Bundle (.json) file"
            )
        return upload
