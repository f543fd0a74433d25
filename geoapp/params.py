"""Parsing of request parameters into typed values; raises InvalidParameter naming the parameter."""

from __future__ import annotations

import datetime as dt
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


def parse_int(args: Mapping[str, str], name: str, *, minimum: int, maximum: int) -> int:
    """Return the whole number in ``args[name]`` within [minimum, maximum]."""
    raw = (args.get(name) or "").strip()
    if not raw.lstrip("+-").isdigit() or not raw.isascii():
        raise InvalidParameter(f"parameter '{name}' must be a whole number, got {raw[:40]!r}")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise InvalidParameter(
            f"parameter '{name}' must be between {minimum} and {maximum}, got {value}"
        )
    return value


def parse_lon_lat(args: Mapping[str, str]) -> tuple[float, float]:
    """Return (lon, lat) in WGS84 degrees from the ``lon`` and ``lat`` parameters."""
    lon = parse_float(args, "lon", minimum=-180.0, maximum=180.0)
    lat = parse_float(args, "lat", minimum=-90.0, maximum=90.0)
    return lon, lat


def parse_bool(args: Mapping[str, str], name: str, default: bool = False) -> bool:
    """A true/false parameter (true/false, 1/0, yes/no)."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no"}:
        return False
    raise InvalidParameter(f"parameter '{name}' must be true or false, got {raw[:20]!r}")


def parse_date(args: Mapping[str, str], name: str) -> dt.date | None:
    """An optional ISO date (YYYY-MM-DD)."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidParameter(
            f"parameter '{name}' must be a date as YYYY-MM-DD, got {raw[:30]!r}"
        ) from None


def parse_dataset_reference(args: Mapping[str, str], name: str = "dataset") -> int | str | None:
    """A dataset id (digits) or name, or None."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() else raw


def parse_choice(
    args: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None = None
) -> str | None:
    """One of a fixed set of values."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise InvalidParameter(f"parameter '{name}' must be one of {', '.join(choices)}")
    return raw
