"""The access policy as pure predicates (SECURITY.md rules 2-6).

No database access here: ``scope`` gathers the facts (relationship, sharing, restriction) and
asks these functions. Keeping them pure lets the tests check them against a truth table.
"""

from __future__ import annotations

from collections.abc import Iterable

from onestory.access.roles import (
    CASEWORK_ROLES,
    ROLE_CATEGORIES,
    Category,
    Role,
)

# Roles that may record a sharing decision or edit About me for a person they work with.
RECORDING_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER})


def visible_categories(
    *,
    role: Role,
    has_relationship: bool,
    shared: Iterable[Category],
    restricted_location: bool,
    in_owning_team: bool,
) -> frozenset[Category]:
    """The categories of one person's record a user may see; empty means "not yours".

    Rule 3: casework roles only, and only with a current relationship. Rule 4: only with a
    current sharing basis for the user's organisation (identity comes with any basis).
    Rule 5: narrowed to the role's categories. Rule 6: restricted location hides contact
    details from everyone outside the owning team.
    """
    shared_set = frozenset(shared)
    if role not in CASEWORK_ROLES or not has_relationship or not shared_set:
        return frozenset()
    categories = ROLE_CATEGORIES[role] & (shared_set | {Category.IDENTITY})
    if restricted_location and not in_owning_team:
        categories -= {Category.CONTACT_LOCATION}
    return categories


def may_record_sharing(*, role: Role, has_relationship: bool) -> bool:
    """Recording or withdrawing a sharing decision needs a relationship, not a prior basis:
    it is how a basis comes to exist."""
    return role in RECORDING_ROLES and has_relationship


def may_edit_about_me(*, role: Role, categories: frozenset[Category]) -> bool:
    return role in RECORDING_ROLES and Category.ABOUT_ME in categories


def may_see_sealed(*, entry_organisation_id: int, organisation_id: int) -> bool:
    """Rule 6: a sealed entry is visible only to the organisation that wrote it."""
    return entry_organisation_id == organisation_id
