"""Every operation of the API, declared once: path, parameters, body and answers.

The OpenAPI document (``geoapp.web.contract.document``) is generated from this list; the
views validate their parameters with the same query models.
"""

from __future__ import annotations

from typing import Any

from geoapp.ingest.exports import FORMATS
from geoapp.ingest.rasters import COG_MEDIA_TYPE
from geoapp.ogc.collections import LAYER_COLLECTIONS, registry
from geoapp.ogc.features import COLLECTION_ID
from geoapp.ogc.openapi import HTML, JSON, Operation, Reply
from geoapp.web.contract import bodies
from geoapp.web.contract import queries as q
from geoapp.web.contract import responses as r

GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"
COG = COG_MEDIA_TYPE
MERGE_PATCH = "application/merge-patch+json"
TEXT = {"type": "string"}
BINARY = bodies.BINARY
DATASETS_ID = "datasets"


def path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A path parameter (always required)."""
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


COLLECTION = path_parameter(
    "collectionId", {"type": "string", "enum": [COLLECTION_ID, DATASETS_ID]}, "Collection id")
# Every collection has metadata; the package layers' items are declared on paths of their own
# (their parameters are their queryables), see layer_operations.
ANY_COLLECTION = path_parameter(
    "collectionId", {"type": "string", "enum": registry.ids()}, "Collection id")
# Ids of every collection are whole numbers (others answer 404).
FEATURE = path_parameter("featureId", {"type": "string", "pattern": "^[0-9]{1,19}$"},
                         "Feature id")
DATASET = path_parameter("datasetId", {"type": "integer", "minimum": 1}, "Dataset id")
EXPORT = path_parameter("exportId", {"type": "string"}, "Export id (from Location)")
TOKEN = path_parameter("tokenId", {"type": "integer", "minimum": 1}, "Token id")
USER = path_parameter("userId", {"type": "integer"}, "User id")
MATRIX_SET = path_parameter("tileMatrixSetId", {"type": "string", "enum": ["WebMercatorQuad"]},
                            "Tile matrix set")
TILE = (
    COLLECTION, MATRIX_SET,
    path_parameter("tileMatrix", {"type": "integer", "minimum": 0, "maximum": 22}, "Zoom"),
    path_parameter("tileRow", {"type": "integer", "minimum": 0}, "Row (y)"),
    path_parameter("tileCol", {"type": "integer", "minimum": 0}, "Column (x)"),
)
RASTER_TILE = (
    path_parameter("rasterId", {"type": "integer", "minimum": 1}, "Raster id (GET /rasters)"),
    path_parameter("z", {"type": "integer", "minimum": 8, "maximum": 19}, "Zoom"),
    path_parameter("x", {"type": "integer", "minimum": 0}, "Column"),
    path_parameter("y", {"type": "integer", "minimum": 0}, "Row"),
)
NOT_MODIFIED = Reply("Not modified")
NEW_ZONES = (bodies.ZoneInput, bodies.ZoneCollectionInput)
FILES = {fmt.media_type: BINARY for fmt in FORMATS.values()}


def page(description: str, model: Any, media: str = JSON) -> Reply:
    """A 200 answer as JSON (or `media`), or as an HTML page (`f=html`)."""
    return Reply(description, {media: model, HTML: TEXT})


def ogc_operations() -> list[Operation]:
    """OGC API - Features (parts 1-5) and Tiles: what the standards require us to declare."""
    return [
        Operation("get", "/", "getLandingPage", "Landing page", {200: page(
            "Landing page", r.LandingPage)}, query=q.PageFormat, errors=(400,)),
        Operation("get", "/conformance", "getConformance", "Conformance classes", {200: page(
            "Conformance", r.Conformance)}, query=q.PageFormat, errors=(400,)),
        Operation("get", "/collections", "getCollections", "Collections", {200: page(
            "Collections", r.Collections)}, query=q.PageFormat, errors=(400,)),
        Operation("get", "/collections/{collectionId}", "getCollection", "A collection",
                  {200: page("Collection", r.Collection)}, query=q.PageFormat,
                  path_parameters=(ANY_COLLECTION,), errors=(400, 404)),
        Operation("get", "/collections/{collectionId}/queryables", "getQueryables",
                  "Queryable properties", {200: page("JSON Schema", r.Queryables, SCHEMA_JSON)},
                  query=q.PageFormat, path_parameters=(ANY_COLLECTION,), errors=(400, 404)),
        Operation("get", "/collections/{collectionId}/items", "getFeatures",
                  f"Features (filterable for {COLLECTION_ID})",
                  {200: page("Features", (r.ZoneFeatureCollection, r.DatasetFeatureCollection),
                             GEOJSON),
                   304: NOT_MODIFIED},
                  query=q.ItemsQueryModel, path_parameters=(COLLECTION,),
                  errors=(400, 404, 429, 503)),
        Operation("post", "/collections/{collectionId}/items", "createFeatures",
                  "Add features (all or nothing)", {201: Reply("Created", {JSON: r.Created})},
                  query=q.RepairQuery, path_parameters=(COLLECTION,),
                  body={GEOJSON: NEW_ZONES, JSON: NEW_ZONES},
                  errors=(400, 401, 403, 404, 405, 415), secured=True),
        Operation("get", "/collections/{collectionId}/items/{featureId}", "getFeature",
                  "A feature", {200: page("Feature", (r.ZoneFeature, r.DatasetFeature), GEOJSON),
                                304: NOT_MODIFIED},
                  query=q.ItemsQueryModel, path_parameters=(COLLECTION, FEATURE),
                  errors=(400, 404)),
        Operation("put", "/collections/{collectionId}/items/{featureId}", "replaceFeature",
                  "Replace a feature", {200: Reply("Replaced", {GEOJSON: r.ZoneFeature})},
                  path_parameters=(COLLECTION, FEATURE),
                  body={GEOJSON: bodies.ZoneInput, JSON: bodies.ZoneInput},
                  errors=(400, 401, 403, 404, 405, 415), secured=True),
        Operation("patch", "/collections/{collectionId}/items/{featureId}", "updateFeature",
                  "Update properties and/or geometry",
                  {200: Reply("Updated", {GEOJSON: r.ZoneFeature})},
                  path_parameters=(COLLECTION, FEATURE),
                  body={JSON: bodies.ZonePatch, MERGE_PATCH: bodies.ZonePatch},
                  errors=(400, 401, 403, 404, 405, 415), secured=True),
        Operation("delete", "/collections/{collectionId}/items/{featureId}", "deleteFeature",
                  "Delete a feature", {204: Reply("Deleted")},
                  path_parameters=(COLLECTION, FEATURE), errors=(401, 403, 404, 405),
                  secured=True),
        Operation("get", "/collections/{collectionId}/tiles", "getTilesets",
                  "Tilesets of a collection", {200: Reply("Tilesets", {JSON: r.Tilesets})},
                  path_parameters=(COLLECTION,), errors=(404,)),
        Operation("get", "/collections/{collectionId}/tiles/{tileMatrixSetId}", "getTileJson",
                  "TileJSON of the vector tiles", {200: Reply("TileJSON", {JSON: r.TileJSON})},
                  path_parameters=(COLLECTION, MATRIX_SET), errors=(404,)),
        Operation("get", "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}"
                  "/{tileRow}/{tileCol}", "getTile", "A Mapbox Vector Tile of the flood zones",
                  {200: Reply("Tile", {MVT: BINARY}), 204: Reply("No zone in this tile"),
                   304: NOT_MODIFIED},
                  path_parameters=TILE, errors=(400, 404)),
    ]


def layer_operations() -> list[Operation]:
    """The package layers' collections (read-only): a page of features, and one feature."""
    operations = []
    for collection in LAYER_COLLECTIONS:
        assert collection.layer is not None
        feature, features = r.LAYER_ANSWERS[collection.id]
        name = "".join(part.title() for part in collection.id.split("_"))
        operations += [
            Operation("get", f"/collections/{collection.id}/items", f"get{name}",
                      f"{collection.title} (filterable by their queryables)",
                      {200: page("Features", features, GEOJSON), 304: NOT_MODIFIED},
                      query=q.layer_items_model(collection.layer),
                      errors=(400, 404, 429, 503)),
            Operation("get", f"/collections/{collection.id}/items/{{featureId}}",
                      f"get{name}Feature", f"A feature of {collection.id}",
                      {200: page("Feature", feature, GEOJSON), 304: NOT_MODIFIED},
                      query=q.LayerItemQuery, path_parameters=(FEATURE,), errors=(400, 404)),
        ]
    return operations


def risk_operations() -> list[Operation]:
    """Determinations: a point, a batch, a parcel; and address search."""
    return [
        Operation("get", "/lookup", "lookupPoint", "Flood risk report of a point",
                  {200: Reply("Report", {JSON: r.PointReport})}, query=q.PointQuery,
                  errors=(400, 503)),
        Operation("get", "/geocode", "geocode",
                  "Places for an address, from the configured geocoder",
                  {200: Reply("Places, best first", {JSON: r.Places})}, query=q.GeocodeQuery,
                  errors=(400, 404, 502),
                  description="Answers 404 (geocoder_not_configured) when no geocoder URL is "
                  "configured (the default: FloodManager needs no internet)."),
        Operation("post", "/lookup/batch", "lookupBatch",
                  "Reports for many points (GeoJSON or CSV)",
                  {200: Reply("Results, in input order", {
                      JSON: r.BatchResults, GEOJSON: r.BatchFeatures, "text/csv": TEXT})},
                  query=q.BatchQuery,
                  body={GEOJSON: bodies.PointCollectionInput, JSON: bodies.PointCollectionInput,
                        "text/csv": TEXT, "multipart/form-data": bodies.CSV_UPLOAD},
                  errors=(400, 401, 413, 415, 429, 503), secured=True),
        Operation("post", "/lookup/area", "lookupArea", "Parcel exposure by zone and risk status",
                  {200: Reply("Exposure", {JSON: r.Exposure})}, query=q.AreaQuery,
                  body={JSON: (bodies.ZoneGeometry, bodies.ParcelFeature)},
                  errors=(400, 413, 429, 503)),
        Operation("get", "/rasters", "getRasters",
                  "Raster layers in scope (DEMs, depth and water-surface grids)",
                  {200: Reply("Raster layers", {JSON: r.RasterLayers})},
                  query=q.RasterListQuery, errors=(400, 404)),
        Operation("get", "/rasters/{rasterId}/file", "getRasterFile",
                  "The stored Cloud Optimized GeoTIFF (Range requests)",
                  {200: Reply("COG", {COG: BINARY}), 206: Reply("Part of the file"),
                   304: NOT_MODIFIED},
                  path_parameters=RASTER_TILE[:1], errors=(404,)),
        Operation("get", "/rasters/{rasterId}/tiles/{z}/{x}/{y}.png", "getRasterTile",
                  "A PNG map tile of a depth grid (WebMercatorQuad), coloured by depth",
                  {200: Reply("Tile", {PNG: BINARY}), 204: Reply("No water in this tile"),
                   304: NOT_MODIFIED},
                  path_parameters=RASTER_TILE, errors=(404,)),
    ]


def account_operations() -> list[Operation]:
    """Tokens, users and the audit log."""
    return [
        Operation("post", "/tokens", "createToken", "Create an API token (shown once)",
                  {201: Reply("Token", {JSON: r.Token})}, body={JSON: bodies.TokenRequest},
                  body_required=False, errors=(400, 401), secured=True),
        Operation("delete", "/tokens/{tokenId}", "revokeToken", "Revoke an API token",
                  {200: Reply("Token", {JSON: r.Token})}, path_parameters=(TOKEN,),
                  errors=(401, 404), secured=True),
        Operation("post", "/users/{userId}/sign-out-everywhere", "signOutEverywhere",
                  "End every sign-in of a user (admins)",
                  {200: Reply("How many sign-ins were ended", {JSON: r.SignedOut})},
                  path_parameters=(USER,), errors=(401, 403, 404), secured=True,
                  description="Revokes all the user's browser sign-ins: their session and "
                  "remember cookies stop working. API tokens are not affected."),
        Operation("get", "/audit", "getAuditLog",
                  "Audit log of writes and refused attempts, newest first (admin)",
                  {200: Reply("A page of events", {JSON: r.AuditPage})}, query=q.AuditQuery,
                  errors=(400, 401, 403), secured=True),
    ]


def dataset_operations() -> list[Operation]:
    """Imports (POST /datasets), their state, and exports."""
    return [
        Operation("get", "/datasets", "getDatasets", "Datasets and their import state",
                  {200: Reply("Datasets", {JSON: r.DatasetList})}),
        Operation("post", "/datasets", "importDataset",
                  "Import a flood map file (202; small files are imported at once, and a file "
                  "refused on import is a 400)",
                  {202: Reply("Accepted", {JSON: r.DatasetState})},
                  body={"multipart/form-data": bodies.IMPORT_FORM},
                  errors=(400, 401, 403, 413), secured=True),
        Operation("get", "/datasets/{datasetId}", "getDataset",
                  "A dataset's import state and report",
                  {200: Reply("State", {JSON: r.DatasetState})}, path_parameters=(DATASET,),
                  errors=(404,)),
        Operation("get", "/datasets/{datasetId}/export", "exportDataset", "The dataset as a file",
                  {200: Reply("The file", {
                      fmt.media_type: {"type": "object"} if fmt.media_type == GEOJSON else BINARY
                      for fmt in FORMATS.values()}),
                   202: Reply("A large dataset: the worker writes the file; follow Location "
                              "(the export's state)", {JSON: r.Export, HTML: TEXT}),
                   303: Reply("The export is written: Location is its file")},
                  query=q.ExportQuery, path_parameters=(DATASET,), errors=(400, 404, 429, 503)),
        Operation("get", "/exports/{exportId}", "getExport",
                  "An export's state (queued, running, ready, failed, expired)",
                  {200: Reply("State", {JSON: r.Export})}, path_parameters=(EXPORT,),
                  errors=(404,)),
        Operation("get", "/exports/{exportId}/download", "downloadExport",
                  "The file of a ready export (conditional requests and Range)",
                  {200: Reply("The file", FILES), 206: Reply("The requested range of the file"),
                   304: NOT_MODIFIED},
                  path_parameters=(EXPORT,), errors=(404, 409)),
    ]


def operations() -> list[Operation]:
    """Every operation, in the document's order."""
    return [*ogc_operations(), *layer_operations(), *risk_operations(), *account_operations(),
            *dataset_operations()]
