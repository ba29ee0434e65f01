"""A FHIR R4 Bundle of Patient and Encounter resources as a partner feed's rows.

The Bundle is turned into the rows a CSV of the same feed kind would hold (feeds.md
columns), so it goes through the same validation, storage, idempotence and linking as a
file feed (ADR 0020). Each resource is checked on its own with the ``fhir.resources`` R4B
models: a bad entry becomes a bad row naming its entry index and field, and the good
entries are still imported. Nothing here touches a database; docs/fhir.md has the mapping.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from onestory_engine import feeds

# Identifier and code systems (docs/fhir.md). The NHS number system is the national one;
# the others are OneStory's own, as URNs, because no national system exists for them.
NHS_NUMBER_SYSTEM: Final = "https://fhir.nhs.uk/Id/nhs-number"
PNC_ID_SYSTEM: Final = "urn:onestory:id:pnc"
PERSON_ID_SYSTEM: Final = "urn:onestory:id:person"
SOURCE_SYSTEM_PREFIX: Final = "urn:onestory:source:"  # + source name: partner record ids
EVENT_TYPE_SYSTEM: Final = "urn:onestory:event-type"  # code "kind.event_type"
ARRIVAL_MODE_SYSTEM: Final = "urn:onestory:ed-arrival-mode"
REASON_CATEGORY_SYSTEM: Final = "urn:onestory:ed-reason-category"
ACT_CODE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

GENDER_TO_SEX: Final = {"male": "M", "female": "F", "other": "X", "unknown": "U"}
SEX_TO_GENDER: Final = {v: k for k, v in GENDER_TO_SEX.items()}

# Where each feed column comes from, to name the FHIR field in a bad row's reason.
COLUMN_PATHS: Final = {
    "source_record_id": "identifier",
    "given_name": "Patient.name.given",
    "middle_names": "Patient.name.given",
    "family_name": "Patient.name.family",
    "date_of_birth": "Patient.birthDate",
    "sex": "Patient.gender",
    "nhs_number": "Patient.identifier (NHS number)",
    "pnc_id": "Patient.identifier (PNC id)",
    "address_line": "Patient.address.line",
    "postcode": "Patient.address.postalCode",
    "phone": "Patient.telecom (phone)",
    "email": "Patient.telecom (email)",
    "event_type": "Encounter.type",
    "event_date": "Encounter.period.start",
    "end_date": "Encounter.period.end",
    "arrival_mode": "Encounter.hospitalization.admitSource",
    "reason_category": "Encounter.reasonCode",
}
IDENTITY_PART: Final = frozenset(feeds.IDENTITY_COLUMNS) - {"source_record_id"}


def looks_like_json(data: bytes) -> bool:
    """Whether a feed file is JSON (a FHIR Bundle) rather than CSV or xlsx."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


class BundleRefused(ValueError):
    """The Bundle cannot be used at all; the message is the one-line reason."""


@dataclass(frozen=True)
class BundleRow:
    """One feed row made from the Bundle, with the entries it came from."""

    values: dict[str, str]
    entry: int  # the Encounter's entry index (the Patient's for a register)
    label: str  # "Encounter/abc", for messages
    patient_entry: int
    patient_label: str


@dataclass(frozen=True)
class BadEntry:
    entry: int
    source_record_id: str
    reason: str
    raw: dict[str, str]


@dataclass
class BundleFeed:
    columns: tuple[str, ...]
    rows: list[BundleRow] = field(default_factory=list)
    bad: list[BadEntry] = field(default_factory=list)


def _label(resource: dict[str, Any]) -> str:
    kind = str(resource.get("resourceType", "resource"))
    return f"{kind}/{resource['id']}" if resource.get("id") else kind


def _where(index: int, resource: dict[str, Any]) -> str:
    return f"Bundle.entry[{index}] ({_label(resource)})"


def _validation_error(exc: Exception) -> str:
    """The first problem pydantic found, as ``field: message``."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            first = found[0]
            path = ".".join(str(p) for p in first.get("loc", ()))
            return f"{path or 'resource'}: {first.get('msg', 'invalid')}"
    return str(exc).splitlines()[0]


def _check(resource: dict[str, Any]) -> str | None:
    """Validate one resource with its R4B model; the problem, or ``None`` when valid."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(str(resource.get("resourceType")))
    except KeyError:
        return f"resourceType: '{resource.get('resourceType')}' is not a FHIR R4 resource"
    try:
        model.model_validate(resource)
    except (ValueError, TypeError) as exc:
        return _validation_error(exc)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _codings(concepts: Any) -> Iterator[dict[str, Any]]:
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        if isinstance(concept, dict):
            for coding in concept.get("coding") or []:
                if isinstance(coding, dict):
                    yield coding


def _code(concepts: Any, system: str) -> str:
    return next(
        (str(c.get("code", "")) for c in _codings(concepts) if c.get("system") == system), ""
    )


def _identifier(resource: dict[str, Any], system: str) -> str:
    for ident in resource.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") == system:
            return str(ident.get("value", ""))
    return ""


def record_id(resource: dict[str, Any]) -> str:
    """The partner's record id: a OneStory source identifier, else the first identifier's
    value, else the resource id."""
    idents = [i for i in resource.get("identifier") or [] if isinstance(i, dict)]
    for ident in idents:
        if str(ident.get("system", "")).startswith(SOURCE_SYSTEM_PREFIX) and ident.get("value"):
            return str(ident["value"])
    for ident in idents:
        if ident.get("value") and ident.get("system") not in {NHS_NUMBER_SYSTEM, PNC_ID_SYSTEM}:
            return str(ident["value"])
    return str(resource.get("id") or "")


def patient_values(patient: dict[str, Any]) -> dict[str, str]:
    """A Patient's identity columns (feeds.md), as a CSV row would carry them."""
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)]
    name = next(
        (n for use in ("official", "usual") for n in names if n.get("use") == use),
        names[0] if names else {},
    )
    given = [str(g) for g in name.get("given") or []]
    addresses = [a for a in patient.get("address") or [] if isinstance(a, dict)]
    address = next(
        (a for a in addresses if a.get("use") == "home"), addresses[0] if addresses else {}
    )
    lines = [str(x) for x in address.get("line") or []]
    telecom = [t for t in patient.get("telecom") or [] if isinstance(t, dict)]

    def contact(system: str) -> str:
        return next((str(t.get("value", "")) for t in telecom if t.get("system") == system), "")

    return {
        "given_name": given[0] if given else "",
        "middle_names": " ".join(given[1:]),
        "family_name": str(name.get("family") or ""),
        "date_of_birth": str(patient.get("birthDate") or ""),
        "sex": GENDER_TO_SEX.get(
            str(patient.get("gender") or ""), str(patient.get("gender") or "")
        ),
        "nhs_number": _identifier(patient, NHS_NUMBER_SYSTEM),
        "pnc_id": _identifier(patient, PNC_ID_SYSTEM),
        "address_line": ", ".join(lines) or str(address.get("text") or ""),
        "postcode": str(address.get("postalCode") or ""),
        "phone": contact("phone"),
        "email": contact("email"),
    }


def encounter_values(encounter: dict[str, Any], kind: str) -> dict[str, str]:
    """An Encounter's event columns (and the ED extras) for a feed of ``kind``."""
    coded = _code(encounter.get("type"), EVENT_TYPE_SYSTEM)
    event_type = coded.split(".", 1)[1] if "." in coded else coded
    klass = _dict(encounter.get("class"))
    if not event_type and kind == "ed" and klass.get("code") == "EMER":
        event_type = "attendance"
    period = _dict(encounter.get("period"))
    values = {
        "event_type": event_type,
        "event_date": str(period.get("start") or ""),
        "end_date": str(period.get("end") or ""),
    }
    if kind == "ed":
        hospital = encounter.get("hospitalization")
        admit = hospital.get("admitSource") if isinstance(hospital, dict) else None
        values["arrival_mode"] = _code(admit, ARRIVAL_MODE_SYSTEM)
        values["reason_category"] = _code(encounter.get("reasonCode"), REASON_CATEGORY_SYSTEM)
    return values


def _resolver(entries: list[tuple[int, dict[str, Any], str]]) -> dict[str, int]:
    """Reference strings that point at each Patient entry: its fullUrl and Patient/id."""
    refs: dict[str, int] = {}
    for index, resource, full_url in entries:
        if resource.get("resourceType") != "Patient":
            continue
        if full_url:
            refs[full_url] = index
        if resource.get("id"):
            refs[f"Patient/{resource['id']}"] = index
            if full_url.endswith(f"/Patient/{resource['id']}"):
                refs[full_url] = index
    return refs


def read_bundle(data: bytes, kind: str) -> BundleFeed:
    """The feed rows of a Bundle for a feed of ``kind``.

    Raises ``BundleRefused`` when the file is not a usable Bundle (not JSON, not a Bundle,
    no Patient, or no Encounter for an event kind). Entries of other resource types are
    ignored (a whole exported record can be sent); a Patient or Encounter that fails
    validation, or an Encounter whose subject does not resolve, is a bad entry.
    """
    try:
        bundle = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleRefused(f"not valid JSON ({exc})") from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleRefused("a JSON feed must be a FHIR Bundle (resourceType 'Bundle')")
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list):
        raise BundleRefused("Bundle.entry must be a list")
    entries: list[tuple[int, dict[str, Any], str]] = []
    for index, entry in enumerate(raw_entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") in {"Patient", "Encounter"}:
            entries.append((index, resource, str(entry.get("fullUrl") or "")))
    patients = [e for e in entries if e[1]["resourceType"] == "Patient"]
    encounters = [e for e in entries if e[1]["resourceType"] == "Encounter"]
    if not patients:
        raise BundleRefused("the Bundle has no Patient resource")
    if kind != "register" and not encounters:
        raise BundleRefused(f"{kind} feeds need Encounter resources; the Bundle has none")
    # The contract's columns; of the extra ones, only the ED feed's are mapped (fhir.md).
    columns = feeds.columns_for(kind)
    if kind not in {"ed", "register"}:
        columns = (*feeds.IDENTITY_COLUMNS, *feeds.EVENT_COLUMNS)
    feed = BundleFeed(columns=columns)
    problems = {index: _check(resource) for index, resource, _ in entries}
    identity = {
        index: patient_values(resource) for index, resource, _ in patients if not problems[index]
    }
    if kind == "register":
        for index, resource, _ in patients:
            values = {"source_record_id": record_id(resource), **identity.get(index, {})}
            problem = problems[index]
            if problem:
                feed.bad.append(
                    BadEntry(
                        index,
                        values["source_record_id"],
                        f"{_where(index, resource)} {problem}",
                        {},
                    )
                )
                continue
            feed.rows.append(BundleRow(values, index, _label(resource), index, _label(resource)))
        return feed
    refs = _resolver(entries)
    for index, resource, _ in encounters:
        sid = record_id(resource)
        where = _where(index, resource)
        problem = problems[index]
        subject = _dict(resource.get("subject"))
        reference = str(subject.get("reference") or "")
        patient_index = refs.get(reference)
        if problem:
            reason = f"{where} {problem}"
        elif not reference:
            reason = f"{where} subject: missing; an Encounter must refer to its Patient"
        elif patient_index is None:
            reason = f"{where} subject: '{reference}' is not a Patient in this Bundle"
        elif problems[patient_index]:
            reason = (
                f"{where} subject: its Patient, Bundle.entry[{patient_index}], is invalid "
                f"({problems[patient_index]})"
            )
        else:
            values = {
                "source_record_id": sid,
                **identity[patient_index],
                **encounter_values(resource, kind),
            }
            patient = next(r for i, r, _ in patients if i == patient_index)
            feed.rows.append(
                BundleRow(values, index, _label(resource), patient_index, _label(patient))
            )
            continue
        feed.bad.append(BadEntry(index, sid, reason, {"source_record_id": sid}))
    return feed


def explain(row: BundleRow, reason: str) -> str:
    """A validation reason about a row, restated to name the entry and FHIR field."""
    column = next((c for c in COLUMN_PATHS if reason.startswith(c)), "") or next(
        (c for c in COLUMN_PATHS if f" {c}" in reason), ""
    )
    if column in IDENTITY_PART:
        return (
            f"Bundle.entry[{row.patient_entry}] ({row.patient_label}) {COLUMN_PATHS[column]}: "
            f"{reason} (for Bundle.entry[{row.entry}] {row.label})"
        )
    path = COLUMN_PATHS.get(column, "")
    return f"Bundle.entry[{row.entry}] ({row.label}) {path + ': ' if path else ''}{reason}"
