"""Pieces every JSON body shares: dates, links, the error body."""

from __future__ import annotations

from typing import Any


def iso(value: Any) -> str | None:
    """ISO 8601 text of a date/datetime, or None."""
    return value.isoformat() if value is not None else None


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    """An OGC API link object."""
    out = {"href": href, "rel": rel, "type": media_type}
    if title:
        out["title"] = title
    return out


def error_json(code: str, message: str) -> dict[str, str]:
    """The body of every API error."""
    return {"error": code, "message": message}
