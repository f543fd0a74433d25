"""What makes a request expensive beyond its endpoint, shared by the statement budgets
(`request_db`) and the rate limits (`ratelimit`). No Flask, no database."""

from __future__ import annotations

from collections.abc import Mapping

from geoapp.inputs.params import digits_value


def is_large_page(args: Mapping[str, str], threshold: int) -> bool:
    """Whether an items request asks for more than `threshold` features (`limit=`)."""
    # Not a limit the items parser accepts (it refuses the rest with a 400): not large.
    limit = digits_value(args.get("limit", "").strip())
    return limit is not None and limit > threshold
