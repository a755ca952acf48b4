"""Users of the JSON API and the web UI and their roles.

An agent serves customers and takes orders; the warehouse moves child orders along (release, ship,
invoice); a manager may do both and also changes the catalog and runs jobs; an admin may do all that and
manage users. Agents may not release, ship or invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    WAREHOUSE = "warehouse"
    MANAGER = "manager"
    ADMIN = "admin"

    def may_act_as(self, needed: Role) -> bool:
        """May a user of this role do what ``needed`` may?"""
        return needed in _GRANTS[self]


_GRANTS: dict[Role, frozenset[Role]] = {
    Role.AGENT: frozenset({Role.AGENT}),
    Role.WAREHOUSE: frozenset({Role.WAREHOUSE}),
    Role.MANAGER: frozenset({Role.AGENT, Role.WAREHOUSE, Role.MANAGER}),
    Role.ADMIN: frozenset(Role),
}


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: Role
    disabled: bool = False  # a disabled user has no web login and no API token
    has_token: bool = True  # False once the API token is revoked
