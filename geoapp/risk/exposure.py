"""Parcel exposure: how much of a parcel or footprint lies in each flood zone and risk status."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from geoapp.db.queries import lookup as lookup_sql
from geoapp.db.queries.scope import ACTIVE, Scope
from geoapp.errors import InvalidInput, PayloadTooLarge
from geoapp.geo.polygons import (
    MALFORMED,
    POLYGON_TYPES,
    PolygonRefused,
    not_polygonal,
    valid_polygon,
)
from geoapp.geo.vertical import parse_datum
from geoapp.nfhl.status import STATUS_ORDER, RiskStatus, combined_status
from geoapp.risk.depth import FloodElevation, FloodPart
from geoapp.risk.lookup import (
    DatasetInfo,
    ZoneHit,
    check_scope,
    distinct_datasets,
    zone_hit_from_row,
)

# The authalic (equal-area) radius of WGS84, for areas from an equal-area projection.
AUTHALIC_RADIUS_M = 6_371_007.2


@dataclass(frozen=True)
class ParcelLimits:
    """The largest parcel accepted: vertices (checked before anything is built) and area."""

    max_vertices: int = 10_000
    max_area_km2: float = 100.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ParcelLimits:
        """The limits set by GEOAPP_PARCEL_MAX_VERTICES and GEOAPP_PARCEL_MAX_AREA_KM2."""
        return cls(int(config["GEOAPP_PARCEL_MAX_VERTICES"]),
                   float(config["GEOAPP_PARCEL_MAX_AREA_KM2"]))


def coordinate_count(coordinates: Any, depth: int) -> int:
    """Positions in a GeoJSON coordinates array nested `depth` levels (no geometry built).

    Anything that is not a list counts as nothing here; the parser refuses it afterwards.
    """
    if not isinstance(coordinates, list):
        return 0
    if depth == 1:
        return len(coordinates)
    return sum(coordinate_count(item, depth - 1) for item in coordinates)


def check_vertex_count(body: dict[str, Any], limits: ParcelLimits) -> None:
    """Refuse a parcel of more vertices than the limit, before shapely builds it."""
    depth = 2 if body["type"] == "Polygon" else 3
    count = coordinate_count(body.get("coordinates"), depth)
    if count > limits.max_vertices:
        raise PayloadTooLarge(
            f"the parcel has {count} vertices; at most {limits.max_vertices} are accepted "
            "(GEOAPP_PARCEL_MAX_VERTICES)", code="too_many_vertices")


def equal_area_km2(geometry: BaseGeometry) -> float:
    """Area (km²) of a lon/lat geometry as drawn (straight edges in degrees), on the sphere of
    WGS84's authalic radius: Lambert's cylindrical equal-area projection, x = λ, y = sin φ.

    Cheap and defined for any polygon, even one spanning the globe (where geodesic edges
    between its corners degenerate).
    """
    projected = shapely.transform(
        geometry, lambda xy: np.column_stack([np.radians(xy[:, 0]),
                                              np.sin(np.radians(xy[:, 1]))]))
    return float(projected.area) * AUTHALIC_RADIUS_M**2 / 1e6


def check_area(geometry: BaseGeometry, limits: ParcelLimits) -> None:
    """Refuse a parcel larger than the limit, before any SQL intersects it with zones."""
    area_km2 = equal_area_km2(geometry)
    if area_km2 > limits.max_area_km2:
        raise PayloadTooLarge(
            f"the parcel covers {area_km2:,.1f} km²; at most {limits.max_area_km2:g} km² are "
            "accepted (GEOAPP_PARCEL_MAX_AREA_KM2)", code="area_too_large")


@dataclass(frozen=True)
class ZoneExposure:
    """The part of a parcel inside one zone."""

    zone: ZoneHit
    area_m2: float
    share: float


@dataclass(frozen=True)
class ParcelExposure:
    """A parcel's area and its breakdown by zone and by risk status."""

    area_m2: float
    zones: list[ZoneExposure]
    status_areas: dict[str, float]
    repaired: bool
    datasets: list[DatasetInfo]

    def share(self, status: str) -> float:
        """Fraction of the parcel covered by zones of a status."""
        return self.status_areas.get(status, 0.0) / self.area_m2 if self.area_m2 else 0.0

    @property
    def max_status(self) -> str:
        """The most severe status touching the parcel; unmapped when none does."""
        return combined_status([s for s, area in self.status_areas.items() if area > 0])

    @property
    def unmapped_share(self) -> float:
        """Fraction of the parcel that no flood map covers."""
        covered = sum(area for status, area in self.status_areas.items()
                      if status != RiskStatus.UNMAPPED)
        return max(0.0, 1.0 - covered / self.area_m2) if self.area_m2 else 0.0


def parcel_geometry(body: Any, repair: bool, limits: ParcelLimits = ParcelLimits()
                    ) -> tuple[BaseGeometry, bool]:
    """A valid (Multi)Polygon from a GeoJSON geometry or Feature in CRS84; InvalidInput if not,
    PayloadTooLarge beyond the vertex or area limits.

    Returns the geometry and whether it had to be repaired.
    """
    if isinstance(body, dict) and body.get("type") == "Feature":
        body = body.get("geometry")
    if not isinstance(body, dict) or "type" not in body:
        raise InvalidInput("the body must be a GeoJSON Polygon or MultiPolygon (or a Feature)")
    if body["type"] not in POLYGON_TYPES:
        raise PolygonRefused(not_polygonal(str(body["type"])))
    check_vertex_count(body, limits)
    try:
        geometry = shape(body)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise PolygonRefused(f"{MALFORMED}: {exc}") from None
    geometry, repaired = valid_polygon(geometry, repair)
    check_area(geometry, limits)
    return geometry, repaired


def parcel_exposure(
    session: Session, geometry: BaseGeometry, repaired: bool = False, scope: Scope = ACTIVE
) -> ParcelExposure:
    """Areas (geodesic m²) of a parcel in each zone and risk status in scope."""
    check_scope(session, scope)
    geojson = json.dumps(shapely.geometry.mapping(geometry))
    area_m2 = float(session.execute(lookup_sql.geodesic_area(geojson)).one()[0] or 0.0)
    datasets: dict[int, DatasetInfo] = {}
    zones = [
        ZoneExposure(zone_hit_from_row(row, datasets), float(row.area_m2),
                     float(row.area_m2) / area_m2 if area_m2 else 0)
        for row in session.execute(lookup_sql.parcel_exposure(geojson, scope))
    ]
    zones = [item for item in zones if item.zone.status != RiskStatus.UNMAPPED and item.area_m2 > 0]
    status_areas = {
        status: float(area)
        for status, area in session.execute(lookup_sql.parcel_status_areas(geojson, scope))
        if status != RiskStatus.UNMAPPED
    }
    ordered = {s: status_areas[s] for s in STATUS_ORDER if s in status_areas}
    return ParcelExposure(
        area_m2=area_m2,
        zones=zones,
        status_areas=ordered,
        repaired=repaired,
        datasets=distinct_datasets([item.zone for item in zones]),
    )


def parcel_flood(exposure: ParcelExposure, datums: Mapping[int, str | None] | None = None
                 ) -> FloodElevation:
    """The parcel's 1% water surface for LOMA candidacy: in the SFHA if any part is, at the
    highest static BFE of its SFHA zones (the one its lowest ground must clear); a blank
    V_DATUM is the study's (`datums`, by dataset)."""
    in_sfha = [item.zone for item in exposure.zones if item.zone.sfha]
    with_bfe = [zone for zone in in_sfha if zone.static_bfe is not None]
    highest = max(with_bfe, key=lambda zone: zone.static_bfe or 0.0, default=None)
    return FloodElevation(
        in_sfha=bool(in_sfha), value=highest.static_bfe if highest else None, estimated=False,
        unit=highest.len_unit if highest else None,
        datum=(parse_datum(highest.v_datum) or (datums or {}).get(highest.dataset.id))
        if highest else None,
        reason=None if highest else "no SFHA zone of the parcel has a static BFE")


def parcel_flood_parts(session: Session, geometry: BaseGeometry, scope: Scope = ACTIVE,
                       datums: Mapping[int, str | None] | None = None) -> list[FloodPart]:
    """The parcel's parts in SFHA zones with a static BFE (where maps overlap, the newest
    map's part), for its 1% depth from a DEM."""
    geojson = json.dumps(shapely.geometry.mapping(geometry))
    parts: list[FloodPart] = []
    taken: BaseGeometry | None = None
    for row in session.execute(lookup_sql.parcel_flood_parts(geojson, scope)):
        shape = shapely.geometry.shape(json.loads(row.geojson))
        if taken is not None:
            shape = shape.difference(taken)
        if shape.is_empty or shape.area <= 0:
            continue
        taken = shape if taken is None else taken.union(shape)
        datum = parse_datum(row.v_datum) or (datums or {}).get(row.dataset_id)
        parts.append(FloodPart(row.static_bfe, row.len_unit, datum, shape))
    return parts
