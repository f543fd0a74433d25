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


def json_value(value: Any) -> Any:
    """One attribute value as JSONB accepts it (no NaN or NUL, dates as ISO strings)."""
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
    return value


def json_key(name: Any) -> str:
    """An attribute name as JSONB accepts it (no NUL)."""
    return str(name).replace("\x00", "")


def json_safe(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of the source properties that JSONB accepts (no NaN, dates as ISO strings)."""
    return {json_key(key): json_value(value) for key, value in properties.items()}


def zone_columns(properties: Mapping[str, Any]) -> dict[str, Any]:
    """FloodZone column values from a feature's properties, matched case-insensitively."""
    columns = zone_values(properties)
    columns["attributes"] = json_safe(properties)
    return columns


def zone_values(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The typed NFHL columns of a feature (without the verbatim attributes)."""
    by_upper = {str(key).upper(): [value] for key, value in properties.items()}
    return {column: values[0] for column, values in zone_value_columns(by_upper, 1).items()}


def zone_value_columns(fields: Mapping[str, list[Any]], count: int) -> dict[str, list[Any]]:
    """The typed NFHL columns of `count` features, from their fields' values under NFHL names.

    Column by column: an import cleans a chunk's values with one pass per field instead of
    building a dictionary per feature.
    """
    missing: list[Any] = [None] * count
    columns: dict[str, list[Any]] = {}
    for column, field in TEXT_FIELDS.items():
        values, limit = fields.get(field), TEXT_LIMITS[column]
        # The typed column holds what fits; the attributes keep the whole value.
        columns[column] = missing if values is None else [
            text[:limit] if (text := clean_text(value)) else None for value in values]
    for column, field in NUMBER_FIELDS.items():
        values = fields.get(field)
        columns[column] = missing if values is None else [clean_number(v) for v in values]
    for column, field in FLAG_FIELDS.items():
        values = fields.get(field)
        columns[column] = missing if values is None else [clean_flag(v) for v in values]
    columns["fld_zone"] = [zone.upper() if zone else None for zone in columns["fld_zone"]]
    return columns


def json_ready_column(values: list[Any]) -> list[Any]:
    """A field's values as JSONB accepts them; columns of plain types pass through cheaply."""
    kinds = {type(value) for value in values}
    kinds.discard(type(None))
    if kinds <= {int, bool}:
        return values
    if kinds == {str}:
        return values if not any("\x00" in v for v in values if v) else [
            None if v is None else v.replace("\x00", "") for v in values]
    if kinds == {float}:
        return [v if v is None or math.isfinite(v) else None for v in values]
    return [json_value(value) for value in values]
