"""NFHL attribute handling: map source properties (any case) to FloodZone columns.

FEMA writes -9999 for "no value" in numeric fields and leaves text fields blank; both become
NULL so that no sentinel ever reaches a user as a number.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

NO_VALUE = -9999.0

TEXT_FIELDS = {
    "fld_ar_id": "FLD_AR_ID",
    "dfirm_id": "DFIRM_ID",
    "fld_zone": "FLD_ZONE",
    "zone_subty": "ZONE_SUBTY",
    "vel_unit": "VEL_UNIT",
    "v_datum": "V_DATUM",
    "len_unit": "LEN_UNIT",
}
# Lengths of the text columns (models.FloodZone).
TEXT_LIMITS = {"fld_ar_id": 64, "dfirm_id": 32, "fld_zone": 32, "zone_subty": 128,
               "vel_unit": 32, "v_datum": 32, "len_unit": 32}
NUMBER_FIELDS = {"static_bfe": "STATIC_BFE", "depth": "DEPTH", "velocity": "VELOCITY"}
FLAG_FIELDS = {"sfha_tf": "SFHA_TF"}

_TRUE = {"T", "TRUE", "Y", "YES", "1"}
_FALSE = {"F", "FALSE", "N", "NO", "0"}


def clean_text(value: Any) -> str | None:
    """Blank or missing text becomes None; other values are stripped strings."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    return text or None


def clean_number(value: Any) -> float | None:
    """The -9999 sentinel, blanks and non-finite numbers become None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number == NO_VALUE:
        return None
    return number


def clean_flag(value: Any) -> bool | None:
    """T/F (and the other spellings agencies use) become booleans; anything else None."""
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    if text is None:
        return None
    upper = text.upper()
    if upper in _TRUE:
        return True
    if upper in _FALSE:
        return False
    return None


def json_safe(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of the source properties that JSONB accepts (no NaN, dates as ISO strings)."""
    safe: dict[str, Any] = {}
    for key, value in properties.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif isinstance(value, dt.date | dt.datetime | dt.time):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = value.hex()
        elif hasattr(value, "item"):  # numpy scalars from pyogrio
            value = value.item()
        if isinstance(value, str):
            value = value.replace("\x00", "")  # JSONB cannot hold NUL either
        safe[str(key).replace("\x00", "")] = value
    return safe


def zone_columns(properties: Mapping[str, Any]) -> dict[str, Any]:
    """FloodZone column values from a feature's properties, matched case-insensitively."""
    columns = zone_values(properties)
    columns["attributes"] = json_safe(properties)
    return columns


def zone_values(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The typed NFHL columns of a feature (without the verbatim attributes)."""
    by_upper = {str(key).upper(): value for key, value in properties.items()}
    columns: dict[str, Any] = {}
    for column, field in TEXT_FIELDS.items():
        text = clean_text(by_upper.get(field))
        # The typed column holds what fits; the attributes keep the whole value.
        columns[column] = text[:TEXT_LIMITS[column]] if text else text
    for column, field in NUMBER_FIELDS.items():
        columns[column] = clean_number(by_upper.get(field))
    for column, field in FLAG_FIELDS.items():
        columns[column] = clean_flag(by_upper.get(field))
    if columns["fld_zone"] is not None:
        columns["fld_zone"] = columns["fld_zone"].upper()
    return columns
