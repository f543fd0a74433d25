"""All spatial SQL of the application, as small builders of SQLAlchemy statements.

Geometries are stored in EPSG:4326. Query shapes (points, envelopes) are built or transformed
to 4326 so that the GiST indexes on the stored columns can be used; stored columns are never
wrapped in a function inside a WHERE clause.
"""

from __future__ import annotations

import datetime as dt
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
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from geoapp.db.models import Dataset, DataVersion, FloodZone, FloodZonePiece
from geoapp.nfhl.status import HIGH_RISK, MODERATE_RISK, OPEN_WATER

SRID = 4326


@dataclass(frozen=True)
class Scope:
    """Which datasets answer: the active ones, or those in force on a date; maybe only one."""

    as_of: dt.date | None = None
    # A dataset id, or a name (all versions of a map share it; `as_of` picks among them).
    dataset: int | str | None = None


# The default scope: every dataset that is ready, as of today.
ACTIVE = Scope()


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


def point(lon: float, lat: float) -> ColumnElement[Any]:
    """A WGS84 point from bound parameters."""
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat, type_=Geometry), SRID, type_=Geometry)


def dataset_is_active() -> ColumnElement[bool]:
    """Datasets that answer queries: fully imported and not retired."""
    return Dataset.status == "ready"


def dataset_in_scope(scope: Scope) -> ColumnElement[bool]:
    """Datasets answering under a scope; `as_of` also admits versions since superseded."""
    if scope.as_of is None:
        clause = dataset_is_active()
    else:
        clause = and_(
            Dataset.status.in_(("ready", "retired")),
            or_(Dataset.effective_date.is_(None), Dataset.effective_date <= scope.as_of),
            or_(Dataset.superseded_on.is_(None), Dataset.superseded_on > scope.as_of),
        )
    if isinstance(scope.dataset, int):
        clause = and_(clause, Dataset.id == scope.dataset)
    elif isinstance(scope.dataset, str):
        clause = and_(clause, Dataset.name == scope.dataset)
    return clause


def dataset_exists(reference: int | str) -> Select[tuple[int]]:
    """Any dataset (of any status) with this id or name."""
    column = Dataset.id if isinstance(reference, int) else Dataset.name
    return select(Dataset.id).where(column == reference).limit(1)


def zone_ids_covering(geom: ColumnElement[Any]) -> Select[tuple[int]]:
    """Ids of zones whose subdivided pieces cover a geometry (boundaries count as inside).

    The pieces have at most a few hundred vertices each, so the exact test after the index
    scan is cheap even when the zone itself has hundreds of thousands of vertices.
    """
    return select(FloodZonePiece.zone_id).where(func.ST_Covers(FloodZonePiece.geom, geom))


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
    box = func.ST_MakeEnvelope(
        bindparam("box_xmin", type_=Float), bindparam("box_ymin", type_=Float),
        bindparam("box_xmax", type_=Float), bindparam("box_ymax", type_=Float), SRID,
        type_=Geometry,
    )
    # A literal, not a parameter, so the planner can match the partial index.
    high_risk = FloodZonePiece.risk_status == literal_column("'high_risk'")
    in_box = FloodZonePiece.geom.op("&&")(box)
    distance = func.ST_Distance(
        cast(FloodZonePiece.geom, Geography), cast(target, Geography), type_=Float
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


def zones_covering_points(
    lons: Sequence[float], lats: Sequence[float], scope: Scope, first_ordinal: int = 0
) -> Select[Any]:
    """For many points at once: (ordinal, zone report columns) for every covering zone.

    One statement: the points travel as arrays, are unnested, and each probes the pieces'
    index through a lateral join. Points covered by nothing produce no row. Plain columns,
    not mapped objects, because a batch returns a row per point and ORM loading would cost
    more than the query.
    """
    points = (
        func.unnest(
            cast(list(range(first_ordinal, first_ordinal + len(lons))), ARRAY(Integer)),
            cast(list(lons), ARRAY(Float)),
            cast(list(lats), ARRAY(Float)),
        )
        .table_valued("ordinal", "lon", "lat")
        .render_derived("points", with_types=False)
    )
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
        cast(func.ST_Intersection(FloodZonePiece.geom, parcel, type_=Geometry), Geography)
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


def parcel_status_areas(parcel_geojson: str, scope: Scope) -> Select[Any]:
    """Per risk status: geodesic area (m²) of the parcel covered by zones of that status.

    Zones of overlapping datasets are unioned first so that no square metre counts twice.
    """
    parcel = func.ST_SetSRID(func.ST_GeomFromGeoJSON(parcel_geojson), SRID, type_=Geometry)
    covered = func.ST_Union(func.ST_Intersection(FloodZonePiece.geom, parcel, type_=Geometry))
    return (
        select(FloodZonePiece.risk_status, func.ST_Area(cast(covered, Geography)).label("area_m2"))
        .join(FloodZone, FloodZone.id == FloodZonePiece.zone_id)
        .join(FloodZone.dataset)
        .where(func.ST_Intersects(FloodZonePiece.geom, parcel), dataset_in_scope(scope))
        .group_by(FloodZonePiece.risk_status)
    )


def geodesic_area(geojson: str) -> Select[Any]:
    """Geodesic area (m²) of a GeoJSON geometry in CRS84."""
    shape = func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson), SRID, type_=Geometry)
    return select(func.ST_Area(cast(shape, Geography)))


def envelope(bbox: tuple[float, float, float, float], srid: int) -> ColumnElement[Any]:
    """A bbox as a polygon in the table's SRID: the query shape is transformed, not the column."""
    box = func.ST_MakeEnvelope(*bbox, srid, type_=Geometry)
    return box if srid == SRID else func.ST_Transform(box, SRID, type_=Geometry)


def zones_intersecting(shape: ColumnElement[Any]) -> ColumnElement[bool]:
    """Zones that intersect a shape, found through their small pieces (index, cheap tests).

    The ids are collected into an array by an InitPlan, evaluated once. As a plain `IN`
    (a semi join) the planner, asked for a page in id order, may walk the primary key and
    rescan the pieces for every zone: seconds instead of milliseconds on large tables.
    """
    piece_ids = select(FloodZonePiece.zone_id).where(
        func.ST_Intersects(FloodZonePiece.geom, shape)
    )
    return FloodZone.id == func.any(func.array(piece_ids.scalar_subquery()))


def zones_intersecting_bbox(bbox: tuple[float, float, float, float], srid: int):
    """Zones intersecting a bbox given in ``srid`` coordinates."""
    return zones_intersecting(envelope(bbox, srid))


def zones_intersecting_geojson(geojson: str) -> ColumnElement[bool]:
    """Zones intersecting a GeoJSON geometry in CRS84 (bound as a parameter)."""
    return zones_intersecting(
        func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson, type_=Geometry), SRID, type_=Geometry)
    )


def zone_features(
    *,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[tuple[Any, bool]],
    properties: dict[str, Any],
    srid: int,
    lat_first: bool,
    precision: int,
    simplify: float | None,
    skip_geometry: bool,
) -> Select[Any]:
    """Zones as (id, GeoJSON geometry text, properties JSON text), both made by PostGIS.

    Geometry is transformed, simplified (in output units) and axis-swapped in the database,
    so Python only concatenates text and memory does not grow with the page size.
    """
    geometry_text: ColumnElement[Any]
    if skip_geometry:
        geometry_text = literal_column("NULL")
    else:
        geom: ColumnElement[Any] = FloodZone.geom
        if srid != SRID:
            geom = func.ST_Transform(geom, srid, type_=Geometry)
        if simplify:
            geom = func.ST_SimplifyPreserveTopology(geom, simplify, type_=Geometry)
        if lat_first:
            geom = func.ST_FlipCoordinates(geom, type_=Geometry)
        geometry_text = func.ST_AsGeoJSON(geom, precision)
    pairs: list[Any] = []
    for name, column in properties.items():
        pairs += [literal(name, String), column]
    properties_text = cast(func.json_build_object(*pairs), Text)
    # Missing values last either way: "-static_bfe" should start with the highest BFE.
    ordering = [
        (column.desc() if descending else column.asc()).nulls_last()
        for column, descending in order_by
    ]
    return (
        select(FloodZone.id, geometry_text.label("geometry"), properties_text.label("properties"))
        .join(FloodZone.dataset)
        .where(*where)
        .order_by(*ordering, FloodZone.id)
    )


def zone_count(where: Sequence[ColumnElement[bool]]) -> Select[tuple[int]]:
    """How many zones match some conditions."""
    return select(func.count(FloodZone.id)).join(FloodZone.dataset).where(*where)


def estimated_rows(session: Any, statement: Select[Any]) -> float:
    """The planner's row estimate for a query's input, from EXPLAIN, without running it.

    The statement is compiled with bound parameters, so no value is ever formatted into SQL.
    """
    compiled = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    connection = session.connection()
    plan = connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    ).scalar()
    node = plan[0]["Plan"]
    # An aggregate's own estimate is 1 row: look at what feeds it.
    while node.get("Node Type") == "Aggregate" and node.get("Plans"):
        node = node["Plans"][0]
    return float(node.get("Plan Rows", 0))


def active_date_range() -> Select[Any]:
    """Earliest and latest effective dates of the active datasets."""
    return select(func.min(Dataset.effective_date), func.max(Dataset.effective_date)).where(
        dataset_is_active()
    )


# The tables whose changes change what the API serves (which zones, in which datasets).
SERVED_TABLES = ("flood_zones", "datasets")


@lru_cache(maxsize=1)
def data_version() -> Select[Any]:
    """One change counter (the sum of the tables' counters, which only grow) and the last
    change time of the served data, for ETags and Last-Modified."""
    return select(
        func.coalesce(func.sum(DataVersion.version), 0).label("version"),
        func.max(DataVersion.changed_at).label("changed_at"),
    ).where(DataVersion.name.in_(SERVED_TABLES))


def active_datasets() -> Select[Any]:
    """(id, name, effective_date) of the datasets that answer queries, by name."""
    return (select(Dataset.id, Dataset.name, Dataset.effective_date)
            .where(dataset_is_active()).order_by(Dataset.name, Dataset.id))


def active_extent() -> Select[Any]:
    """Bounding box (xmin, ymin, xmax, ymax) of all active datasets, NULLs when there are none."""
    box = func.ST_Extent(Dataset.bbox)
    return select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)).where(
        dataset_is_active()
    )


def dataset_bbox(dataset_id: int) -> ColumnElement[Any]:
    """The envelope of one dataset's zones, as a polygon (for Dataset.bbox)."""
    extent = (
        select(func.ST_Extent(FloodZone.geom))
        .where(FloodZone.dataset_id == dataset_id)
        .scalar_subquery()
    )
    return func.ST_SetSRID(func.ST_Envelope(func.Box2D(extent)), SRID, type_=Geometry)


def database_ping() -> Any:
    """The cheapest statement that proves the database answers."""
    return text("SELECT 1")


# Mapbox Vector Tiles: a 4096-unit grid per tile, with a 64-unit buffer around it.
MVT_EXTENT = 4096
MVT_BUFFER = 64
WEB_MERCATOR_HALF = 20037508.342789244
TILE_LAYER = "flood_zones"


def tile_envelope(z: int, x: int, y: int, margin: float = 0.0) -> ColumnElement[Any]:
    """The Web Mercator envelope of a tile, optionally grown by a fraction of its size."""
    bounds = func.ST_MakeEnvelope(-WEB_MERCATOR_HALF, -WEB_MERCATOR_HALF, WEB_MERCATOR_HALF,
                                  WEB_MERCATOR_HALF, 3857, type_=Geometry)
    return func.ST_TileEnvelope(z, x, y, bounds, margin, type_=Geometry)


def zone_tile(z: int, x: int, y: int, tolerance_deg: float, min_bbox_deg2: float,
              overview: bool = False) -> Select[Any]:
    """One Mapbox Vector Tile of the active zones (a single bytea), built in PostGIS.

    The tile's envelope is transformed to the table's SRID (never the column), so the GiST
    index finds the zones; each zone is clipped to the tile and simplified before it is
    transformed, so huge zones cost what their part in the tile can show. Zones whose bounding
    box is below `min_bbox_deg2` are left out (invisible at that zoom).
    """
    search = func.ST_Transform(tile_envelope(z, x, y, MVT_BUFFER / MVT_EXTENT), SRID,
                               type_=Geometry)
    # At low zoom the stored overview (~20 m of detail) is drawn: a fraction of the vertices.
    source = (func.coalesce(FloodZone.geom_overview, FloodZone.geom, type_=Geometry)
              if overview else FloodZone.geom)
    clipped = func.ST_ClipByBox2D(source, func.Box2D(search), type_=Geometry)
    # Simplified before it is transformed: a 100,000-vertex zone shrinks to what the zoom
    # level can show, and only that is projected.
    simplified = func.ST_Simplify(clipped, tolerance_deg, True, type_=Geometry)
    projected = func.ST_Transform(simplified, 3857, type_=Geometry)
    mvt_geom = func.ST_AsMVTGeom(projected, func.Box2D(tile_envelope(z, x, y)), MVT_EXTENT,
                                 MVT_BUFFER, True, type_=Geometry)
    # Box2D reads the bounding box stored with the geometry, without unpacking the geometry.
    bbox_area = func.ST_Area(func.Box2D(FloodZone.geom))
    features = (
        select(
            FloodZone.id,
            FloodZone.fld_zone.label("zone"),
            FloodZone.zone_subty.label("subtype"),
            FloodZone.risk_status.label("status"),
            FloodZone.static_bfe.label("bfe"),
            FloodZone.len_unit.label("unit"),
            FloodZone.depth,
            Dataset.id.label("dataset_id"),
            Dataset.name.label("dataset"),
            mvt_geom.label("geom"),
        )
        .join(FloodZone.dataset)
        .where(dataset_is_active(), FloodZone.geom.op("&&")(search),
               bbox_area >= min_bbox_deg2)
        .subquery("tile")
    )
    return (
        select(func.ST_AsMVT(literal_column("tile"), TILE_LAYER, MVT_EXTENT, "geom", "id"))
        .select_from(features)
        .where(features.c.geom.is_not(None))
    )


def report_map_zones(frame: tuple[float, float, float, float], tolerance_m: float
                     ) -> Select[Any]:
    """Active zones inside a Web Mercator frame, clipped to it, as SVG path data.

    The frame is transformed to the table's SRID for the index; each zone is clipped before
    it is projected and shifted so the frame's south-west corner is the origin (ST_AsSVG
    writes y downwards, as SVG wants). Higher-risk zones come last, so they are drawn on top.
    """
    xmin, ymin, _, _ = frame
    box = func.ST_MakeEnvelope(*frame, 3857, type_=Geometry)
    search = func.ST_Transform(box, SRID, type_=Geometry)
    clipped = func.ST_ClipByBox2D(FloodZone.geom, func.Box2D(search), type_=Geometry)
    shifted = func.ST_Translate(func.ST_Transform(clipped, 3857, type_=Geometry), -xmin, -ymin,
                                type_=Geometry)
    drawn = func.ST_Simplify(shifted, tolerance_m, True, type_=Geometry)
    shapes = (
        select(FloodZone.id, FloodZone.fld_zone, FloodZone.risk_status,
               drawn.label("geom"))
        .join(FloodZone.dataset)
        .where(dataset_is_active(), func.ST_Intersects(FloodZone.geom, search))
        .subquery("shapes")
    )
    label = func.ST_PointOnSurface(shapes.c.geom, type_=Geometry)
    drawing_order = case({HIGH_RISK: 3, OPEN_WATER: 2, MODERATE_RISK: 1},
                         value=shapes.c.risk_status, else_=0)
    return (
        select(shapes.c.fld_zone, shapes.c.risk_status,
               func.ST_AsSVG(shapes.c.geom, 0, 1).label("path"),
               func.ST_Area(shapes.c.geom).label("area"),
               func.ST_X(label).label("label_x"), func.ST_Y(label).label("label_y"))
        .where(func.ST_Dimension(shapes.c.geom) == 2)
        .order_by(drawing_order, shapes.c.id)
    )


# --- added by web toolkit
# Statements the web toolkit and the collection registry needed; helper C may regroup them.


def current_data_version(session: Any) -> tuple[int, Any]:
    """(version, changed_at) of the served data, read with ``data_version()``."""
    row = session.execute(data_version()).one()
    return int(row.version), row.changed_at


def dataset_features(dataset_id: int | None = None) -> Select[Any]:
    """(Dataset, extent as GeoJSON text) of every dataset by id, or of one dataset."""
    statement = select(Dataset, func.ST_AsGeoJSON(Dataset.bbox, 7)).order_by(Dataset.id)
    if dataset_id is not None:
        statement = statement.where(Dataset.id == dataset_id)
    return statement
