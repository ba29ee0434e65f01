"""The policy predicate against a separately written truth table (rules 2-6)."""

from __future__ import annotations

import itertools

import pytest

from onestory.access.policy import may_edit_about_me, may_record_sharing, visible_categories
from onestory.access.roles import ALL_CATEGORIES, Category, Role

PEER_MENTOR = {"identity", "contact_location", "about_me", "support_plan", "safety"}
FULL = {c.value for c in Category}


def expected(role: str, related: bool, shared: set[str], restricted: bool, owner: bool) -> set[str]:
    """Written from SECURITY.md's table directly, without the code's data structures."""
    if role in {"data_manager", "privacy_officer", "analyst", "board_member", "administrator"}:
        return set()
    if not related or not shared:
        return set()
    role_cats = PEER_MENTOR if role == "peer_mentor" else FULL
    out = role_cats & (shared | {"identity"})
    if restricted and not owner:
        out.discard("contact_location")
    return out


SHARED_CHOICES = [
    set(),
    {"about_me"},
    {"criminal_justice", "health"},
    {"contact_location", "homelessness"},
    FULL - {"identity"},
]


@pytest.mark.parametrize(
    ("role", "related", "shared", "restricted", "owner"),
    list(
        itertools.product(
            [r.value for r in Role],
            [True, False],
            range(len(SHARED_CHOICES)),
            [True, False],
            [True, False],
        )
    ),
)
def test_visible_categories_truth_table(
    role: str, related: bool, shared: int, restricted: bool, owner: bool
) -> None:
    cats = SHARED_CHOICES[shared]
    got = visible_categories(
        role=Role(role),
        has_relationship=related,
        shared={Category(c) for c in cats},
        restricted_location=restricted,
        in_owning_team=owner,
    )
    assert {c.value for c in got} == expected(role, related, cats, restricted, owner)


def test_peer_mentor_never_gets_justice_or_health_whatever_is_shared() -> None:
    got = visible_categories(
        role=Role.PEER_MENTOR,
        has_relationship=True,
        shared=ALL_CATEGORIES,
        restricted_location=False,
        in_owning_team=True,
    )
    assert not got & {Category.CRIMINAL_JUSTICE, Category.HEALTH, Category.MENTAL_HEALTH}


@pytest.mark.parametrize("role", list(Role))
def test_who_may_record_and_edit(role: Role) -> None:
    recorder = role in {Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER}
    assert may_record_sharing(role=role, has_relationship=True) is recorder
    assert may_record_sharing(role=role, has_relationship=False) is False
    assert may_edit_about_me(role=role, categories=ALL_CATEGORIES) is recorder
    assert may_edit_about_me(role=role, categories=frozenset({Category.IDENTITY})) is False
