"""What makes a request expensive beyond its endpoint, shared by the statement budgets
(`request_db`) and the rate limits (`ratelimit`). No Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping


def is_large_page(args: Mapping[str, str], threshold: int) -> bool:
    """Whether an items request asks for more than `threshold` features (`limit=`)."""
    raw = args.get("limit", "")
    return raw.isdigit() and int(raw) > threshold
