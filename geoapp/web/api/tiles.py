"""Vector tiles (OGC API - Tiles, WebMercatorQuad) and their TileJSON description."""

from __future__ import annotations

from flask import Response, current_app
from flask.typing import ResponseReturnValue

from geoapp.db.queries import datasets as datasets_sql
from geoapp.db.queries import tiles as tiles_sql
from geoapp.errors import NotFound
from geoapp.extensions import db
from geoapp.nfhl.status import RiskStatus
from geoapp.ogc import tiles
from geoapp.ogc.collections import Capability, Collection, registry
from geoapp.web.api import bp
from geoapp.web.http import (
    JSON,
    DataVersion,
    api_url,
    conditional,
    json_response,
    tile_url_template,
)
from geoapp.web.serializers import link, tilejson_json, tilesets_json

MVT = "application/vnd.mapbox-vector-tile"
MATRIX_SET = tiles.MATRIX_SET
TILE_FIELDS = {
    "zone": "Flood zone code (FLD_ZONE)",
    "subtype": "Zone subtype (ZONE_SUBTY)",
    "status": "Risk status: " + ", ".join(s for s in RiskStatus if s != RiskStatus.UNMAPPED),
    "bfe": "Static base flood elevation",
    "unit": "Unit of the BFE",
    "depth": "Depth (AO zones)",
    "dataset_id": "Dataset id",
    "dataset": "Dataset name",
}
PANEL_FIELDS = {
    "firm_pan": "FIRM panel number (FIRM_PAN)",
    "eff_date": "Effective date of the panel",
    "dataset_id": "Dataset id",
}
BFE_FIELDS = {
    "elev": "Base flood elevation (ELEV)",
    "unit": "Unit of the elevation (LEN_UNIT)",
    "datum": "Vertical datum (V_DATUM)",
    "dataset_id": "Dataset id",
}
# The layers of every tile: (id, fields, the zoom from which tiles have it).
TILE_LAYERS = [
    (tiles_sql.TILE_LAYER, TILE_FIELDS, 0),
    (tiles_sql.PANEL_LAYER, PANEL_FIELDS, tiles.PANEL_MIN_ZOOM),
    (tiles_sql.BFE_LAYER, BFE_FIELDS, tiles.BFE_MIN_ZOOM),
]


def tile_cache() -> tiles.TileCache:
    """This process's tile cache (created on first use)."""
    cache = current_app.extensions.get("geoapp.ogc.tiles")
    if cache is None:
        cache = tiles.TileCache(current_app.config["GEOAPP_TILE_CACHE_MB"] * 1024 * 1024)
        current_app.extensions["geoapp.ogc.tiles"] = cache
    return cache


def tiled(collection_id: str, matrix_set: str | None = None) -> Collection:
    """The collection, if it has tiles, and the tile matrix set, if named, is ours."""
    collection = registry.supporting(collection_id, Capability.TILES)
    if matrix_set is not None and matrix_set != MATRIX_SET:
        raise NotFound(f"no tile matrix set {matrix_set!r}; use {MATRIX_SET}")
    return collection


@bp.get("/collections/<collection_id>/tiles")
def tilesets(collection_id: str) -> ResponseReturnValue:
    """The tilesets of the collection (one: vector tiles in WebMercatorQuad)."""
    collection = tiled(collection_id)
    tilejson_link = link(api_url("api.tilejson", collection_id=collection.id,
                                 matrix_set=MATRIX_SET), "self", JSON, "TileJSON")
    return json_response(tilesets_json(tilejson_link, tile_url_template(collection.id), MVT))


@bp.get("/collections/<collection_id>/tiles/<matrix_set>")
def tilejson(collection_id: str, matrix_set: str) -> ResponseReturnValue:
    """TileJSON 3.0 of the vector tiles, for MapLibre, Leaflet.VectorGrid, QGIS, ..."""
    collection = tiled(collection_id, matrix_set)
    extent = db.session.execute(datasets_sql.active_extent()).one()
    return json_response(tilejson_json(tile_url_template(collection.id), tuple(extent),
                                       tiles.MAX_ZOOM, TILE_LAYERS))


@bp.get("/collections/<collection_id>/tiles/<matrix_set>/<int:z>/<int:y>/<int:x>")
def tile(collection_id: str, matrix_set: str, z: int, y: int, x: int) -> ResponseReturnValue:
    """One vector tile; 204 when nothing is in it. Cached, with an ETag per data version."""
    tiled(collection_id, matrix_set)
    tiles.check_tile(z, x, y)

    def render(current: DataVersion) -> Response:
        key = (str(current.version), z, x, y)
        data = tile_cache().get(key)
        if data is None:
            budget = current_app.config["GEOAPP_TILE_MAX_BYTES"]
            data = tiles.render_tile(db.session, z, x, y, budget)
            tile_cache().put(key, data)
        return Response(data, status=200 if data else 204, mimetype=MVT)

    max_age = current_app.config["GEOAPP_TILE_MAX_AGE_S"]
    return conditional(render, f"{z}-{x}-{y}", prefix="t",
                       cache_control=f"public, max-age={max_age}")
