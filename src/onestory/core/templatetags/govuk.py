from __future__ import annotations

from django import forms, template

from onestory.core.forms import govuk_widgets

register = template.Library()


@register.simple_tag
def govukify(form: forms.BaseForm) -> forms.BaseForm:
    return govuk_widgets(form)
