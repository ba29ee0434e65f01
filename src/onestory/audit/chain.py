"""Hash chaining of audit events: the canonical form and the HMAC over it."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

GENESIS = "0" * 64

CHAINED_FIELDS = (
    "seq",
    "at",
    "request_id",
    "actor_user_id",
    "actor_username",
    "actor_role",
    "actor_organisation_id",
    "actor_organisation",
    "system_actor",
    "action",
    "basis",
    "outcome",
    "method",
    "path",
    "status_code",
    "person_ids",
    "detail",
)


def canonical(fields: dict[str, Any]) -> bytes:
    payload = {name: fields[name] for name in CHAINED_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """HMAC-SHA256 of the previous hash and this event's canonical form.

    Keyed, so someone able to edit the table cannot simply recompute the chain.
    """
    key = settings.AUDIT_HMAC_KEY.encode()
    return hmac.new(key, prev_hash.encode() + b"|" + canonical(fields), hashlib.sha256).hexdigest()
