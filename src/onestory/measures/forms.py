from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils import timezone

from onestory.core.forms import DateInput, GovukForm
from onestory.measures.evaluation import FIELDS as EVALUATION_FIELDS
from onestory.measures.models import Equality
from onestory.measures.outcomes import CHARACTERISTICS
from onestory.measures.services import EQUALITY_FIELDS
from onestory_engine import measures as engine


class CompletionForm(GovukForm):
    """One radio group per item of an instrument, built from its definition."""

    completed_on = forms.DateField(
        label="Date completed",
        widget=DateInput,
        error_messages={
            "required": "Enter the date it was completed",
            "invalid": "Enter a real date",
        },
    )

    def __init__(self, *args: Any, instrument: engine.Instrument, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"completed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        optional = instrument.max_missing > 0
        for number, item in enumerate(instrument.items, start=1):
            field = forms.TypedChoiceField(
                label=f"{number}. {item.text}",
                choices=[(str(v), label) for v, label in item.scale],
                coerce=int,
                widget=forms.RadioSelect,
                required=not optional,
                empty_value=None,
                error_messages={"required": f"Answer question {number}: {item.text.lower()}"},
            )
            self.fields[f"item_{item.key}"] = field

    def answers(self) -> dict[str, int | None]:
        return {
            item.key: self.cleaned_data.get(f"item_{item.key}") for item in self.instrument.items
        }


class EqualityForm(GovukForm):
    """Each question optional: blank means not asked yet."""

    based_on_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in EQUALITY_FIELDS:
            model_field = Equality._meta.get_field(name)
            assert isinstance(model_field, models.CharField)
            choices = [("", "Not asked yet"), *(model_field.choices or [])]
            self.fields[name] = forms.ChoiceField(
                label=str(model_field.verbose_name).capitalize()
                if name in {"gender_same_as_birth", "disabled"}
                else EQUALITY_LABELS[name],
                choices=choices,
                required=False,
                widget=forms.RadioSelect,
            )


EQUALITY_LABELS = {
    "sex": "Sex",
    "ethnicity": "Ethnic group",
    "sexual_orientation": "Sexual orientation",
    "religion": "Religion or belief",
}


class IndicatorUploadForm(GovukForm):
    file = forms.FileField(
        label="Fingertips CSV export",
        help_text="Download the indicators' data as CSV from Fingertips (Public Health "
        "Outcomes Framework) and load it here. Loading a newer export replaces older values.",
        error_messages={"required": "Choose a CSV file to load"},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError("The file must be smaller than 20 MB")
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("The file must be a CSV file")
        return upload


class EvaluationForm(GovukForm):
    columns = forms.MultipleChoiceField(
        label="Fields to include",
        help_text="Each row is one person in one-to-one support, named only by a pseudonym.",
        choices=[(k, label) for k, (label, _fn) in EVALUATION_FIELDS.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one field"},
    )


class InstrumentForm(GovukForm):
    definition = forms.CharField(
        label="Questionnaire definition (JSON)",
        help_text="The code, version, name, who completes it, how often, how many items may "
        "be missing, and each item with its scale, weight and whether it is reverse-scored. "
        "See the NDTA below for an example.",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        max_length=200_000,
        error_messages={"required": "Paste the questionnaire's definition"},
    )


class CharacteristicForm(GovukForm):
    characteristic = forms.ChoiceField(
        label="Protected characteristic",
        choices=list(CHARACTERISTICS),
        error_messages={"invalid_choice": "Choose a characteristic from the list"},
    )
