"""Roles and record categories (SECURITY.md): the vocabulary the policy is written in.

Plain Python with no Django imports so the policy predicates and their truth-table tests can
use it anywhere.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NAVIGATOR = "navigator"
    PRACTITIONER = "practitioner"
    PEER_MENTOR = "peer_mentor"
    MANAGER = "manager"
    DATA_MANAGER = "data_manager"
    PRIVACY_OFFICER = "privacy_officer"
    ANALYST = "analyst"
    BOARD_MEMBER = "board_member"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.NAVIGATOR: "Navigator",
    Role.PRACTITIONER: "Practitioner",
    Role.PEER_MENTOR: "Peer mentor",
    Role.MANAGER: "Manager",
    Role.DATA_MANAGER: "Data manager",
    Role.PRIVACY_OFFICER: "Privacy officer",
    Role.ANALYST: "Analyst",
    Role.BOARD_MEMBER: "Board member",
    Role.ADMINISTRATOR: "Administrator",
}


class Category(StrEnum):
    IDENTITY = "identity"
    CONTACT_LOCATION = "contact_location"
    ABOUT_ME = "about_me"
    SUPPORT_PLAN = "support_plan"
    HOMELESSNESS = "homelessness"
    HEALTH = "health"
    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_MISUSE = "substance_misuse"
    CRIMINAL_JUSTICE = "criminal_justice"
    DOMESTIC_ABUSE = "domestic_abuse"
    CASE_NOTES = "case_notes"
    SAFETY = "safety"
    MEASURES = "measures"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.IDENTITY: "Identity",
    Category.CONTACT_LOCATION: "Contact and location",
    Category.ABOUT_ME: "About me",
    Category.SUPPORT_PLAN: "Support plan",
    Category.HOMELESSNESS: "Homelessness and housing",
    Category.HEALTH: "Physical health",
    Category.MENTAL_HEALTH: "Mental health",
    Category.SUBSTANCE_MISUSE: "Drugs and alcohol",
    Category.CRIMINAL_JUSTICE: "Criminal justice",
    Category.DOMESTIC_ABUSE: "Domestic abuse",
    Category.CASE_NOTES: "Case notes",
    Category.SAFETY: "Safety",
    Category.MEASURES: "Measures",
}

ALL_CATEGORIES: frozenset[Category] = frozenset(Category)

# Roles that work with individual people and so open person records (rule 3).
CASEWORK_ROLES: frozenset[Role] = frozenset(
    {Role.NAVIGATOR, Role.PRACTITIONER, Role.PEER_MENTOR, Role.MANAGER}
)

# The categories each role may ever see, before the sharing decision narrows them (rule 5).
ROLE_CATEGORIES: dict[Role, frozenset[Category]] = {
    Role.NAVIGATOR: ALL_CATEGORIES,
    Role.PRACTITIONER: ALL_CATEGORIES,
    Role.MANAGER: ALL_CATEGORIES,
    Role.PEER_MENTOR: frozenset(
        {
            Category.IDENTITY,
            Category.CONTACT_LOCATION,
            Category.ABOUT_ME,
            Category.SUPPORT_PLAN,
            Category.SAFETY,
        }
    ),
    # Record-level access for these roles arrives with their features (linkage, subject
    # access, insight); none of them opens a person page.
    Role.DATA_MANAGER: frozenset(),
    Role.PRIVACY_OFFICER: frozenset(),
    Role.ANALYST: frozenset(),
    Role.BOARD_MEMBER: frozenset(),
    Role.ADMINISTRATOR: frozenset(),
}

# Categories a sharing decision can grant. Identity is implied by any grant: a worker cannot
# act on a record without knowing whose it is.
SHAREABLE_CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c != Category.IDENTITY)
