"""OneStory records as FHIR R4 resources (``fhir.resources`` R4B models; docs/fhir.md).

Each function maps one stored thing to one resource, already cut to what the caller may
see: the caller fetched it through ``access.scope``. Every resource is validated by its
model as it is made, so an export that does not conform fails here, not at the receiver.
UK Core profiles are claimed only where HL7 UK has published one (ADR 0020).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Final

from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from onestory.access.models import Organisation
from onestory.casework.models import Allocation, Goal, SupportPlan
from onestory.consent.models import SharingBasis, SharingDecision
from onestory.measures.models import Completion
from onestory.people.models import Person, TimelineEvent
from onestory.referrals.models import Referral
from onestory_engine import fhir_feed

UK_CORE: Final = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
# Resources with a UK Core profile (STU3 index); CarePlan and EpisodeOfCare are only drafts
# "in development" there and Goal has none, so those claim the base FHIR resource.
PROFILED: Final = frozenset(
    {"Patient", "Organization", "Encounter", "Consent", "ServiceRequest", "QuestionnaireResponse"}
)
CATEGORY_SYSTEM: Final = "urn:onestory:category"
SHARING_BASIS_SYSTEM: Final = "urn:onestory:sharing-basis"
ALLOCATION_SYSTEM: Final = "urn:onestory:allocation-kind"
QUESTIONNAIRE_PREFIX: Final = "urn:onestory:questionnaire:"
OTHER_NAME_USE: Final = {"nickname": "nickname", "married": "maiden", "previous": "old"}
# fullUrls are name-based UUIDs, so the same record always exports the same Bundle.
_NAMESPACE: Final = uuid.UUID("5f0c7f5e-3c59-4f0e-9b7a-0e57a2c1d0a1")


def full_url(resource_type: str, key: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{resource_type}/{key}')}"


def ref(resource_type: str, key: object, display: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"reference": full_url(resource_type, key), "type": resource_type}
    if display:
        out["display"] = display
    return out


def _resource(resource_type: str, key: object, body: dict[str, Any]) -> dict[str, Any]:
    """A resource as JSON, validated by its R4B model."""
    data: dict[str, Any] = {"resourceType": resource_type, "id": f"{resource_type}-{key}".lower()}
    if resource_type in PROFILED:
        data["meta"] = {"profile": [f"{UK_CORE}{resource_type}"]}
    data.update({k: v for k, v in body.items() if v not in (None, "", [], {})})
    model = get_fhir_model_class(resource_type).model_validate(data)
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True, by_alias=True)
    return dumped


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], **({"text": display} if display else {})}


def patient(person: Person, *, contact_visible: bool) -> dict[str, Any]:
    """Identity always; address and telecom only when the user may see contact details."""
    identifiers = [{"system": fhir_feed.PERSON_ID_SYSTEM, "value": str(person.pk)}]
    if person.nhs_number:
        identifiers.insert(0, {"system": fhir_feed.NHS_NUMBER_SYSTEM, "value": person.nhs_number})
    if person.pnc_id:
        identifiers.append({"system": fhir_feed.PNC_ID_SYSTEM, "value": person.pnc_id})
    given = [person.given_name] if person.given_name else []
    given += person.middle_names.split()
    names: list[dict[str, Any]] = [
        {"use": "official", "family": person.family_name or None, "given": given or None}
    ]
    if person.preferred_name:
        names.append({"use": "usual", "given": [person.preferred_name]})
    for other in person.other_names.all():
        names.append(
            {
                "use": OTHER_NAME_USE.get(other.kind, "anonymous"),
                "family": other.family_name or None,
                "given": [other.given_name] if other.given_name else None,
            }
        )
    body: dict[str, Any] = {
        "identifier": identifiers,
        "name": [{k: v for k, v in n.items() if v} for n in names],
        "gender": fhir_feed.SEX_TO_GENDER.get(person.sex, "unknown"),
        "birthDate": _day(person.date_of_birth),
    }
    if contact_visible:
        if person.no_fixed_abode:
            body["address"] = [{"use": "temp", "text": "No fixed abode"}]
        elif person.address_line or person.postcode:
            body["address"] = [
                {
                    "use": "home",
                    "line": [person.address_line] if person.address_line else None,
                    "postalCode": person.postcode or None,
                }
            ]
        telecom = [
            {"system": system, "value": value}
            for system, value in (("phone", person.phone), ("email", person.email))
            if value
        ]
        body["telecom"] = telecom
    return _resource("Patient", person.pk, body)


def organization(org: Organisation) -> dict[str, Any]:
    return _resource("Organization", org.pk, {"active": org.is_active, "name": org.name})


def encounter(event: TimelineEvent, person_id: int) -> dict[str, Any]:
    """A partner feed's event (an ED attendance, an arrest, a housing approach...)."""
    record = event.source_record
    assert record is not None
    kind = record.source.kind
    raw: dict[str, Any] = record.raw or {}
    klass = "EMER" if kind == "ed" else "AMB"
    if event.event_type in {"admission", "mha_detention"}:
        klass = "IMP"
    body: dict[str, Any] = {
        "identifier": [
            {
                "system": f"{fhir_feed.SOURCE_SYSTEM_PREFIX}{record.source.name}",
                "value": record.source_record_id,
            }
        ],
        "status": "finished",
        "class": {"system": fhir_feed.ACT_CODE_SYSTEM, "code": klass},
        "type": [
            _concept(
                fhir_feed.EVENT_TYPE_SYSTEM,
                f"{kind}.{event.event_type}",
                event.event_type.replace("_", " ").capitalize(),
            )
        ],
        "subject": ref("Patient", person_id),
        "period": {"start": _day(event.occurred_on), "end": _day(event.ended_on)},
        "serviceProvider": ref("Organization", record.source.organisation_id),
    }
    if kind == "ed":
        arrival = str(raw.get("arrival_mode", "")).strip().lower()
        reason = str(raw.get("reason_category", "")).strip().lower()
        if arrival:
            body["hospitalization"] = {
                "admitSource": _concept(fhir_feed.ARRIVAL_MODE_SYSTEM, arrival)
            }
        if reason:
            body["reasonCode"] = [_concept(fhir_feed.REASON_CATEGORY_SYSTEM, reason)]
    return _resource("Encounter", event.pk, body)


def episode_of_care(allocation: Allocation) -> dict[str, Any]:
    """A worker's place on the person's support (caseload): lead worker or co-worker."""
    return _resource(
        "EpisodeOfCare",
        allocation.pk,
        {
            "status": "finished" if allocation.ended_on else "active",
            "type": [_concept(ALLOCATION_SYSTEM, allocation.kind, allocation.get_kind_display())],
            "patient": ref("Patient", allocation.person_id),
            "managingOrganization": ref("Organization", allocation.organisation_id),
            "period": {"start": _day(allocation.started_on), "end": _day(allocation.ended_on)},
            "careManager": {"display": str(allocation.worker)},
        },
    )


GOAL_STATUS: Final = {
    Goal.Status.ACTIVE: "active",
    Goal.Status.ACHIEVED: "completed",
    Goal.Status.CHANGED: "cancelled",
    Goal.Status.LET_GO: "cancelled",
}


def goal(item: Goal) -> dict[str, Any]:
    """One of the person's own goals, in their words (expressed by the person)."""
    notes = [{"text": n.text, "time": _instant(n.recorded_at)} for n in item.progress_notes.all()]
    return _resource(
        "Goal",
        item.pk,
        {
            "lifecycleStatus": GOAL_STATUS.get(Goal.Status(item.status), "active"),
            "achievementStatus": _concept(
                "http://terminology.hl7.org/CodeSystem/goal-achievement", "achieved", "Achieved"
            )
            if item.status == Goal.Status.ACHIEVED
            else None,
            "description": {"text": item.in_their_words},
            "subject": ref("Patient", item.person_id),
            "expressedBy": ref("Patient", item.person_id),
            "target": [{"dueDate": _day(item.target_on)}] if item.target_on else None,
            "statusDate": _day(item.status_changed_on),
            "note": [{k: v for k, v in n.items() if v} for n in notes],
        },
    )


def care_plan(person_id: int, plan: SupportPlan | None, goals: Iterable[Goal]) -> dict[str, Any]:
    """The support plan: the person's aspirations and strengths, their goals and steps."""
    goals = list(goals)
    activities = []
    for item in goals:
        for step in item.steps.all():
            activities.append(
                {
                    "detail": {
                        "status": "completed" if step.done_on else "not-started",
                        "description": step.description,
                        "goal": [ref("Goal", item.pk)],
                        "scheduledString": f"by {step.target_on.isoformat()}"
                        if step.target_on
                        else None,
                        "performer": [ref("Organization", step.organisation_id)],
                    }
                }
            )
    for activity in activities:
        activity["detail"] = {k: v for k, v in activity["detail"].items() if v}
    return _resource(
        "CarePlan",
        person_id,
        {
            "status": "active",
            "intent": "plan",
            "title": "Support plan",
            "description": plan.aspirations if plan else None,
            "subject": ref("Patient", person_id),
            "created": _instant(plan.updated_at) if plan else None,
            "goal": [ref("Goal", g.pk) for g in goals],
            "activity": activities,
            "note": [{"text": f"My strengths: {plan.strengths}"}]
            if plan and plan.strengths
            else None,
        },
    )


def questionnaire_response(completion: Completion) -> dict[str, Any]:
    """An NDTA or other measure: the answers by question id."""
    items = []
    for link_id, value in sorted(completion.answers.items()):
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            answer: dict[str, Any] = {"valueInteger": value}
        elif isinstance(value, float):
            answer = {"valueDecimal": value}
        else:
            answer = {"valueString": str(value)}
        items.append({"linkId": str(link_id), "answer": [answer]})
    instrument = completion.instrument
    return _resource(
        "QuestionnaireResponse",
        completion.pk,
        {
            "questionnaire": f"{QUESTIONNAIRE_PREFIX}{instrument.code}|{instrument.version}",
            "status": "completed" if completion.complete else "in-progress",
            "subject": ref("Patient", completion.person_id),
            "authored": _day(completion.completed_on),
            "author": ref("Organization", completion.organisation_id),
            "item": items,
        },
    )


def consent(decision: SharingDecision, *, today: date) -> dict[str, Any]:
    """A sharing decision: which categories one organisation may see, on what basis, until
    its review date."""
    active = decision.withdrawn_at is None and decision.review_on >= today
    rule = [{"system": SHARING_BASIS_SYSTEM, "code": decision.basis}]
    if decision.basis == SharingBasis.CONSENT:
        rule.insert(0, {"system": fhir_feed.ACT_CODE_SYSTEM, "code": "OPTIN"})
    return _resource(
        "Consent",
        decision.pk,
        {
            "status": "active" if active else "inactive",
            "scope": _concept(
                "http://terminology.hl7.org/CodeSystem/consentscope",
                "patient-privacy",
                "Privacy Consent",
            ),
            "category": [_concept("http://loinc.org", "59284-0", "Patient Consent")],
            "patient": ref("Patient", decision.person_id),
            "dateTime": _instant(decision.recorded_at),
            "organization": [ref("Organization", decision.recorded_by_organisation_id)],
            "policyRule": {"coding": rule, "text": decision.get_basis_display()},
            "provision": {
                "type": "permit",
                "period": {"end": _day(decision.review_on)},
                "actor": [
                    {
                        "role": _concept(
                            "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "IRCP",
                            "information recipient",
                        ),
                        "reference": ref("Organization", decision.organisation_id),
                    }
                ],
                "code": [_concept(CATEGORY_SYSTEM, c) for c in sorted(decision.categories)],
            },
        },
    )


REFERRAL_STATUS: Final = {
    Referral.Status.SENT: "active",
    Referral.Status.MORE_INFO: "on-hold",
    Referral.Status.ACCEPTED: "active",
    Referral.Status.DECLINED: "revoked",
    Referral.Status.WITHDRAWN: "revoked",
    Referral.Status.CLOSED: "completed",
}


def service_request(referral: Referral) -> dict[str, Any]:
    """A referral between partner organisations, with its reason and the person's words."""
    return _resource(
        "ServiceRequest",
        referral.pk,
        {
            "status": REFERRAL_STATUS.get(Referral.Status(referral.status), "unknown"),
            "intent": "order",
            "category": [_concept("http://snomed.info/sct", "3457005", "Patient referral")],
            "code": {"text": referral.service.name if referral.service else "Referral"},
            "subject": ref("Patient", referral.person_id),
            "authoredOn": _instant(referral.created_at),
            "requester": ref("Organization", referral.from_organisation_id),
            "performer": [ref("Organization", referral.to_organisation_id)],
            "reasonCode": [{"text": referral.reason}],
            "note": [{"text": f"What the person wants, in their words: {referral.what_they_want}"}]
            if referral.what_they_want
            else None,
        },
    )


def bundle(resources: list[tuple[str, object, dict[str, Any]]]) -> dict[str, Any]:
    """A collection Bundle of ``(resource type, key, resource)``, validated as a whole."""
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [
            {"fullUrl": full_url(kind, key), "resource": resource}
            for kind, key, resource in resources
        ],
    }
    dumped: dict[str, Any] = Bundle.model_validate(data).model_dump(
        mode="json", exclude_none=True, by_alias=True
    )
    return dumped
