"""Everything OneStory holds about a person, for a subject access request (UK GDPR Art. 15).

"Everything" is found, not listed: every model with a foreign key to ``Person`` (and the
rows hanging off those, such as a goal's steps) is included unless ``NOT_DISCLOSED`` says
why not, so a model added later is in the next request without anyone remembering to add it
(``tests/test_governance.py`` fails if a new model is neither included nor excluded).
Callers go through ``access.scope.subject_access_record``, which checks the role and audits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db import models

from onestory.access.models import Organisation, User
from onestory.audit.models import AuditPersonAccess
from onestory.people.models import Person

# Models that point at a person but are not part of a disclosure, and why.
NOT_DISCLOSED: dict[str, str] = {
    "audit.AuditPersonAccess": "given as the access log section instead",
    "people.Person": "the person themselves: given as the identity section",
    "intake.MatchPair": "linkage internals that show other people's identity fields",
}
# Fields never disclosed: internal bookkeeping, not information about the person.
HIDDEN_FIELDS = {"version", "id"}


def merged_ids(person_id: int) -> list[int]:
    """The person and every person record linkage merged into them (at any depth)."""
    ids = [person_id]
    frontier = [person_id]
    while frontier:
        frontier = list(
            Person._default_manager.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def person_models() -> list[tuple[type[models.Model], str]]:
    """Each model holding rows about a person, with the lookup from it to the person id."""
    found: list[tuple[type[models.Model], str]] = []
    direct: list[tuple[type[models.Model], str]] = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if (
                isinstance(field, models.ForeignKey | models.OneToOneField)
                and field.related_model is Person
                and _label(model) not in NOT_DISCLOSED
            ):
                direct.append((model, field.name))
    found.extend(direct)
    parents = dict(direct)
    for model in apps.get_models():
        if model in parents or _label(model) in NOT_DISCLOSED:
            continue
        for field in model._meta.get_fields():
            if (
                isinstance(field, models.ForeignKey)
                and field.related_model in parents
                and field.many_to_one
            ):
                found.append((model, f"{field.name}__{parents[field.related_model]}"))
                break
    return found


def _value(obj: models.Model, field: models.Field[Any, Any]) -> Any:
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    value = getattr(obj, field.attname)
    if isinstance(field, models.ForeignKey):
        if value is None:
            return None
        related = getattr(obj, field.name)
        if isinstance(related, User):
            return related.get_full_name() or related.get_username()
        if isinstance(related, Organisation):
            return related.name
        if isinstance(related, Person):
            return f"person {related.pk}"
        return str(related)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(model: type[models.Model], lookup: str, ids: list[int]) -> list[dict[str, Any]]:
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.name not in HIDDEN_FIELDS and f.related_model is not Person
    ]
    queryset = model._default_manager.filter(**{f"{lookup}__in": ids}).order_by("pk")
    return [{str(f.verbose_name).capitalize(): _value(obj, f) for f in fields} for obj in queryset]


def person_record(person_id: int) -> dict[str, Any]:
    """Everything held about the person (and the records merged into them), as plain data."""
    ids = merged_ids(person_id)
    person = Person._default_manager.get(pk=person_id)
    identity = {
        str(f.verbose_name).capitalize(): _value(person, f)
        for f in Person._meta.concrete_fields
        if f.name not in HIDDEN_FIELDS | {"merged_into", "restricted_owner"}
    }
    sections: list[dict[str, Any]] = []
    for model, lookup in person_models():
        rows = _rows(model, lookup, ids)
        if rows:
            sections.append(
                {
                    "title": str(model._meta.verbose_name_plural).capitalize(),
                    "model": _label(model),
                    "rows": rows,
                }
            )
    sections.sort(key=lambda s: s["title"])
    access = (
        AuditPersonAccess._default_manager.filter(person_id__in=ids)
        .select_related("event")
        .order_by("event__seq")
    )
    access_log = [
        {
            "When": row.event.at.isoformat(),
            "Who": row.event.actor_username or row.event.system_actor,
            "Role": row.event.actor_role,
            "Organisation": row.event.actor_organisation,
            "What": row.event.action,
            "Basis": row.event.basis,
        }
        for row in access
    ]
    return {
        "person_id": person_id,
        "merged_person_ids": ids[1:],
        "identity": identity,
        "sections": sections,
        "access_log": access_log,
    }
