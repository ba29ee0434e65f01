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
    break_glass: bool = False,
) -> frozenset[Category]:
    """The categories of one person's record a user may see; empty means "not yours".

    Rule 3: casework roles only, and only with a current relationship. Rule 4: only with a
    current sharing basis for the user's organisation (identity comes with any basis).
    Rule 5: narrowed to the role's categories. Rule 6: restricted location hides contact
    details from everyone outside the owning team. Rule 7: when the ordinary rules give
    nothing, a navigator's or practitioner's break glass in force gives the role's
    categories (still without a restricted location); break glass never widens a record
    the user can already open (ADR 0018).
    """
    shared_set = frozenset(shared)
    if role in CASEWORK_ROLES and has_relationship and shared_set:
        categories = ROLE_CATEGORIES[role] & (shared_set | {Category.IDENTITY})
    elif break_glass and may_break_glass(role=role):
        categories = ROLE_CATEGORIES[role]
    else:
        return frozenset()
    if restricted_location and not in_owning_team:
        categories -= {Category.CONTACT_LOCATION}
    return categories


def uses_break_glass(*, role: Role, has_relationship: bool, shared: Iterable[Category]) -> bool:
    """Whether a visible record is open only because of break glass (so read-only, and
    audited with the basis ``break_glass``)."""
    return not (role in CASEWORK_ROLES and has_relationship and frozenset(shared))


# --- Break glass (rule 7) and claimed relationships (rule 3)
BREAK_GLASS_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.PRACTITIONER})


def may_break_glass(*, role: Role) -> bool:
    return role in BREAK_GLASS_ROLES


def may_claim_relationship(*, role: Role, has_relationship: bool) -> bool:
    """Only navigators claim, and only a relationship their organisation does not have."""
    return role == Role.NAVIGATOR and not has_relationship


def may_review_privacy(*, role: Role, affected: bool) -> bool:
    """A privacy officer of an organisation the break glass or claim affected."""
    return role == Role.PRIVACY_OFFICER and affected


def may_record_sharing(*, role: Role, has_relationship: bool) -> bool:
    """Recording or withdrawing a sharing decision needs a relationship, not a prior basis:
    it is how a basis comes to exist."""
    return role in RECORDING_ROLES and has_relationship


def may_edit_about_me(*, role: Role, categories: frozenset[Category]) -> bool:
    return role in RECORDING_ROLES and Category.ABOUT_ME in categories


def may_see_entry(
    *, sealed: bool, entry_organisation_id: int, organisation_id: int, break_glass: bool
) -> bool:
    """Rule 6: a sealed entry is visible only to the organisation that wrote it, and never
    through break glass (rule 7), even to that organisation."""
    if not sealed:
        return True
    return entry_organisation_id == organisation_id and not break_glass


def may_seal(*, role: Role, entry_organisation_id: int, organisation_id: int) -> bool:
    """Only the organisation that wrote an entry seals or unseals it (its recording roles)."""
    return role in RECORDING_ROLES and entry_organisation_id == organisation_id


# --- One-to-one support (casework). Each predicate is about the role; the categories a
# user may see of the person (``visible_categories``) narrow what they can act on.

# Roles that allocate a person to a worker: a navigator to themself, a manager to anyone in
# their organisation (SECURITY.md roles table).
ALLOCATING_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.MANAGER})
CONTACT_ROLES: frozenset[Role] = frozenset(
    {Role.NAVIGATOR, Role.PRACTITIONER, Role.PEER_MENTOR, Role.MANAGER}
)
SPENDING_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.MANAGER})


def may_allocate(*, role: Role, to_self: bool) -> bool:
    return role == Role.MANAGER or (role == Role.NAVIGATOR and to_self)


def may_exceed_cap(*, role: Role) -> bool:
    """Going over a navigator's caseload cap needs a manager's agreement."""
    return role == Role.MANAGER


def may_record_contact(*, role: Role) -> bool:
    return role in CONTACT_ROLES


def may_see_contacts(*, categories: frozenset[Category]) -> bool:
    return Category.CASE_NOTES in categories


def may_edit_plan(*, role: Role, categories: frozenset[Category]) -> bool:
    return role in RECORDING_ROLES and Category.SUPPORT_PLAN in categories


def may_add_progress(*, role: Role, categories: frozenset[Category]) -> bool:
    """Anyone in the team who may see the plan can say how a step is going."""
    return role in CONTACT_ROLES and Category.SUPPORT_PLAN in categories


def may_record_safety(*, role: Role, categories: frozenset[Category]) -> bool:
    return role in RECORDING_ROLES and Category.SAFETY in categories


def may_raise_safeguarding(*, role: Role) -> bool:
    """Safeguarding is everyone's business: every casework role may raise a concern."""
    return role in CONTACT_ROLES


def may_close_support(*, role: Role) -> bool:
    return role == Role.MANAGER


def may_record_spend(*, role: Role, categories: frozenset[Category]) -> bool:
    return role in SPENDING_ROLES and Category.CASE_NOTES in categories


def closure_refusal(*, reason: str, recent_engagement_review: bool) -> str | None:
    """Why support cannot be closed for this reason, or ``None`` when it can.

    People facing SMD are not closed for "non-engagement" (DOMAIN.md principles): a person
    who declines support is closed only after a review with the organisations involved.
    """
    if reason in {"not_engaging", "non_engagement", "disengaged"}:
        return (
            "Support is not closed because someone is not engaging. Record a review with "
            "the organisations involved first; if the person has decided they do not want "
            "support, close it as declined after that review."
        )
    if reason == "declined_after_review" and not recent_engagement_review:
        return (
            "Record a review of engagement, with the organisations that took part, before "
            "closing support as declined."
        )
    return None


# --- Referrals (SECURITY.md roles table: navigators and practitioners refer; practitioners
# answer referrals, and so do navigators and managers of the receiving organisation).
REFERRING_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.PRACTITIONER})
ANSWERING_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER})


def may_refer(*, role: Role) -> bool:
    return role in REFERRING_ROLES


def may_answer_referral(*, role: Role) -> bool:
    return role in ANSWERING_ROLES


# --- Multi-agency meetings: navigators, practitioners and managers arrange them and set
# actions; each organisation updates its own actions.
MEETING_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER})


def may_run_meetings(*, role: Role) -> bool:
    return role in MEETING_ROLES


def may_record_event(*, role: Role) -> bool:
    """Navigators, practitioners and managers record what happened on a timeline."""
    return role in RECORDING_ROLES


# --- The barrier log (issue 7): any front-line role raises a barrier; the partnership
# board triages and assigns it; the owning organisation's managers respond and resolve.
BARRIER_RAISING_ROLES: frozenset[Role] = frozenset(
    {Role.NAVIGATOR, Role.PRACTITIONER, Role.PEER_MENTOR, Role.MANAGER}
)


def may_raise_barrier(*, role: Role) -> bool:
    return role in BARRIER_RAISING_ROLES


def may_triage_barriers(*, role: Role) -> bool:
    """The system change board: board members."""
    return role == Role.BOARD_MEMBER


def may_respond_to_barrier(*, role: Role, owns: bool) -> bool:
    """A manager of the organisation that owns the barrier."""
    return role == Role.MANAGER and owns


def may_see_barrier(*, role: Role, raised_here: bool, owned_here: bool, raised_by_me: bool) -> bool:
    """The board sees every barrier (never who it happened to); a manager those its
    organisation raised or owns; other workers those they raised themselves."""
    if role == Role.BOARD_MEMBER:
        return True
    if role == Role.MANAGER:
        return raised_here or owned_here
    return role in BARRIER_RAISING_ROLES and raised_by_me


def may_run_panel(*, role: Role) -> bool:
    """Board members and managers record the lived experience panel's meetings."""
    return role in {Role.BOARD_MEMBER, Role.MANAGER}


# --- Measures (issue 8): navigators, practitioners and managers record questionnaires for
# people who share their measures with the organisation.
MEASURING_ROLES: frozenset[Role] = frozenset({Role.NAVIGATOR, Role.PRACTITIONER, Role.MANAGER})


def may_record_measures(*, role: Role, categories: frozenset[Category]) -> bool:
    return role in MEASURING_ROLES and Category.MEASURES in categories


def may_see_measures(*, categories: frozenset[Category]) -> bool:
    return Category.MEASURES in categories


def may_record_equality(*, role: Role, categories: frozenset[Category]) -> bool:
    """Protected characteristics are the person's own account of themselves (About me)."""
    return role in MEASURING_ROLES and Category.ABOUT_ME in categories


def may_see_equality(*, categories: frozenset[Category]) -> bool:
    return Category.ABOUT_ME in categories


# --- One entry (a timeline event, a contact) as the rules above combine for it.
ENTRY_ACTIONS = ("read", "amend", "seal")


def may_access_entry(
    *,
    role: Role,
    has_relationship: bool,
    shared: Iterable[Category],
    restricted_location: bool,
    in_owning_team: bool,
    break_glass: bool,
    category: Category,
    sealed: bool,
    entry_organisation_id: int,
    organisation_id: int,
    action: str,
) -> bool:
    """Whether a user may read, amend (append a correction to) or seal one entry.

    Reading needs the entry's category (rules 3-5, or break glass: rule 7) and, for a
    sealed entry, to be its organisation without break glass (rule 6). Amending and
    sealing are writes: never by break glass (read-only), and only of the user's own
    organisation's entries by a recording role (rule 8).
    """
    shared_set = frozenset(shared)
    categories = visible_categories(
        role=role,
        has_relationship=has_relationship,
        shared=shared_set,
        restricted_location=restricted_location,
        in_owning_team=in_owning_team,
        break_glass=break_glass,
    )
    via_glass = bool(categories) and uses_break_glass(
        role=role, has_relationship=has_relationship, shared=shared_set
    )
    readable = category in categories and may_see_entry(
        sealed=sealed,
        entry_organisation_id=entry_organisation_id,
        organisation_id=organisation_id,
        break_glass=via_glass,
    )
    if action == "read":
        return readable
    if action in {"amend", "seal"}:
        return (
            readable
            and not via_glass
            and may_seal(
                role=role,
                entry_organisation_id=entry_organisation_id,
                organisation_id=organisation_id,
            )
        )
    raise ValueError(f"unknown action {action!r}")
