from __future__ import annotations

from datetime import date

from ninja import Schema


class PersonSummary(Schema):
    id: int
    display_name: str
    date_of_birth: date | None
    nhs_number: str


class ContactDetails(Schema):
    address_line: str
    postcode: str
    no_fixed_abode: bool
    phone: str
    email: str


class AboutMeOut(Schema):
    version: int
    what_matters: str
    what_helps: str
    what_to_avoid: str
    how_to_contact: str | None
    important_people: str
    person_agreed_wording: bool


class TeamMember(Schema):
    organisation: str
    kind: str
    worker: str | None
    since: date


class PersonDetail(PersonSummary):
    given_name: str
    family_name: str
    pnc_id: str
    categories: list[str]
    contact: ContactDetails | None
    about_me: AboutMeOut | None
    team: list[TeamMember]


class TimelineEventOut(Schema):
    id: int
    occurred_on: date
    ended_on: date | None
    category: str
    event_type: str
    summary: str
    organisation: str
