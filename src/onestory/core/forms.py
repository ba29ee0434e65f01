"""Forms that render as GOV.UK Design System components."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.widgets import Input

_WIDGET_CLASSES: list[tuple[type[forms.Widget], str]] = [
    (forms.CheckboxSelectMultiple, ""),
    (forms.RadioSelect, ""),
    (forms.CheckboxInput, "govuk-checkboxes__input"),
    (forms.Textarea, "govuk-textarea"),
    (forms.Select, "govuk-select"),
    (forms.FileInput, "govuk-file-upload"),
    (Input, "govuk-input"),
]


def _add_class(widget: forms.Widget) -> None:
    """The GOV.UK class for this kind of widget, added once."""
    for widget_type, css in _WIDGET_CLASSES:
        if isinstance(widget, widget_type):
            if css and css not in widget.attrs.get("class", "").split():
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()
            return


def govuk_widgets(form: forms.BaseForm) -> forms.BaseForm:
    """Give any form's widgets GOV.UK classes (used for allauth's forms, which are not ours)."""
    for name, field in form.fields.items():
        widget = field.widget
        _add_class(widget)
        widget.attrs.pop("placeholder", None)
        if form.is_bound and name in form.errors:
            widget.attrs["aria-describedby"] = f"id_{name}-error"
    return form


class GovukFormMixin:
    """Adds GOV.UK classes and ARIA links to each widget; render with core/field.html."""

    fields: dict[str, forms.Field]
    errors: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            _add_class(widget)
            described = []
            if field.help_text:
                described.append(f"{self[name].auto_id}-hint")  # type: ignore[index]
            if described:
                widget.attrs["aria-describedby"] = " ".join(described)

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-describedby"] = (
                    widget.attrs.get("aria-describedby", "") + f" {self[name].auto_id}-error"  # type: ignore[index]
                ).strip()
                css = widget.attrs.get("class", "")
                for base in ("govuk-input", "govuk-textarea", "govuk-select"):
                    if base in css.split():
                        widget.attrs["class"] = f"{css} {base}--error"


class GovukForm(GovukFormMixin, forms.Form):
    pass


class GovukModelForm(GovukFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    pass


class DateInput(forms.DateInput):
    """A native date picker. Its value must be ISO (YYYY-MM-DD) whatever the locale, or the
    browser shows an initial date as empty."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        super().__init__(attrs, format=format or "%Y-%m-%d")
