"""The truth table over HTTP (issue 9): a pairwise sample of role x relationship x sharing x
restricted x owning team x break glass x category x sealed x writing organisation x action,
each case its own person, read through the person page and sealed through the seal form, must
come out as ``tests/test_policy.py``'s separately written truth table says.

Every pair of values of any two dimensions appears in at least one case (checked below), so a
rule that goes wrong for some combination of two facts shows up here.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone

from onestory.access.models import BreakGlass, Organisation, User
from onestory.access.roles import Role
from onestory.consent.models import SharingDecision
from onestory.people.models import Person, Relationship, TimelineEvent
from tests.conftest import make_user, signed_in_client, visible
from tests.test_policy import ENTRY_CATEGORIES, SHARED_CHOICES, expected_categories, expected_entry

DIMENSIONS: dict[str, list[Any]] = {
    "role": [r.value for r in Role],
    "related": [True, False],
    "shared": list(range(len(SHARED_CHOICES))),
    "restricted": [True, False],
    "owner": [True, False],
    "glass": [True, False],
    "category": ENTRY_CATEGORIES,
    "sealed": [True, False],
    "own_entry": [True, False],
    "action": ["read", "seal"],
}


def _gain(uncovered: set[tuple[Any, ...]], case: dict[str, Any], name: str, value: Any) -> int:
    """How many uncovered pairs choosing ``value`` for ``name`` would cover."""
    return sum(
        (o, case[o], name, value) in uncovered or (name, value, o, case[o]) in uncovered
        for o in case
    )


def pairwise(dimensions: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """A small set of cases covering every pair of values of every two dimensions (greedy,
    deterministic: each new case is the candidate covering most pairs not yet covered)."""
    names = list(dimensions)
    uncovered = {
        (a, va, b, vb)
        for a, b in itertools.combinations(names, 2)
        for va in dimensions[a]
        for vb in dimensions[b]
    }
    cases: list[dict[str, Any]] = []
    while uncovered:
        # Start from an uncovered pair, then fill each other dimension with the value that
        # covers most uncovered pairs with what is chosen so far.
        a, va, b, vb = min(uncovered, key=repr)
        case: dict[str, Any] = {a: va, b: vb}
        for name in names:
            if name not in case:
                gains = [_gain(uncovered, case, name, value) for value in dimensions[name]]
                case[name] = dimensions[name][gains.index(max(gains))]
        uncovered -= {(x, case[x], y, case[y]) for x, y in itertools.combinations(names, 2)}
        cases.append(case)
    return cases


# Most of the full sample is refused; a second pairwise sample over records that open
# (case-work roles, a relationship and something shared) exercises what is then allowed.
OPENED = DIMENSIONS | {
    "role": ["navigator", "practitioner", "peer_mentor", "manager"],
    "related": [True],
    "shared": list(range(1, len(SHARED_CHOICES))),
}
# And seals by the organisation that wrote the entry, in a recording role, without glass.
SEALABLE = OPENED | {
    "role": ["navigator", "practitioner", "manager"],
    "glass": [False],
    "own_entry": [True],
    "action": ["seal"],
}
CASES = pairwise(DIMENSIONS) + pairwise(OPENED) + pairwise(SEALABLE)


def test_the_sample_covers_every_pair() -> None:
    for a, b in itertools.combinations(DIMENSIONS, 2):
        seen = {(case[a], case[b]) for case in CASES}
        assert seen == set(itertools.product(DIMENSIONS[a], DIMENSIONS[b])), (a, b)
    assert len(CASES) < 120  # far fewer than the 28,800 combinations
    outcomes = {(case["action"], _allowed(case)) for case in CASES}
    assert outcomes == {("read", True), ("read", False), ("seal", True), ("seal", False)}


def _allowed(case: dict[str, Any]) -> bool:
    facts = (case["role"], case["related"], SHARED_CHOICES[case["shared"]], case["restricted"],
             case["owner"], case["glass"])  # fmt: skip
    return expected_entry(*facts, case["category"], case["sealed"], case["own_entry"],
                          case["action"])  # fmt: skip


def test_pages_and_seal_form_follow_the_truth_table(db: None) -> None:
    own = Organisation.objects.create(name="Own Team")
    other = Organisation.objects.create(name="Other Team")
    recorder = User.objects.create(username="pairwise-recorder")
    users = {role.value: make_user(f"pairwise-{role.value}", own, role) for role in Role}
    today = timezone.localdate()
    now = timezone.now()
    wrong = []
    for n, case in enumerate(CASES):
        person = Person.objects.create(
            given_name="Pair",
            family_name=f"Case{n}",
            restricted_location=case["restricted"],
            restricted_owner=own if case["owner"] else other,
        )
        Relationship.objects.create(person=person, organisation=other, kind="caseload",
                                    started_on=today - timedelta(days=10))  # fmt: skip
        if case["related"]:
            Relationship.objects.create(person=person, organisation=own, kind="caseload",
                                        started_on=today - timedelta(days=10))  # fmt: skip
        categories = SHARED_CHOICES[case["shared"]]
        if categories:
            SharingDecision.objects.create(
                person=person, organisation=own, basis="consent", categories=sorted(categories),
                recorded_by=recorder, recorded_by_organisation=own,
                review_on=today + timedelta(days=90),
            )  # fmt: skip
        token = f"PAIRWISE-ENTRY-{n}-END"
        entry = TimelineEvent.objects.create(
            person=person, organisation=own if case["own_entry"] else other,
            category=case["category"], event_type="note", occurred_on=today, summary=token,
            sealed=case["sealed"], source="pairwise",
        )  # fmt: skip
        user = users[case["role"]]
        if case["glass"]:
            BreakGlass.objects.create(
                person=person, user=user, organisation=own, role=case["role"],
                reason=BreakGlass.Reason.values[0], explanation="pairwise case",
                started_at=now - timedelta(minutes=1), expires_at=now + timedelta(hours=1),
            )  # fmt: skip
        facts = (case["role"], case["related"], categories, case["restricted"], case["owner"],
                 case["glass"])  # fmt: skip
        opens = bool(expected_categories(*facts)[0])
        allowed = expected_entry(*facts, case["category"], case["sealed"], case["own_entry"],
                                 case["action"])  # fmt: skip
        client = signed_in_client(user)
        if case["action"] == "read":
            response = client.get(f"/people/{person.pk}/")
            if not opens:
                ok = response.status_code in (403, 404) and token not in visible(response.content)
            else:
                ok = response.status_code == 200 and (token in visible(response.content)) is allowed
        else:
            response = client.post(
                f"/people/{person.pk}/entries/timeline/{entry.pk}/seal/",
                {"sealed": "no" if case["sealed"] else "yes"},
            )
            entry.refresh_from_db()
            changed = entry.sealed != case["sealed"]
            ok = (response.status_code == 302 and changed) if allowed else (
                response.status_code in (403, 404) and not changed
            )  # fmt: skip
        if not ok:
            wrong.append((case, response.status_code, allowed))
    assert not wrong, f"{len(wrong)} of {len(CASES)} cases differ, first: {wrong[:3]}"
