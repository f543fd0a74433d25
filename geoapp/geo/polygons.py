"""Polygon checks and repair, one set of rules and messages for parcels, zone edits and imports.

A polygon we keep is a Polygon or MultiPolygon, not empty, with finite longitude/latitude
coordinates (CRS84), and valid by GEOS's rules (the same library and wording as PostGIS's
ST_IsValidReason). An invalid one is refused with GEOS's reason unless repair was asked for;
repair keeps the polygonal part of GEOS's make_valid, and a geometry that repairs to no area
is refused. The messages name the problem in the same words wherever the polygon came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geoapp.errors import InvalidInput

# A tuple, not a set: a client's "type" may be any JSON value, lists (unhashable) included.
POLYGON_TYPES = ("Polygon", "MultiPolygon")
EMPTY = "the geometry is empty"
NOT_FINITE = "coordinates must be finite numbers"
OUT_OF_RANGE = ("coordinates out of range (outside longitude -180..180 / latitude -90..90 of "
                "CRS84)")
MALFORMED = "malformed geometry"
REPAIR_HINT = "send repair=true to fix it"


def not_polygonal(kind: str) -> str:
    """The refusal of a geometry of another type."""
    return f"geometry must be a Polygon or MultiPolygon, got {kind!r}"


def out_of_range(detail: str = "") -> str:
    """The refusal of coordinates that are no longitude/latitude (`detail` says more)."""
    return OUT_OF_RANGE + detail


def not_valid(reason: str) -> str:
    """The refusal of an invalid polygon when repair was not asked for."""
    return f"invalid geometry: {reason} ({REPAIR_HINT})"


def not_repairable(reason: str) -> str:
    """The refusal of an invalid polygon whose repair leaves no area."""
    return f"invalid geometry that cannot be repaired (no area is left): {reason}"


class PolygonRefused(InvalidInput):
    """A geometry that is not an acceptable polygon."""

    code = "invalid_geometry"


@dataclass(frozen=True)
class Checked:
    """The outcome of a polygon check: the geometry to keep (or None) and why not."""

    geometry: BaseGeometry | None
    repaired: bool = False
    problem: str | None = None


def in_lon_lat_range(bounds: np.ndarray) -> np.ndarray:
    """Whether each extent (xmin, ymin, xmax, ymax rows) lies within -180..180 / -90..90."""
    # NaN bounds (empty or non-finite) compare False, so they are not in range either.
    with np.errstate(invalid="ignore"):
        return ((bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
                & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90))


def polygonal_part(geometry: Any) -> MultiPolygon | None:
    """The polygons of a (repaired) geometry as one MultiPolygon, or None if there are none."""
    polygons: list[Polygon] = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons += list(part.geoms)
        elif part.geom_type == "GeometryCollection":
            found = polygonal_part(part)
            if found is not None:
                polygons += list(found.geoms)
    return MultiPolygon(polygons) if polygons else None


def check_polygon(geometry: BaseGeometry, repair: bool, *, valid: bool | None = None,
                  range_detail: str = "") -> Checked:
    """Check one lon/lat geometry; repair it when invalid and `repair` is set.

    `valid` is GEOS's verdict when the caller already has it (imports check whole arrays at
    once); `range_detail` is added to the out-of-range message.
    """
    if geometry.geom_type not in POLYGON_TYPES:
        return Checked(None, problem=not_polygonal(geometry.geom_type))
    if geometry.is_empty:
        return Checked(None, problem=EMPTY)
    coordinates = shapely.get_coordinates(geometry)
    if not np.isfinite(coordinates).all():
        return Checked(None, problem=NOT_FINITE)
    if not in_lon_lat_range(np.array([shapely.bounds(geometry)]))[0]:
        return Checked(None, problem=out_of_range(range_detail))
    if geometry.is_valid if valid is None else valid:
        return Checked(geometry)
    reason = shapely.is_valid_reason(geometry)
    if not repair:
        return Checked(None, problem=not_valid(reason))
    repaired = polygonal_part(shapely.make_valid(geometry))
    if repaired is None:
        return Checked(None, problem=not_repairable(reason))
    return Checked(repaired, repaired=True)


def valid_polygon(geometry: BaseGeometry, repair: bool, label: str = ""
                  ) -> tuple[BaseGeometry, bool]:
    """(geometry, whether it was repaired), or PolygonRefused prefixed with `label`."""
    checked = check_polygon(geometry, repair)
    if checked.geometry is None:
        raise PolygonRefused(f"{label}{checked.problem}")
    return checked.geometry, checked.repaired


def check_rings(coordinates: Any, depth: int, label: str = "") -> None:
    """GeoJSON coordinates nested `depth` deep are finite lon/lat pairs in closed rings of at
    least 4 positions (checked before shapely, which would close or drop them silently)."""
    if depth == 0:
        if (
            not isinstance(coordinates, list | tuple)
            or len(coordinates) < 2
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in coordinates[:2]
            )
        ):
            raise PolygonRefused(f"{label}a position must be [lon, lat]")
        lon, lat = coordinates[0], coordinates[1]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise PolygonRefused(f"{label}{NOT_FINITE}")
        if abs(lon) > 180 or abs(lat) > 90:
            raise PolygonRefused(f"{label}{out_of_range(f': [{lon}, {lat}]')}")
        return
    if not isinstance(coordinates, list | tuple) or not coordinates:
        raise PolygonRefused(f"{label}empty or malformed coordinates")
    if depth == 1:
        if len(coordinates) < 4:
            raise PolygonRefused(f"{label}a ring needs at least 4 positions")
        for position in coordinates:
            check_rings(position, 0, label)
        if list(coordinates[0][:2]) != list(coordinates[-1][:2]):
            raise PolygonRefused(f"{label}a ring is not closed (first position ≠ last)")
        return
    for part in coordinates:
        check_rings(part, depth - 1, label)
