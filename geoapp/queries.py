"""All spatial SQL of the application, as small builders of SQLAlchemy statements.

Geometries are stored in EPSG:4326. Query shapes (points, envelopes) are built or transformed
to 4326 so that the GiST indexes on the stored columns can be used; stored columns are never
wrapped in a function inside a WHERE clause.
"""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.orm import defer

from geoapp.models import Dataset, FloodZone, FloodZonePiece

SRID = 4326


def point(lon: float, lat: float) -> ColumnElement[Any]:
    """A WGS84 point from bound parameters."""
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat, type_=Geometry), SRID, type_=Geometry)


def dataset_is_active() -> ColumnElement[bool]:
    """Datasets that answer queries: fully imported and not retired."""
    return Dataset.status == "ready"


def zone_ids_covering(geom: ColumnElement[Any]) -> Select[tuple[int]]:
    """Ids of zones whose subdivided pieces cover a geometry (boundaries count as inside).

    The pieces have at most a few hundred vertices each, so the exact test after the index
    scan is cheap even when the zone itself has hundreds of thousands of vertices.
    """
    return select(FloodZonePiece.zone_id).where(func.ST_Covers(FloodZonePiece.geom, geom))


def zones_covering_point(lon: float, lat: float) -> Select[tuple[FloodZone, Dataset]]:
    """Active zones covering a point, with their dataset, most recently effective first."""
    return (
        select(FloodZone, Dataset)
        .join(FloodZone.dataset)
        .where(dataset_is_active(), FloodZone.id.in_(zone_ids_covering(point(lon, lat))))
        .options(defer(FloodZone.geom, raiseload=True), defer(FloodZone.attributes))
        .order_by(Dataset.effective_date.desc().nulls_last(), Dataset.name, FloodZone.id)
    )


def zones_for_map(limit: int, tolerance_degrees: float) -> Select[Any]:
    """Zone attributes and simplified GeoJSON geometry for drawing a whole-map overview."""
    simplified = func.ST_SimplifyPreserveTopology(FloodZone.geom, tolerance_degrees)
    return (
        select(
            FloodZone.id,
            FloodZone.fld_zone,
            FloodZone.zone_subty,
            FloodZone.sfha_tf,
            FloodZone.static_bfe,
            FloodZone.v_datum,
            FloodZone.len_unit,
            FloodZone.depth,
            Dataset.name.label("dataset_name"),
            func.ST_AsGeoJSON(simplified, 7).label("geojson"),
        )
        .join(FloodZone.dataset)
        .where(dataset_is_active())
        .order_by(FloodZone.id)
        .limit(limit)
    )


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
