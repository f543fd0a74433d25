"""What makes a request expensive beyond its endpoint, shared by the statement budgets
(`request_db`) and the rate limits (`ratelimit`). No Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping


def is_large_page(args: Mapping[str, str], threshold: int) -> bool:
    """Whether an items request asks for more than `threshold` features (`limit=`)."""
    raw = args.get("limit", "").strip()
    # Only ASCII digits are a limit (the items parser refuses the rest with a 400); a limit
    # of more digits than any page size is large without being converted.
    if not (raw.isascii() and raw.isdigit()):
        return False
    return len(raw.lstrip("0")) > len(str(threshold)) or int(raw) > threshold
