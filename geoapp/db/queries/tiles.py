"""Mapbox Vector Tiles of the active zones (and, from some zoom on, of the FIRM panels and BFE
lines of the same datasets), built in PostGIS."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Select,
    Text,
    cast,
    func,
    literal,
    literal_column,
    select,
)

from geoapp.db.models import BfeLine, Dataset, FirmPanel, FloodZone
from geoapp.db.queries.scope import dataset_is_active
from geoapp.db.queries.shapes import SRID

# Mapbox Vector Tiles: a 4096-unit grid per tile, with a 64-unit buffer around it.
MVT_EXTENT = 4096
MVT_BUFFER = 64
WEB_MERCATOR_HALF = 20037508.342789244
TILE_LAYER = "flood_zones"
# The MVT layers of the package layers drawn on the map.
PANEL_LAYER = "panels"
BFE_LAYER = "bfe_lines"


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


def _mvt_geometry(geom: ColumnElement[Any], z: int, x: int, y: int,
                  tolerance_deg: float) -> ColumnElement[Any]:
    """A stored geometry simplified (before it is transformed, as the zones are) and in the
    tile's grid units, clipped to the tile and its buffer."""
    simplified = func.ST_Simplify(geom, tolerance_deg, True, type_=Geometry)
    projected = func.ST_Transform(simplified, 3857, type_=Geometry)
    return func.ST_AsMVTGeom(projected, func.Box2D(tile_envelope(z, x, y)), MVT_EXTENT,
                             MVT_BUFFER, True, type_=Geometry)


def _search_box(z: int, x: int, y: int) -> ColumnElement[Any]:
    """The tile and its buffer in the tables' SRID (the envelope is transformed, never the
    column): what the GiST indexes are asked for."""
    return func.ST_Transform(tile_envelope(z, x, y, MVT_BUFFER / MVT_EXTENT), SRID,
                             type_=Geometry)


def _layer_tile(features: Any, name: str) -> Select[Any]:
    """One MVT layer of a subquery of features (id, properties..., geom)."""
    return (
        select(func.ST_AsMVT(literal_column(features.name), name, MVT_EXTENT, "geom", "id"))
        .select_from(features)
        .where(features.c.geom.is_not(None))
    )


def panel_tile(z: int, x: int, y: int, tolerance_deg: float) -> Select[Any]:
    """The FIRM panel outlines of the active datasets in a tile (MVT layer "panels")."""
    search = _search_box(z, x, y)
    clipped = func.ST_ClipByBox2D(FirmPanel.geom, func.Box2D(search), type_=Geometry)
    features = (
        select(
            FirmPanel.id,
            FirmPanel.firm_pan,
            cast(FirmPanel.eff_date, Text).label("eff_date"),
            FirmPanel.dataset_id,
            _mvt_geometry(clipped, z, x, y, tolerance_deg).label("geom"),
        )
        .join(Dataset, Dataset.id == FirmPanel.dataset_id)
        .where(dataset_is_active(), FirmPanel.geom.op("&&")(search))
        .subquery("panel")
    )
    return _layer_tile(features, PANEL_LAYER)


def bfe_line_tile(z: int, x: int, y: int, tolerance_deg: float) -> Select[Any]:
    """The BFE lines of the active datasets in a tile (MVT layer "bfe_lines"), with their
    elevation, its unit and datum."""
    search = _search_box(z, x, y)
    features = (
        select(
            BfeLine.id,
            BfeLine.elev,
            BfeLine.len_unit.label("unit"),
            BfeLine.v_datum.label("datum"),
            BfeLine.dataset_id,
            _mvt_geometry(BfeLine.geom, z, x, y, tolerance_deg).label("geom"),
        )
        .join(Dataset, Dataset.id == BfeLine.dataset_id)
        .where(dataset_is_active(), BfeLine.geom.op("&&")(search))
        .subquery("bfe")
    )
    return _layer_tile(features, BFE_LAYER)


def layered_tile(layers: Sequence[Select[Any]]) -> Select[Any]:
    """One tile of several MVT layers (each a statement of one bytea, maybe NULL), in order:
    a vector tile's layers are its bytes one after another."""
    if len(layers) == 1:
        return layers[0]
    parts = [func.coalesce(layer.scalar_subquery(), literal(b"", LargeBinary),
                           type_=LargeBinary) for layer in layers]
    tile = parts[0]
    for part in parts[1:]:
        tile = tile.op("||", return_type=LargeBinary)(part)
    return select(tile)
