"""What makes a request expensive beyond its endpoint, shared by the statement budgets
(`request_db`) and the rate limits (`ratelimit`). No Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoapp.inputs.params import digits_value


def page_size(args: Mapping[str, str], config: Mapping[str, Any]) -> int | None:
    """The number of features an items request is served: its `limit=` (at most
    GEOAPP_ITEMS_MAX_LIMIT) or GEOAPP_ITEMS_DEFAULT_LIMIT, as the items parser decides; None
    for a limit that parser refuses (with a 400)."""
    raw = args.get("limit", "").strip()
    if not raw:
        return int(config["GEOAPP_ITEMS_DEFAULT_LIMIT"])
    limit = digits_value(raw)
    return None if limit is None else min(limit, int(config["GEOAPP_ITEMS_MAX_LIMIT"]))


def is_large_page(args: Mapping[str, str], threshold: int, config: Mapping[str, Any]) -> bool:
    """Whether an items request is served more than `threshold` features."""
    size = page_size(args, config)
    return size is not None and size > threshold
