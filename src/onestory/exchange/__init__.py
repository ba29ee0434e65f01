"""FHIR R4 exchange: a person's shared record out as a Bundle, Patient + Encounter in as a
feed (ADR 0020, docs/fhir.md)."""
