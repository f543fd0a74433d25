"""Determinations: zones covering a point or many points, the nearest high-risk zone,
a parcel's exposure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from geoalchemy2 import Geography, Geometry
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from geoapp.db import compiled
from geoapp.db.models import Dataset, FloodZone, FloodZonePiece
from geoapp.db.queries.scope import ACTIVE, Scope, dataset_in_scope
from geoapp.db.queries.shapes import SRID, point
from geoapp.nfhl.status import RiskStatus


def zone_report_columns() -> tuple[Any, ...]:
    """The columns of a zone and its dataset a report needs (no geometry), labelled."""
    return (
        FloodZone.id.label("zone_id"),
        FloodZone.fld_zone,
        FloodZone.zone_subty,
        FloodZone.risk_status,
        FloodZone.static_bfe,
        FloodZone.v_datum,
        FloodZone.len_unit,
        FloodZone.depth,
        FloodZone.velocity,
        FloodZone.vel_unit,
        FloodZone.dfirm_id,
        FloodZone.fld_ar_id,
        Dataset.id.label("dataset_id"),
        Dataset.name.label("dataset_name"),
        Dataset.source_filename,
        Dataset.effective_date,
        Dataset.imported_at,
    )


def zone_ids_covering(geom: ColumnElement[Any]) -> Select[tuple[int]]:
    """Ids of zones whose subdivided pieces cover a geometry (boundaries count as inside).

    The pieces have at most a few hundred vertices each, so the exact test after the index
    scan is cheap even when the zone itself has hundreds of thousands of vertices.
    """
    return select(FloodZonePiece.zone_id).where(func.ST_Covers(FloodZonePiece.geom, geom))


# Geodesic measures cast to geography of the storage SRID. A bare `geography` type renders as
# geography(GEOMETRY,-1), which PostgreSQL accepts with a NOTICE per cast and execution: the
# server formats each with the statement's text around it, and libpq scans that text again
# on the client: 305 of a lookup's 340 µs of driver CPU went to its three notices.
GEOGRAPHY = Geography(srid=SRID)

# Statements of the hot path are built once per scope and cached; a request only binds these.
LON = "lon"
LAT = "lat"


def bound_point() -> ColumnElement[Any]:
    """The query point as the bind parameters `lon` and `lat`."""
    return point(bindparam(LON, type_=Float), bindparam(LAT, type_=Float))


@lru_cache(maxsize=256)
def zones_covering_point(scope: Scope = ACTIVE) -> Select[Any]:
    """Zones in scope covering the point bound as `lon`/`lat`, most recently effective first."""
    return (
        select(*zone_report_columns())
        .select_from(FloodZone)
        .join(FloodZone.dataset)
        .where(dataset_in_scope(scope), FloodZone.id.in_(zone_ids_covering(bound_point())))
        .order_by(Dataset.effective_date.desc().nulls_last(), Dataset.name, FloodZone.id)
    )


@dataclass(frozen=True)
class SearchBox:
    """A lon/lat rectangle that holds every point within some metres of a query point.

    ``planar_lon`` is the query longitude as seen from this rectangle: shifted by 360° for
    the copy on the other side of the antimeridian, so planar distances to it stay small.
    ``metres_per_degree`` is the fewest metres a degree of planar distance can be worth
    inside the rectangle (a lower bound of geodesic over planar distance there).
    """

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    planar_lon: float
    metres_per_degree: float


# WGS84: the equatorial radius, which no parallel's radius of curvature is below (N >= a),
# and the meridian's smallest radius of curvature (at the equator, M = a(1 - e²)).
WGS84_A = 6_378_137.0
WGS84_MERIDIAN_MIN = 6_335_439.0


# Rounding slack: the boxes are grown a little so float error never cuts off a zone.
BOX_SLACK = 1.0 + 1e-6


# Stands in for "no bound" where a degree of longitude is worth nothing (at a pole).
NO_PLANAR_BOUND = 1e-9


def search_boxes(lon: float, lat: float, radius_m: float) -> list[SearchBox]:
    """Lon/lat rectangles (one, or two across the antimeridian) that hold every point of
    the ellipsoid within ``radius_m`` metres of (lon, lat), at any latitude.

    Along any path, ds >= M·|dφ| and ds >= N·cos φ·|dλ|, so a point ``radius_m`` away is at
    most ``radius_m / M_min`` radians of latitude away, and, when no pole is in reach, at most
    ``radius_m / (a · cos φ_max)`` radians of longitude, φ_max being the latitude of the
    box's edge nearest a pole. When a pole is in reach, every longitude is.
    """
    reach = radius_m * BOX_SLACK
    dlat = math.degrees(reach / WGS84_MERIDIAN_MIN)
    ymin, ymax = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    phi_max = math.radians(max(abs(ymin), abs(ymax)))
    parallel_m = WGS84_A * math.cos(phi_max) if ymin > -90.0 and ymax < 90.0 else 0.0
    # A degree of planar distance is worth at least the smaller of a degree of latitude
    # and a degree of longitude on the box's most poleward parallel.
    metres_per_degree = max(math.radians(min(WGS84_MERIDIAN_MIN, parallel_m)), NO_PLANAR_BOUND)
    dlon = 180.0 if parallel_m <= reach / math.pi else math.degrees(reach / parallel_m)
    if dlon >= 180.0:
        return [SearchBox(-180.0, ymin, 180.0, ymax, lon, metres_per_degree)]
    boxes = [SearchBox(max(lon - dlon, -180.0), ymin, min(lon + dlon, 180.0), ymax, lon,
                       metres_per_degree)]
    if lon - dlon < -180.0:
        boxes.append(SearchBox(lon - dlon + 360.0, ymin, 180.0, ymax, lon + 360.0,
                               metres_per_degree))
    if lon + dlon > 180.0:
        boxes.append(SearchBox(-180.0, ymin, lon + dlon - 360.0, ymax, lon - 360.0,
                               metres_per_degree))
    return boxes


def nearest_high_risk_params(lon: float, lat: float, radius_m: float,
                             box: SearchBox) -> dict[str, float]:
    """Bind parameters of `nearest_high_risk` for a point, a radius (m) and one search box."""
    return {LON: lon, LAT: lat, "radius_m": radius_m, "planar_lon": box.planar_lon,
            "box_xmin": box.xmin, "box_ymin": box.ymin, "box_xmax": box.xmax,
            "box_ymax": box.ymax, "metres_per_degree": box.metres_per_degree}


def box_param(prefix: str) -> ColumnElement[Any]:
    """An envelope (EPSG:4326) bound as `<prefix>_xmin`, `_ymin`, `_xmax`, `_ymax`."""
    return func.ST_MakeEnvelope(
        bindparam(f"{prefix}_xmin", type_=Float), bindparam(f"{prefix}_ymin", type_=Float),
        bindparam(f"{prefix}_xmax", type_=Float), bindparam(f"{prefix}_ymax", type_=Float),
        SRID, type_=Geometry)


@lru_cache(maxsize=256)
def nearest_high_risk(scope: Scope = ACTIVE) -> Select[Any]:
    """The nearest high-risk zone within a radius and its nearest point, among the pieces in
    one search box (bind parameters: `nearest_high_risk_params`).

    Exact, and in index probes rather than a spheroid distance for every piece in the box:
    the search box (a bound in metres, from `search_boxes`) is the index condition; a KNN
    scan finds the planar-nearest piece in it and measures that one on the spheroid (``d``
    metres); only pieces within ``d / metres_per_degree`` degrees can be nearer, and only
    those few are measured. The stored column is never transformed, so the partial GiST
    index of high-risk pieces serves both probes.
    """
    target = bound_point()
    # Where the planar probes look from: the query point, shifted for a box across the
    # antimeridian (the geodesic distances use the true point).
    planar_target = point(bindparam("planar_lon", type_=Float), bindparam(LAT, type_=Float))
    box = box_param("box")
    # A literal, not a parameter, so the planner can match the partial index.
    high_risk = FloodZonePiece.risk_status == literal_column("'high_risk'")
    in_box = FloodZonePiece.geom.op("&&")(box)
    distance = func.ST_Distance(
        cast(FloodZonePiece.geom, GEOGRAPHY), cast(target, GEOGRAPHY), type_=Float
    )
    planar = FloodZonePiece.geom.op("<->", return_type=Float)(planar_target)
    first_candidate_m = (
        select(distance)
        .join(FloodZone, FloodZone.id == FloodZonePiece.zone_id)
        .join(FloodZone.dataset)
        .where(high_risk, in_box, dataset_in_scope(scope))
        .order_by(planar)
        .limit(1)
        .scalar_subquery()
    )
    band_degrees = first_candidate_m / bindparam("metres_per_degree", type_=Float)
    closest = func.ST_ClosestPoint(FloodZonePiece.geom, target, type_=Geometry)
    return (
        select(
            *zone_report_columns(),
            distance.label("distance_m"),
            func.ST_X(closest).label("closest_lon"),
            func.ST_Y(closest).label("closest_lat"),
        )
        .select_from(FloodZonePiece)
        .join(FloodZone, FloodZone.id == FloodZonePiece.zone_id)
        .join(FloodZone.dataset)
        .where(
            high_risk,
            in_box,
            func.ST_DWithin(FloodZonePiece.geom, planar_target, band_degrees),
            distance <= bindparam("radius_m", type_=Float),
            dataset_in_scope(scope),
        )
        .order_by(distance)
        .limit(1)
    )


@dataclass(frozen=True)
class PointReportParts:
    """The parts of `point_report`, for statements that add to it (the determination's)."""

    covering: Any  # the CTE of the zones covering the point
    zones: Select[Any]  # its rows, with the nearest zone's columns null
    nearest: Select[Any]  # the nearest high-risk zone, when no covering zone is high risk

    def high_risk(self) -> ColumnElement[bool]:
        """Whether a covering zone is high risk."""
        return covered_by_high_risk(self.covering)


def covered_by_high_risk(covering: Any) -> ColumnElement[bool]:
    """Whether one of the covering zones (the CTE of `point_report_parts`) is high risk."""
    return (select(covering.c.zone_id)
            .where(covering.c.risk_status == literal_column("'high_risk'"))
            .exists())


def point_report_parts(scope: Scope = ACTIVE) -> PointReportParts:
    """The covering zones (a CTE, read once) and the nearest high-risk zone under a one-time
    filter on them, as `point_report` unites them."""
    covering = zones_covering_point(scope).cte("covering")
    no_float = null().cast(Float)
    zones = select(
        *covering.c,
        no_float.label("distance_m"),
        no_float.label("closest_lon"),
        no_float.label("closest_lat"),
        false().label("is_nearest"),
    )
    nearest = nearest_high_risk(scope).subquery("nearest")
    nearest_zone = select(*nearest.c, true().label("is_nearest")).where(
        ~covered_by_high_risk(covering))
    return PointReportParts(covering, zones, nearest_zone)


def report_order(rows: Any) -> tuple[Any, ...]:
    """The order of a point report's rows: covering zones (newest map first), then nearest."""
    return (rows.c.is_nearest, rows.c.effective_date.desc().nulls_last(), rows.c.dataset_name,
            rows.c.zone_id)


@lru_cache(maxsize=256)
def point_report(scope: Scope = ACTIVE) -> Select[Any]:
    """A whole point lookup in one statement: the zones covering the point (as
    `zones_covering_point`) and, when none of them is high risk, the nearest high-risk zone
    in one search box (as `nearest_high_risk`, same bind parameters).

    Rows are the zone report columns, ``distance_m``, ``closest_lon``, ``closest_lat`` (null
    on covering zones) and ``is_nearest``; covering zones first, in their order. The
    covering zones are read once (a CTE); the nearest search sits under a one-time filter on
    them, so a point in the SFHA never runs it. One round trip instead of two for most
    points, which is much of a lookup's cost outside the database.
    """
    parts = point_report_parts(scope)
    rows = union_all(parts.zones, parts.nearest).subquery("report")
    # The same index walks for every point: planned once when prepared (geoapp/db/compiled.py).
    return compiled.generic_plan(select(*rows.c).order_by(*report_order(rows)))


def points_table(lons: Sequence[float], lats: Sequence[float], first_ordinal: int = 0) -> Any:
    """Many points as a table (ordinal, lon, lat): arrays sent once and unnested."""
    return (
        func.unnest(
            cast(list(range(first_ordinal, first_ordinal + len(lons))), ARRAY(Integer)),
            cast(list(lons), ARRAY(Float)),
            cast(list(lats), ARRAY(Float)),
        )
        .table_valued("ordinal", "lon", "lat")
        .render_derived("points", with_types=False)
    )


def zones_covering_points(
    lons: Sequence[float], lats: Sequence[float], scope: Scope, first_ordinal: int = 0
) -> Select[Any]:
    """For many points at once: (ordinal, zone report columns) for every covering zone.

    One statement: the points travel as arrays, are unnested, and each probes the pieces'
    index through a lateral join. Points covered by nothing produce no row. Plain columns,
    not mapped objects, because a batch returns a row per point and ORM loading would cost
    more than the query.
    """
    points = points_table(lons, lats, first_ordinal)
    probe = point(points.c.lon, points.c.lat)
    hits = (
        select(FloodZonePiece.zone_id)
        .where(func.ST_Covers(FloodZonePiece.geom, probe))
        .distinct()
        .lateral("hits")
    )
    return (
        select(points.c.ordinal, *zone_report_columns())
        .select_from(points)
        .join(hits, true())
        .join(FloodZone, FloodZone.id == hits.c.zone_id)
        .join(FloodZone.dataset)
        .where(dataset_in_scope(scope))
        .order_by(points.c.ordinal, Dataset.effective_date.desc().nulls_last(), FloodZone.id)
    )


def parcel_exposure(parcel_geojson: str, scope: Scope) -> Select[Any]:
    """Per zone in scope: the geodesic area (m²) of its intersection with a parcel.

    Intersections are taken with the zone's small pieces (which tile the zone without
    overlapping) and summed, rather than with the whole zone of possibly 10⁵ vertices.
    """
    parcel = func.ST_SetSRID(func.ST_GeomFromGeoJSON(parcel_geojson), SRID, type_=Geometry)
    piece_area = func.ST_Area(
        cast(func.ST_Intersection(FloodZonePiece.geom, parcel, type_=Geometry), GEOGRAPHY)
    )
    return (
        select(*zone_report_columns(), func.sum(piece_area).label("area_m2"))
        .select_from(FloodZonePiece)
        .join(FloodZone, FloodZone.id == FloodZonePiece.zone_id)
        .join(FloodZone.dataset)
        .where(func.ST_Intersects(FloodZonePiece.geom, parcel), dataset_in_scope(scope))
        .group_by(FloodZone.id, Dataset.id)
        .order_by(Dataset.effective_date.desc().nulls_last(), FloodZone.id)
    )


def parcel_flood_parts(parcel_geojson: str, scope: Scope) -> Select[Any]:
    """Per SFHA zone with a static BFE in scope, newest map first: its BFE, unit and datum and
    its part of the parcel as GeoJSON (the pieces' intersections, unioned)."""
    parcel = func.ST_SetSRID(func.ST_GeomFromGeoJSON(parcel_geojson), SRID, type_=Geometry)
    part = func.ST_Union(func.ST_Intersection(FloodZonePiece.geom, parcel, type_=Geometry))
    return (
        select(FloodZone.static_bfe, FloodZone.len_unit, FloodZone.v_datum,
               Dataset.id.label("dataset_id"), func.ST_AsGeoJSON(part).label("geojson"))
        .select_from(FloodZonePiece)
        .join(FloodZone, FloodZone.id == FloodZonePiece.zone_id)
        .join(FloodZone.dataset)
        .where(func.ST_Intersects(FloodZonePiece.geom, parcel), dataset_in_scope(scope),
               FloodZonePiece.risk_status == RiskStatus.HIGH_RISK.value,
               FloodZone.static_bfe.is_not(None))
        .group_by(FloodZone.id, Dataset.id)
        .order_by(Dataset.effective_date.desc().nulls_last(), Dataset.id.desc(), FloodZone.id)
    )


def parcel_status_areas(parcel_geojson: str, scope: Scope) -> Select[Any]:
    """Per risk status: geodesic area (m²) of the parcel covered by zones of that status.

    Zones of overlapping datasets are unioned first so that no square metre counts twice.
    """
    parcel = func.ST_SetSRID(func.ST_GeomFromGeoJSON(parcel_geojson), SRID, type_=Geometry)
    covered = func.ST_Union(func.ST_Intersection(FloodZonePiece.geom, parcel, type_=Geometry))
    return (
        select(FloodZonePiece.risk_status, func.ST_Area(cast(covered, GEOGRAPHY)).label("area_m2"))
        .join(FloodZone, FloodZone.id == FloodZonePiece.zone_id)
        .join(FloodZone.dataset)
        .where(func.ST_Intersects(FloodZonePiece.geom, parcel), dataset_in_scope(scope))
        .group_by(FloodZonePiece.risk_status)
    )


def geodesic_area(geojson: str) -> Select[Any]:
    """Geodesic area (m²) of a GeoJSON geometry in CRS84."""
    shape = func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson), SRID, type_=Geometry)
    return select(func.ST_Area(cast(shape, GEOGRAPHY)))
