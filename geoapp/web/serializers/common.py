"""Pieces every JSON body shares: dates, links, the error body."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# Streamed bodies are sent in blocks of about this many characters: a write per feature or
# per point (100,000 of them in a batch) costs the server a system call and a chunk header
# each.
STREAM_BLOCK_CHARS = 64 * 1024


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


def in_blocks(parts: Iterable[str], block_chars: int = STREAM_BLOCK_CHARS) -> Iterator[str]:
    """The parts of a streamed body joined into blocks of at least ``block_chars``.

    The first part goes out alone: the status and headers leave with it, before the rest of
    the body is read from the database (so its statement budget and errors apply to a body
    already under way, as they would without blocks).
    """
    iterator = iter(parts)
    for first in iterator:
        yield first
        break
    pending: list[str] = []
    size = 0
    for part in iterator:
        pending.append(part)
        size += len(part)
        if size >= block_chars:
            yield "".join(pending)
            pending, size = [], 0
    if pending:
        yield "".join(pending)
