from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from onestory.core.forms import DateInput, GovukForm
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
