"""The audit trail: one event per request, hash-chained, and tampering is detected."""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import pytest
from django.db import connection

from onestory.audit.models import AuditEvent
from onestory.audit.services import Actor, audit_verify, record
from tests.conftest import World


def _events(n: int) -> None:
    for i in range(n):
        record(actor=Actor(system="test"), action=f"test.event.{i}", persons=[i % 5 + 1])


def test_one_event_per_request_with_every_person(world: World, client_for: Any) -> None:
    client = client_for("navigator")
    before = AuditEvent.objects.count()
    client.get("/people/")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.person_ids == [world.alice.pk]
    assert event.actor_role == "navigator" and event.actor_organisation == world.nav_org.name
    assert event.path == "/people/" and event.status_code == 200


def test_a_write_and_its_event_share_one_transaction(world: World, client_for: Any) -> None:
    client = client_for("navigator")
    before = AuditEvent.objects.count()
    response = client.post(
        f"/people/{world.alice.pk}/about-me/", {"what_matters": "Housing", "based_on_version": 1}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert "about_me.save" in event.action and event.person_ids == [world.alice.pk]


def test_chain_verifies(db: None) -> None:
    _events(30)
    result = audit_verify()
    assert result.ok and result.events == 30


def _tamper(kind: str, rng: random.Random) -> int:
    """Apply one kind of tampering; return the sequence number verify should name."""
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    target = rng.choice(seqs[:-1]) if kind == "reorder" else rng.choice(seqs)
    event = AuditEvent.objects.get(seq=target)
    if kind == "edit_action":
        AuditEvent.objects.filter(pk=event.pk).update(action="nothing to see")
    elif kind == "edit_persons":
        AuditEvent.objects.filter(pk=event.pk).update(person_ids=[999])
    elif kind == "edit_actor":
        AuditEvent.objects.filter(pk=event.pk).update(actor_username="someone-else")
    elif kind == "edit_time":
        AuditEvent.objects.filter(pk=event.pk).update(at=event.at.replace(year=2001))
    elif kind == "delete":
        event.person_rows.all().delete()
        event.delete()
    elif kind == "reorder":
        other = AuditEvent.objects.get(seq=target + 1)
        AuditEvent.objects.filter(pk=event.pk).update(seq=-1)
        AuditEvent.objects.filter(pk=other.pk).update(seq=target)
        AuditEvent.objects.filter(pk=event.pk).update(seq=target + 1)
    return target


@pytest.mark.parametrize("trial", range(100))
def test_random_tampering_is_detected(db: None, trial: int) -> None:
    """100 random edits, deletions and reorderings: every one is detected, naming the event."""
    rng = random.Random(trial)
    _events(12)
    kind = rng.choice(
        ["edit_action", "edit_persons", "edit_actor", "edit_time", "delete", "reorder"]
    )
    target = _tamper(kind, rng)
    result = audit_verify()
    assert not result.ok, kind
    assert result.broken_seq == target, (kind, result)


def test_cli_verify_prints_the_contract_lines(
    transactional_db: None, tmp_path: Any, settings: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the CLI subprocess test uses a file database of its own")
    env = {"ONESTORY_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    exe = [sys.executable, "-m", "onestory.cli"]
    init = subprocess.run([*exe, "init"], env=env, capture_output=True, text=True, check=False)
    assert init.returncode == 0, init.stderr
    ok = subprocess.run(
        [*exe, "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0
    assert ok.stdout.strip().splitlines()[-1] == "ok events=1"
    import sqlite3

    con = sqlite3.connect(tmp_path / "onestory.sqlite3")
    con.execute("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 1")
    con.commit()
    con.close()
    broken = subprocess.run(
        [*exe, "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert broken.returncode == 1
    assert broken.stdout.strip() == "broken at event 1: contents do not match their hash"
