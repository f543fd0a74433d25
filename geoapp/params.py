"""Parsing of request parameters into typed values; raises InvalidParameter naming the parameter."""

from __future__ import annotations

import math
from collections.abc import Mapping

from geoapp.errors import InvalidParameter


def parse_float(args: Mapping[str, str], name: str, *, minimum: float, maximum: float) -> float:
    """Return the finite number in ``args[name]`` within [minimum, maximum]."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        raise InvalidParameter(f"parameter '{name}' is required")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter(f"parameter '{name}' must be a number, got {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise InvalidParameter(f"parameter '{name}' must be a finite number")
    if not minimum <= value <= maximum:
        raise InvalidParameter(
            f"parameter '{name}' must be between {minimum:g} and {maximum:g}, got {value:g}"
        )
    return value


def parse_lon_lat(args: Mapping[str, str]) -> tuple[float, float]:
    """Return (lon, lat) in WGS84 degrees from the ``lon`` and ``lat`` parameters."""
    lon = parse_float(args, "lon", minimum=-180.0, maximum=180.0)
    lat = parse_float(args, "lat", minimum=-90.0, maximum=90.0)
    return lon, lat
