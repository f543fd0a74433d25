"""JSON of accounts and API tokens."""

from __future__ import annotations

from typing import Any

from geoapp.db.models import ApiToken
from geoapp.web.serializers.common import iso


def token_json(token: ApiToken, secret: str | None = None) -> dict[str, Any]:
    """An API token's public record; ``secret`` only in the answer that creates it."""
    out: dict[str, Any] = {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "revoked": token.revoked_at is not None,
    }
    if secret is not None:
        out["token"] = secret
    return out
