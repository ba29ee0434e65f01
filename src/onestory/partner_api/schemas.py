from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from onestory.referrals.models import Referral
from onestory_engine.feeds import FEED_KINDS

FeedKind = StrEnum("FeedKind", {k: k for k in FEED_KINDS})  # type: ignore[misc]
DeclineReason = StrEnum(  # type: ignore[misc]
    "DeclineReason", {c: c for c in Referral.DeclineReason.values}
)

Cell = str | None


class FeedRow(BaseModel):
    """One feed row: the columns of feeds.md (any case), plus any of your own, kept as raw
    data. Values are text (numbers are read as text; null is empty)."""

    # A plain pydantic model, not a ninja Schema: ninja's Schema reads input through a
    # wrapper that drops the extra columns.

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)
    __pydantic_extra__: dict[str, Cell]

    source_record_id: Cell = Field(None, max_length=2000)
    given_name: Cell = Field(None, max_length=2000)
    family_name: Cell = Field(None, max_length=2000)
    middle_names: Cell = Field(None, max_length=2000)
    date_of_birth: Cell = Field(None, max_length=2000)
    sex: Cell = Field(None, max_length=2000)
    nhs_number: Cell = Field(None, max_length=2000)
    pnc_id: Cell = Field(None, max_length=2000)
    address_line: Cell = Field(None, max_length=2000)
    postcode: Cell = Field(None, max_length=2000)
    phone: Cell = Field(None, max_length=2000)
    email: Cell = Field(None, max_length=2000)
    event_type: Cell = Field(None, max_length=2000)
    event_date: Cell = Field(None, max_length=2000)
    end_date: Cell = Field(None, max_length=2000)


class EventBatch(Schema):
    kind: FeedKind = Field(description="The feed kind (feeds.md): ed, housing, ...")
    source: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[-a-zA-Z0-9_]+$",
        description="Your name for this feed, e.g. city_hospital_ed: records update by "
        "source_record_id within it. Created for your organisation on first use.",
    )
    rows: list[FeedRow] = Field(
        min_length=1,
        max_length=int(settings.ONESTORY["API_MAX_ROWS"]),
        description="One row, or a batch of them.",
    )


class RowResult(Schema):
    index: int = Field(description="The row's position in `rows`, counting from 0.")
    source_record_id: str
    status: Literal["accepted", "updated", "unchanged", "quarantined"]
    field: str | None = Field(None, description="For a quarantined row: the column at fault.")
    reason: str | None = None


class ImportSummary(Schema):
    accepted: int
    updated: int
    unchanged: int
    quarantined: int


class EventBatchResult(Schema):
    import_id: int
    source: str
    summary: ImportSummary
    linked: bool = Field(description="Whether the new records were linked into persons now.")
    rows: list[RowResult]


class Named(Schema):
    id: int
    name: str


class ReferredPerson(Schema):
    id: int
    display_name: str
    date_of_birth: date | None


class ReferralMessageOut(Schema):
    organisation: str
    text: str
    written_at: datetime


class ReferralOut(Schema):
    id: int
    version: int = Field(description="Send it back with a decision (a version check).")
    status: str
    person: ReferredPerson
    from_organisation: Named
    to_organisation: Named
    service: str | None
    reason: str
    what_they_want: str
    duty_to_refer: bool
    respond_by: date
    created_at: datetime
    decline_reason: str
    decision_note: str


class ReferralDetail(ReferralOut):
    messages: list[ReferralMessageOut]


ID_MAX = 2**63 - 1  # the largest key the database holds


class ReferralIn(Schema):
    person_id: int = Field(ge=1, le=ID_MAX)
    to_organisation_id: int = Field(ge=1, le=ID_MAX)
    service_id: int | None = Field(None, ge=1, le=ID_MAX)
    reason: str = Field(min_length=1, max_length=5000)
    what_they_want: str = Field(min_length=1, max_length=5000)
    duty_to_refer: bool = False


class DecisionIn(Schema):
    decision: Literal["accept", "decline", "more_info"]
    version: int = Field(ge=1, le=2**31 - 1)
    decline_reason: DeclineReason | None = None
    note: str = Field("", max_length=5000)


class ReplyIn(Schema):
    text: str = Field(min_length=1, max_length=5000)


class MeOut(Schema):
    username: str
    role: str
    organisation: str
    organisation_id: int
    api_client: str | None = Field(None, description="The API client, when called with a token.")
    scopes: list[str] = Field(description="What you may call: a token's scopes; all, signed in.")
    token_expires_at: datetime | None = None
