"""The policy predicate against a separately written truth table (rules 2-7)."""

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


# --- Break glass (rule 7) and sealed entries (rule 6), with the action, exhaustively.
# Written again from SECURITY.md, in plain sets and strings, without the policy's helpers.

BREAK_GLASS_ROLES = {"navigator", "practitioner"}
RECORDERS = {"navigator", "practitioner", "manager"}
CASEWORKERS = {"navigator", "practitioner", "peer_mentor", "manager"}
ENTRY_CATEGORIES = ["identity", "contact_location", "health", "case_notes", "safety"]
OWN, OTHER = 1, 2


def expected_categories(
    role: str, related: bool, shared: set[str], restricted: bool, owner: bool, glass: bool
) -> tuple[set[str], bool]:
    """(categories, opened by break glass) for one user and person."""
    if role in CASEWORKERS and related and shared:
        out, by_glass = (
            (PEER_MENTOR if role == "peer_mentor" else FULL) & (shared | {"identity"}),
            False,
        )
    elif glass and role in BREAK_GLASS_ROLES:
        out, by_glass = set(FULL), True
    else:
        return set(), False
    if restricted and not owner:
        out = out - {"contact_location"}
    return out, by_glass


def expected_entry(
    role: str,
    related: bool,
    shared: set[str],
    restricted: bool,
    owner: bool,
    glass: bool,
    category: str,
    sealed: bool,
    own_entry: bool,
    action: str,
) -> bool:
    cats, by_glass = expected_categories(role, related, shared, restricted, owner, glass)
    if category not in cats:
        return False
    if sealed and (not own_entry or by_glass):
        return False  # sealed: its own organisation only, and never by break glass
    if action == "read":
        return True
    # amend and seal are writes: read-only under break glass; own entries; recorders
    return not by_glass and own_entry and role in RECORDERS


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_entry_access_truth_table_with_break_glass_and_sealing(role: str) -> None:
    from onestory.access.policy import ENTRY_ACTIONS, may_access_entry

    checked = 0
    wrong = []
    for (
        related,
        shared,
        restricted,
        owner,
        glass,
        category,
        sealed,
        own,
        action,
    ) in itertools.product(
        [True, False],
        range(len(SHARED_CHOICES)),
        [True, False],
        [True, False],
        [True, False],
        ENTRY_CATEGORIES,
        [True, False],
        [True, False],
        ENTRY_ACTIONS,
    ):
        cats = SHARED_CHOICES[shared]
        got = may_access_entry(
            role=Role(role),
            has_relationship=related,
            shared={Category(c) for c in cats},
            restricted_location=restricted,
            in_owning_team=owner,
            break_glass=glass,
            category=Category(category),
            sealed=sealed,
            entry_organisation_id=OWN if own else OTHER,
            organisation_id=OWN,
            action=action,
        )
        want = expected_entry(
            role, related, cats, restricted, owner, glass, category, sealed, own, action
        )
        checked += 1
        if got != want:
            wrong.append((related, sorted(cats), restricted, owner, glass, category, sealed,
                          own, action, got))  # fmt: skip
    assert checked == 2 * len(SHARED_CHOICES) * 2 * 2 * 2 * len(ENTRY_CATEGORIES) * 2 * 2 * 3
    assert not wrong, f"{len(wrong)} cases differ, first: {wrong[:3]}"


@pytest.mark.parametrize(
    ("role", "related", "shared", "restricted", "owner", "glass"),
    list(
        itertools.product(
            [r.value for r in Role],
            [True, False],
            range(len(SHARED_CHOICES)),
            [True, False],
            [True, False],
            [True, False],
        )
    ),
)
def test_visible_categories_with_break_glass(
    role: str, related: bool, shared: int, restricted: bool, owner: bool, glass: bool
) -> None:
    from onestory.access.policy import uses_break_glass

    cats = SHARED_CHOICES[shared]
    got = visible_categories(
        role=Role(role),
        has_relationship=related,
        shared={Category(c) for c in cats},
        restricted_location=restricted,
        in_owning_team=owner,
        break_glass=glass,
    )
    want, by_glass = expected_categories(role, related, cats, restricted, owner, glass)
    assert {c.value for c in got} == want
    if got:
        assert (
            uses_break_glass(
                role=Role(role), has_relationship=related, shared={Category(c) for c in cats}
            )
            is by_glass
        )


@pytest.mark.parametrize("role", list(Role))
def test_who_may_break_glass_claim_and_review(role: Role) -> None:
    from onestory.access.policy import may_break_glass, may_claim_relationship, may_review_privacy

    assert may_break_glass(role=role) is (role.value in BREAK_GLASS_ROLES)
    assert may_claim_relationship(role=role, has_relationship=False) is (role == Role.NAVIGATOR)
    assert may_claim_relationship(role=role, has_relationship=True) is False
    assert may_review_privacy(role=role, affected=True) is (role == Role.PRIVACY_OFFICER)
    assert may_review_privacy(role=role, affected=False) is False
