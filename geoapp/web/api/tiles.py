"""Vector tiles (OGC API - Tiles, WebMercatorQuad) and their TileJSON description."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue

from geoapp.db.queries import datasets as datasets_sql
from geoapp.db.queries import tiles as tiles_sql
from geoapp.errors import NotFound
from geoapp.extensions import db
from geoapp.nfhl.status import RiskStatus
from geoapp.ogc import tiles
from geoapp.web.api import bp
from geoapp.web.api.features import (
    COLLECTION_ID,
    api_url,
    check_collection,
    data_version,
    link,
)

MVT = "application/vnd.mapbox-vector-tile"
MATRIX_SET = "WebMercatorQuad"
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


def tile_cache() -> tiles.TileCache:
    """This process's tile cache (created on first use)."""
    cache = current_app.extensions.get("geoapp.ogc.tiles")
    if cache is None:
        cache = tiles.TileCache(current_app.config["GEOAPP_TILE_CACHE_MB"] * 1024 * 1024)
        current_app.extensions["geoapp.ogc.tiles"] = cache
    return cache


def zones_only(collection_id: str) -> None:
    """Tiles exist for the flood zones collection only."""
    check_collection(collection_id)
    if collection_id != COLLECTION_ID:
        raise NotFound(f"collection {collection_id!r} has no tiles")


def tile_template() -> str:
    """URL template of the tiles, TileJSON style."""
    base = api_url("api.tile", collection_id=COLLECTION_ID, matrix_set=MATRIX_SET, z=0, y=0, x=0)
    return base.rsplit("/0/0/0", 1)[0] + "/{z}/{y}/{x}"


@bp.get("/collections/<collection_id>/tiles")
def tilesets(collection_id: str) -> ResponseReturnValue:
    """The tilesets of the collection (one: vector tiles in WebMercatorQuad)."""
    zones_only(collection_id)
    return {
        "tilesets": [{
            "title": "Flood zones as Mapbox Vector Tiles",
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            "links": [
                link(api_url("api.tilejson", collection_id=COLLECTION_ID, matrix_set=MATRIX_SET),
                     "self", "application/json", "TileJSON"),
                {"href": tile_template(), "rel": "item", "type": MVT, "templated": True},
            ],
        }],
    }


@bp.get("/collections/<collection_id>/tiles/<matrix_set>")
def tilejson(collection_id: str, matrix_set: str) -> ResponseReturnValue:
    """TileJSON 3.0 of the vector tiles, for MapLibre, Leaflet.VectorGrid, QGIS, ..."""
    zones_only(collection_id)
    if matrix_set != MATRIX_SET:
        raise NotFound(f"no tile matrix set {matrix_set!r}; use {MATRIX_SET}")
    xmin, ymin, xmax, ymax = db.session.execute(datasets_sql.active_extent()).one()
    bounds = [-180.0, -85.0511, 180.0, 85.0511] if xmin is None else [
        float(xmin), float(ymin), float(xmax), float(ymax)]
    return {
        "tilejson": "3.0.0",
        "name": "FloodManager flood zones",
        "tiles": [tile_template()],
        "minzoom": 0,
        "maxzoom": tiles.MAX_ZOOM,
        "bounds": bounds,
        "vector_layers": [{"id": tiles_sql.TILE_LAYER, "fields": TILE_FIELDS,
                           "minzoom": 0, "maxzoom": tiles.MAX_ZOOM}],
    }


@bp.get("/collections/<collection_id>/tiles/<matrix_set>/<int:z>/<int:y>/<int:x>")
def tile(collection_id: str, matrix_set: str, z: int, y: int, x: int) -> ResponseReturnValue:
    """One vector tile; 204 when no zone is in it. Cached, with an ETag per data version."""
    zones_only(collection_id)
    if matrix_set != MATRIX_SET:
        raise NotFound(f"no tile matrix set {matrix_set!r}; use {MATRIX_SET}")
    tiles.check_tile(z, x, y)
    version, changed_at = data_version()
    etag = f"t{version}-{z}-{x}-{y}"
    max_age = current_app.config["GEOAPP_TILE_MAX_AGE_S"]
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        key = (str(version), z, x, y)
        data = tile_cache().get(key)
        if data is None:
            budget = current_app.config["GEOAPP_TILE_MAX_BYTES"]
            data = tiles.render_tile(db.session, z, x, y, budget)
            tile_cache().put(key, data)
        response = Response(data, status=200 if data else 204, mimetype=MVT)
    response.set_etag(etag, weak=True)
    if changed_at is not None:
        response.last_modified = changed_at
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response
