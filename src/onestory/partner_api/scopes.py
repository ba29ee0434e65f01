"""What an API client may do (its scopes) and which roles may hold each scope.

Plain Python, no Django: the vocabulary the API's checks and the management pages share.
A scope chooses the endpoints a token may call; the client's role and organisation still
decide, through the one access policy, what those endpoints return (ADR 0019).
"""

from __future__ import annotations

from enum import StrEnum

from onestory.access.roles import Role


class Scope(StrEnum):
    PEOPLE_READ = "people:read"
    EVENTS_WRITE = "events:write"
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"

    @property
    def label(self) -> str:
        return SCOPE_LABELS[self]


SCOPE_LABELS: dict[Scope, str] = {
    Scope.PEOPLE_READ: "Read the people your organisation works with",
    Scope.EVENTS_WRITE: "Send your organisation's feed records (events) as they happen",
    Scope.REFERRALS_READ: "Read referrals sent and received",
    Scope.REFERRALS_WRITE: "Send referrals and answer them",
}

# The roles a client may act in: the case-work roles (to read people and work on
# referrals) and the data manager (to send feed records). The others read no person
# records at all, so a client in them could call nothing.
CLIENT_ROLES: tuple[Role, ...] = (
    Role.NAVIGATOR,
    Role.PRACTITIONER,
    Role.PEER_MENTOR,
    Role.MANAGER,
    Role.DATA_MANAGER,
)

# The scopes a client acting in each role may hold: exactly what that role may do in the
# web app (SECURITY.md), so a token never does more than a person in the same role.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.NAVIGATOR: frozenset({Scope.PEOPLE_READ, Scope.REFERRALS_READ, Scope.REFERRALS_WRITE}),
    Role.PRACTITIONER: frozenset({Scope.PEOPLE_READ, Scope.REFERRALS_READ, Scope.REFERRALS_WRITE}),
    Role.MANAGER: frozenset({Scope.PEOPLE_READ, Scope.REFERRALS_READ, Scope.REFERRALS_WRITE}),
    Role.PEER_MENTOR: frozenset({Scope.PEOPLE_READ, Scope.REFERRALS_READ}),
    Role.DATA_MANAGER: frozenset({Scope.EVENTS_WRITE}),
}

# Who may create, rotate and revoke a client acting in which roles. A manager manages its
# organisation's users' roles, so it may grant the case-work roles; a data manager imports
# feeds, so it may grant the data manager's. An administrator never reads person data
# (rule 2): it may create only clients that read none (data manager: sending records) and
# may revoke any client of any organisation.
GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.MANAGER: frozenset({Role.NAVIGATOR, Role.PRACTITIONER, Role.PEER_MENTOR, Role.MANAGER}),
    Role.DATA_MANAGER: frozenset({Role.DATA_MANAGER}),
    Role.ADMINISTRATOR: frozenset({Role.DATA_MANAGER}),
}
MANAGING_ROLES: tuple[Role, ...] = (Role.MANAGER, Role.DATA_MANAGER, Role.ADMINISTRATOR)


def may_manage(*, role: Role, own_organisation: bool, client_role: Role) -> bool:
    """Create or rotate a token for a client acting in ``client_role``."""
    if client_role not in GRANTABLE.get(role, frozenset()):
        return False
    return own_organisation or role == Role.ADMINISTRATOR


def may_revoke(*, role: Role, own_organisation: bool, client_role: Role) -> bool:
    if role == Role.ADMINISTRATOR:
        return True
    return own_organisation and client_role in GRANTABLE.get(role, frozenset())


def may_see_clients(*, role: Role, own_organisation: bool) -> bool:
    return role == Role.ADMINISTRATOR or (own_organisation and role in MANAGING_ROLES)
