"""Reading batches of points (GeoJSON or CSV) for portfolio lookups; no database, no Flask."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geoapp.errors import InvalidInput, PayloadTooLarge

# Column pairs recognised in CSV headers, in order of preference (case-insensitive).
COORDINATE_COLUMNS = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("x", "y"))
ID_COLUMNS = ("id", "fid", "ref", "loan_id", "policy_id")


@dataclass
class BatchPoint:
    """One input point; ``error`` says why it cannot be looked up (and lon/lat are then None)."""

    id: Any
    lon: float | None
    lat: float | None
    properties: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def coordinate_error(lon: Any, lat: Any) -> str | None:
    """Why a lon/lat pair is unusable, or None when it is a valid WGS84 position."""
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if isinstance(value, bool) or value is None:
            return f"'{name}' is missing"
        try:
            # float() also reads other scripts' digits; coordinates are written in ASCII.
            if isinstance(value, str) and not value.isascii():
                raise ValueError(value)
            number = float(value)
        except (TypeError, ValueError):
            return f"'{name}' is not a number: {str(value)[:40]!r}"
        except OverflowError:  # a JSON integer of hundreds of digits: no float holds it
            return (f"'{name}' must be between {-limit:g} and {limit:g}, got a number of "
                    f"{len(str(abs(value)))} digits")
        if not math.isfinite(number):
            return f"'{name}' must be finite"
        if abs(number) > limit:
            hint = " (are lon and lat swapped?)" if name == "lat" and abs(float(lon)) <= 90 else ""
            return f"'{name}' must be between {-limit:g} and {limit:g}, got {number:g}{hint}"
    return None


def make_point(ident: Any, lon: Any, lat: Any, properties: dict[str, Any]) -> BatchPoint:
    """A BatchPoint, with the row's problem recorded instead of raised."""
    error = coordinate_error(lon, lat)
    if error:
        return BatchPoint(ident, None, None, properties, error)
    return BatchPoint(ident, float(lon), float(lat), properties)


def points_from_geojson(body: Any, limit: int) -> list[BatchPoint]:
    """Points of a GeoJSON FeatureCollection of Point features (ids and properties kept)."""
    if not isinstance(body, Mapping) or body.get("type") != "FeatureCollection":
        found = body.get("type") if isinstance(body, Mapping) else type(body).__name__
        raise InvalidInput(f"expected a GeoJSON FeatureCollection, got {found!r}")
    features = body.get("features")
    if not isinstance(features, list):
        raise InvalidInput("the FeatureCollection has no 'features' list")
    check_size(len(features), limit)
    points = []
    for index, item in enumerate(features):
        item = item if isinstance(item, Mapping) else {}
        properties = item.get("properties") if isinstance(item.get("properties"), Mapping) else {}
        ident = item.get("id", properties.get("id", index))
        geometry = item.get("geometry") if isinstance(item.get("geometry"), Mapping) else {}
        coords = geometry.get("coordinates")
        if item.get("type") != "Feature" or geometry.get("type") != "Point":
            kind = geometry.get("type") or item.get("type") or "nothing"
            points.append(
                BatchPoint(
                    ident, None, None, dict(properties), f"expected a Point feature, got {kind}"
                )
            )
        elif not isinstance(coords, list) or len(coords) < 2:
            points.append(
                BatchPoint(
                    ident, None, None, dict(properties), "the Point has no [lon, lat] coordinates"
                )
            )
        else:
            points.append(make_point(ident, coords[0], coords[1], dict(properties)))
    return points


def detect_columns(header: list[str]) -> tuple[int, int, int | None]:
    """Indexes of the lon, lat and id columns in a CSV header."""
    lowered = [name.strip().lower() for name in header]
    for lon_name, lat_name in COORDINATE_COLUMNS:
        if lon_name in lowered and lat_name in lowered:
            id_index = next((lowered.index(n) for n in ID_COLUMNS if n in lowered), None)
            return lowered.index(lon_name), lowered.index(lat_name), id_index
    pairs = ", ".join(f"{a}/{b}" for a, b in COORDINATE_COLUMNS)
    raise InvalidInput(
        f"the CSV header needs coordinate columns ({pairs}); got {header[:10]}",
        code="missing_columns",
    )


def points_from_csv(text: str, limit: int) -> list[BatchPoint]:
    """Points of a CSV with a header row; other columns are kept as properties."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    try:
        return read_csv_rows(rows, limit)
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
        raise InvalidInput(
            f"the CSV cannot be read at line {rows.line_num}: {exc}", code="invalid_csv"
        ) from None


def read_csv_rows(rows: Any, limit: int) -> list[BatchPoint]:
    """The points of parsed CSV rows (a csv.reader), the first being the header."""
    header = next(rows, None)
    if not header:
        raise InvalidInput("the CSV is empty", code="empty_input")
    lon_i, lat_i, id_i = detect_columns(header)
    points = []
    for index, row in enumerate(rows):
        if not any(cell.strip() for cell in row):
            continue
        if len(points) >= limit:
            check_size(limit + 1, limit)
        properties = {
            name: row[i]
            for i, name in enumerate(header)
            if i < len(row) and i not in (lon_i, lat_i, id_i)
        }
        ident = row[id_i] if id_i is not None and id_i < len(row) else index
        lon = row[lon_i].strip() if lon_i < len(row) else None
        lat = row[lat_i].strip() if lat_i < len(row) else None
        points.append(make_point(ident, lon or None, lat or None, properties))
    return points


def check_size(count: int, limit: int) -> None:
    """Refuse batches over the limit, naming it."""
    if count > limit:
        raise PayloadTooLarge(
            f"a batch may hold at most {limit} points; send smaller batches",
            code="too_many_points",
        )
