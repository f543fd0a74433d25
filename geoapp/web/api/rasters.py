"""Raster layers: GET /api/rasters (those in scope, with their tile URLs and the depth legend)
and GET /api/rasters/{id}/tiles/{z}/{x}/{y}.png (a depth grid drawn as map tiles)."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from rasterio.errors import RasterioError

from geoapp.db.models import RasterLayer
from geoapp.db.queries import rasters as rasters_sql
from geoapp.db.queries.scope import Scope
from geoapp.db.vocabulary import DatasetStatus, RasterKind
from geoapp.errors import NotFound
from geoapp.extensions import db
from geoapp.geo import raster_tiles
from geoapp.ingest import exports, jobs, rasters
from geoapp.risk.determination import current_catalog
from geoapp.web.api import bp
from geoapp.web.contract.queries import RasterListQuery
from geoapp.web.http import api_url, json_response, send_open_file
from geoapp.web.serializers import rasters_json

PNG = "image/png"
COG = rasters.COG_MEDIA_TYPE
# A raster's cells never change under its id (a new upload is a new raster): tiles may be
# kept by any cache for a day without asking again.
TILE_CACHE = "public, max-age=86400"


@bp.get("/rasters")
def list_rasters() -> ResponseReturnValue:
    """The raster layers of the maps in scope, newest first, with tile URLs for depth grids."""
    params = RasterListQuery.read(request.args)
    rasters = [raster for raster in current_catalog(db.session, Scope(as_of=params.as_of)).rasters
               if params.dataset in (None, raster.dataset_id, raster.dataset_name)]
    tiles = {raster.id: tile_template(raster.id) for raster in rasters
             if raster.kind == RasterKind.DEPTH}
    return json_response(rasters_json(rasters, tiles, raster_tiles.DEPTH_CLASSES,
                                      raster_tiles.MIN_ZOOM, raster_tiles.MAX_ZOOM))


def tile_template(raster_id: int) -> str:
    """URL template of a depth grid's tiles, ``.../{z}/{x}/{y}.png`` (Leaflet's order)."""
    first = api_url("api.raster_tile", raster_id=raster_id, z=0, x=0, y=0)
    return first.rsplit("/0/0/0.png", 1)[0] + "/{z}/{x}/{y}.png"


def served_raster(raster_id: int) -> RasterLayer:
    """A raster of a dataset that is ready or retired (404 otherwise)."""
    layer: RasterLayer | None = db.session.scalar(rasters_sql.raster_by_id(raster_id))
    if layer is None or layer.dataset.status not in (DatasetStatus.READY,
                                                       DatasetStatus.RETIRED):
        raise NotFound(f"no raster {raster_id}")
    return layer


@bp.get("/rasters/<int:raster_id>/file")
def raster_file(raster_id: int) -> ResponseReturnValue:
    """The stored Cloud Optimized GeoTIFF (Range requests: GDAL's /vsicurl/ and QGIS read it
    a tile at a time)."""
    layer = served_raster(raster_id)
    path = jobs.raster_dir(current_app) / layer.file_name
    name = f"{(layer.source_filename or 'raster').rsplit('.', 1)[0]}.cog.tif"
    etag = layer.sha256
    db.session.close()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        current_app.logger.error("raster %s: its file %s is missing", raster_id, path.name)
        raise NotFound(f"raster {raster_id}'s file is missing on this server",
                       code="raster_file_missing") from None
    return send_open_file(handle, COG, exports.content_disposition(name), etag)


@bp.get("/rasters/<int:raster_id>/tiles/<int:z>/<int:x>/<int:y>.png")
def raster_tile(raster_id: int, z: int, x: int, y: int) -> ResponseReturnValue:
    """One PNG tile of a depth grid (WebMercatorQuad); 204 where the grid has no water."""
    layer = served_raster(raster_id)
    if layer.kind != RasterKind.DEPTH:
        raise NotFound(f"raster {raster_id} is a {layer.kind} raster; tiles are drawn for "
                       "depth grids")
    if not (raster_tiles.MIN_ZOOM <= z <= raster_tiles.MAX_ZOOM and x < 2 ** z and y < 2 ** z):
        raise NotFound(f"no tile {z}/{x}/{y}: zoom from {raster_tiles.MIN_ZOOM} to "
                       f"{raster_tiles.MAX_ZOOM}, x and y below 2^zoom")
    path, unit = jobs.raster_dir(current_app) / layer.file_name, layer.unit
    # The cells' checksum and the legend's: new colours are new tiles, not a day-old cache.
    etag = f"{layer.sha256[:32]}-{raster_tiles.LEGEND_VERSION}-{z}-{x}-{y}"
    db.session.close()  # the tile is drawn from the file alone
    response = Response(status=304)
    if not request.if_none_match.contains(etag):
        try:
            png = raster_tiles.depth_tile(path, unit, z, x, y)
        except (OSError, RasterioError):
            current_app.logger.error("raster %s: its file %s cannot be read", raster_id,
                                     path.name)
            raise NotFound(f"raster {raster_id}'s file is missing on this server",
                           code="raster_file_missing") from None
        response = Response(png, mimetype=PNG) if png else Response(status=204)
    response.set_etag(etag)
    response.headers["Cache-Control"] = TILE_CACHE
    return response
