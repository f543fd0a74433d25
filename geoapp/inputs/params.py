"""Parsing of request parameters into typed values; raises InvalidParameter naming the parameter.

Every whole number and decimal number the API reads goes through ``whole_number`` and
``decimal_number``: ASCII digits only (``str.isdigit`` and ``float`` also accept other
scripts' digits and superscripts such as '²', which ``int`` then refuses), and bounded to
what PostgreSQL's columns and LIMIT/OFFSET take, so a value never fails inside SQL after a
streamed response has begun.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping

from geoapp.errors import InvalidParameter, NotFound

# PostgreSQL's integer and bigint ranges.
PG_INTEGER_MAX = 2**31 - 1
PG_BIGINT_MAX = 2**63 - 1
_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)",
    re.ASCII | re.IGNORECASE,
)
# More digits than any bound has (after leading zeros): out of range without converting.
_MAX_DIGITS = 20


def whole_number(raw: str, name: str, *, minimum: int, maximum: int) -> int:
    """The whole number written in ASCII digits (optional sign) in ``raw``, within bounds."""
    text = raw.strip()
    if not _WHOLE.fullmatch(text):
        raise InvalidParameter(f"parameter '{name}' must be a whole number, got {raw[:40]!r}")
    if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        raise InvalidParameter(
            f"parameter '{name}' must be between {minimum} and {maximum}, got {text[:40]}…"
        )
    value = int(text)
    if not minimum <= value <= maximum:
        raise InvalidParameter(
            f"parameter '{name}' must be between {minimum} and {maximum}, got {value}"
        )
    return value


def decimal_number(raw: str, name: str) -> float:
    """The finite decimal number (ASCII digits, optional exponent) written in ``raw``."""
    text = raw.strip()
    if not _DECIMAL.fullmatch(text):
        raise InvalidParameter(f"parameter '{name}' must be a number, got {raw[:40]!r}")
    value = float(text)
    if not math.isfinite(value):
        raise InvalidParameter(f"parameter '{name}' must be a finite number")
    return value


def digits_value(raw: str, maximum: int = PG_BIGINT_MAX) -> int | None:
    """The number written in ASCII digits alone in ``raw``, if at most ``maximum``; else None."""
    if not raw.isascii() or not raw.isdigit() or len(raw.lstrip("0")) > _MAX_DIGITS:
        return None
    value = int(raw)
    return value if value <= maximum else None


def path_id(raw: str, what: str, maximum: int = PG_BIGINT_MAX) -> int:
    """The id in a URL path (ASCII digits, at most ``maximum``), or NotFound naming it."""
    value = digits_value(raw, maximum)
    if value is None:
        raise NotFound(f"no {what} with id {raw[:40]!r}")
    return value


def parse_float(args: Mapping[str, str], name: str, *, minimum: float, maximum: float) -> float:
    """Return the finite number in ``args[name]`` within [minimum, maximum]."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        raise InvalidParameter(f"parameter '{name}' is required")
    value = decimal_number(raw, name)
    if not minimum <= value <= maximum:
        raise InvalidParameter(
            f"parameter '{name}' must be between {minimum:g} and {maximum:g}, got {value:g}"
        )
    return value


def parse_int(args: Mapping[str, str], name: str, *, minimum: int, maximum: int) -> int:
    """Return the whole number in ``args[name]`` within [minimum, maximum]."""
    return whole_number(args.get(name) or "", name, minimum=minimum, maximum=maximum)


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
    """A dataset id (ASCII digits, within PostgreSQL's integer) or name, or None."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit():
        return whole_number(raw, name, minimum=0, maximum=PG_INTEGER_MAX)
    return raw


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
