"""Writing and verifying the audit trail.

Within a request or command, ``audit.record()`` adds to that request's one pending event; the
request's middleware (or the command's context manager) writes it once, at the end. Outside
any context, ``record()`` writes an event at once.
"""

from __future__ import annotations

import contextvars
import getpass
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from onestory.audit.chain import GENESIS, event_hash
from onestory.audit.models import AuditChainHead, AuditEvent, AuditPersonAccess
from onestory.core import rls
from onestory.core.bulk import insert_rows


@dataclass(frozen=True)
class Actor:
    """Who acted: a user in a role and organisation, or a named system actor."""

    user_id: int | None = None
    username: str = ""
    role: str = ""
    organisation_id: int | None = None
    organisation: str = ""
    system: str = ""

    @classmethod
    def for_command(cls, command: str) -> Actor:
        try:
            os_user = getpass.getuser()
        except (KeyError, OSError):
            os_user = "unknown"
        return cls(system=f"onestory-cli {command} (os user {os_user})")

    @property
    def label(self) -> str:
        if self.system:
            return self.system
        if self.user_id is None:
            return "anonymous"
        return f"{self.username} ({self.role}, {self.organisation})"


ANONYMOUS = Actor()
# Feedback from people and staff speaking up anonymously (ADR 0012).
UNATTRIBUTED = Actor(system="unattributed (feedback from a person, or staff speaking up)")

# Called with each event once it is written (tests use this to tie scope reads to events).
write_observers: list[Callable[[AuditEvent], None]] = []


@dataclass
class AuditContext:
    """The one pending event of a request or command."""

    actor: Actor
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    actions: list[str] = field(default_factory=list)
    person_ids: set[int] = field(default_factory=set)
    basis: set[str] = field(default_factory=set)
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)
    # A GET or HEAD request: break glass opens records only in these (read-only, rule 7).
    read_only: bool = False

    def add(
        self,
        *,
        action: str | None = None,
        persons: Iterable[int] = (),
        basis: str = "",
        outcome: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        if action and action not in self.actions:
            self.actions.append(action)
        self.person_ids.update(int(p) for p in persons)
        if basis:
            self.basis.add(basis)
        if outcome:
            self.outcome = outcome
        if detail:
            self.detail.update(detail)


_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "onestory_audit_context", default=None
)


def current_context() -> AuditContext | None:
    return _current.get()


@contextmanager
def audit_context(actor: Actor) -> Iterator[AuditContext]:
    """Collect one request's or command's audit facts; the caller writes them with ``flush``."""
    ctx = AuditContext(actor=actor)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextmanager
def audited_command(command: str, *, action: str | None = None) -> Iterator[AuditContext]:
    """Run a CLI command as the named system actor; writes its one event at the end. Row-level
    security sees the system acting (ADR 0022)."""
    with audit_context(Actor.for_command(command)) as ctx, rls.system():
        ctx.add(action=action or f"cli.{command}")
        try:
            yield ctx
        except BaseException:
            ctx.outcome = "failed"
            flush(ctx)
            raise
        flush(ctx)


def record(
    *,
    actor: Actor,
    action: str,
    persons: Iterable[int] = (),
    basis: str = "",
    outcome: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Record that ``actor`` did ``action`` touching ``persons``.

    Inside a request or command this joins its one event (returns None); otherwise it
    writes an event of its own at once.
    """
    ctx = current_context()
    if ctx is not None:
        ctx.add(action=action, persons=persons, basis=basis, outcome=outcome, detail=detail)
        return None
    return write_event(
        actor=actor,
        request_id=str(uuid.uuid4()),
        action=action,
        person_ids=sorted({int(p) for p in persons}),
        basis=basis,
        outcome=outcome or "ok",
        detail=detail or {},
    )


def flush(
    ctx: AuditContext,
    *,
    method: str = "",
    path: str = "",
    status_code: int | None = None,
    day_only: bool = False,
) -> AuditEvent:
    return write_event(
        day_only=day_only,
        actor=ctx.actor,
        request_id=ctx.request_id,
        action=",".join(ctx.actions) or "request",
        person_ids=sorted(ctx.person_ids),
        basis=",".join(sorted(ctx.basis)),
        outcome=ctx.outcome,
        detail=ctx.detail,
        method=method,
        path=path,
        status_code=status_code,
    )


def write_event(
    *,
    actor: Actor,
    request_id: str,
    action: str,
    person_ids: list[int],
    basis: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    method: str = "",
    path: str = "",
    status_code: int | None = None,
    day_only: bool = False,
) -> AuditEvent:
    """Append one event to the chain. Serialised by a lock on the chain head. With
    ``day_only`` the event's time is the start of the day (unattributed requests)."""
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            # The very first event: two writers may race to create the head; the loser
            # waits for the winner's row and chains after it.
            try:
                with transaction.atomic():
                    AuditChainHead.objects.create(pk=1, last_seq=0, last_hash=GENESIS)
            except IntegrityError:
                pass
            head = AuditChainHead.objects.select_for_update().get(pk=1)
        now = timezone.now()
        if day_only:
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        fields: dict[str, Any] = {
            "seq": head.last_seq + 1,
            "at": now.isoformat(timespec="microseconds"),
            "request_id": request_id,
            "actor_user_id": actor.user_id,
            "actor_username": actor.username,
            "actor_role": actor.role,
            "actor_organisation_id": actor.organisation_id,
            "actor_organisation": actor.organisation,
            "system_actor": actor.system,
            "action": action[:200],
            "basis": basis[:200],
            "outcome": outcome,
            "method": method,
            "path": path[:500],
            "status_code": status_code,
            "person_ids": person_ids,
            "detail": detail or {},
        }
        digest = event_hash(head.last_hash, fields)
        event = AuditEvent.objects.create(
            **{**fields, "at": datetime.fromisoformat(fields["at"])},
            prev_hash=head.last_hash,
            hash=digest,
        )
        if person_ids:
            insert_rows(
                AuditPersonAccess, ("event_id", "person_id"), ((event.pk, p) for p in person_ids)
            )
        head.last_seq = fields["seq"]
        head.last_hash = digest
        head.save(update_fields=["last_seq", "last_hash"])
    for observer in write_observers:
        observer(event)
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str = ""


def _fields_of(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(timespec="microseconds"),
        "request_id": event.request_id,
        "actor_user_id": event.actor_user_id,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "actor_organisation_id": event.actor_organisation_id,
        "actor_organisation": event.actor_organisation,
        "system_actor": event.system_actor,
        "action": event.action,
        "basis": event.basis,
        "outcome": event.outcome,
        "method": event.method,
        "path": event.path,
        "status_code": event.status_code,
        "person_ids": event.person_ids,
        "detail": event.detail,
    }


def audit_verify() -> VerifyResult:
    """Walk the chain in order; report the first event whose link or content is wrong."""
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    # Stored in UTC; compare in UTC whatever the connection's time zone.
    for event in AuditEvent.objects.order_by("seq", "id").iterator(chunk_size=2000):
        event.at = event.at.astimezone(UTC)
        if event.seq != expected_seq:
            reason = (
                f"expected sequence {expected_seq} but found {event.seq}"
                " (an event was deleted or reordered)"
            )
            return VerifyResult(False, count, expected_seq, reason)
        if event.prev_hash != prev_hash:
            return VerifyResult(
                False, count, event.seq, "link to the previous event does not match"
            )
        if event_hash(prev_hash, _fields_of(event)) != event.hash:
            return VerifyResult(False, count, event.seq, "contents do not match their hash")
        prev_hash = event.hash
        expected_seq += 1
        count += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != count or head.last_hash != prev_hash):
        return VerifyResult(
            False,
            count,
            count + 1,
            f"the chain ends at {count} but {head.last_seq} events were written"
            " (events were deleted from the end)",
        )
    return VerifyResult(True, count)
