"""The OpenAPI 3.0 definition of the API, built from the same tables the code uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoapp.db.vocabulary import DatasetStatus, ExportStatus
from geoapp.geo.crs import SUPPORTED
from geoapp.ingest.exports import FORMATS
from geoapp.nfhl.status import STATUS_ORDER
from geoapp.ogc.features import COLLECTION_ID, PROPERTIES, QUERYABLES, SORTABLE

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def query_param(name: str, schema: dict[str, Any], description: str, *, empty_ok: bool = True,
                **extra: Any) -> dict:
    """A query parameter; optional ones sent empty count as absent unless ``empty_ok`` is off."""
    parameter = {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        **extra,
    }
    if empty_ok and not parameter["required"]:
        parameter["allowEmptyValue"] = True
    return parameter


def error_responses(*statuses: int) -> dict[str, Any]:
    """Documented error answers, all with the same JSON error body."""
    texts = {
        400: "Invalid parameter or body",
        401: "No valid credentials",
        403: "Role not allowed",
        404: "Not found",
        405: "Method not allowed on this resource",
        409: "Conflicts with the current state",
        413: "Too large",
        415: "Unsupported media type",
        429: "Rate limited (rate_limited): retry after the seconds in Retry-After",
        502: "An upstream service failed",
        503: "Database unavailable, or the query ran past its time budget (query_timeout)",
    }
    return {
        str(status): {
            "description": texts[status],
            "content": {JSON: {"schema": ref("schemas", "Error")}},
        }
        for status in statuses
    }


def json_response(
    description: str, schema: dict[str, Any], media: str = JSON, *, html: bool = False
) -> dict:
    """A 200 answer in `media`, and also as an HTML page when `html` (the `f=html` views)."""
    content: dict[str, Any] = {media: {"schema": schema}}
    if html:
        content[HTML] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def format_param() -> dict[str, Any]:
    return query_param(
        "f",
        {"type": "string", "enum": ["json", "html"]},
        "Output format (also negotiated with the Accept header)",
    )


def item_parameters(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Parameters of the items endpoint."""
    crs_uris = [crs.uri for crs in SUPPORTED]
    params = [
        query_param(
            "bbox",
            {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
            "minx,miny,maxx,maxy in bbox-crs (EPSG:4326: lat,lon order)",
            style="form",
            explode=False,
        ),
        query_param("bbox-crs", {"type": "string", "enum": crs_uris}, "CRS of bbox"),
        query_param(
            "limit",
            {"type": "integer", "minimum": 1, "default": config["GEOAPP_ITEMS_DEFAULT_LIMIT"]},
            f"Page size; served at most {config['GEOAPP_ITEMS_MAX_LIMIT']}",
        ),
        query_param("offset", {"type": "integer", "minimum": 0, "default": 0}, "Features to skip"),
        query_param(
            "datetime",
            {"type": "string"},
            "Effective date of the map: an RFC 3339 date or an interval a/b, ../b, a/..",
        ),
        query_param(
            "sortby",
            {"type": "string"},
            f"Comma list of [+|-]property; sortable: {', '.join(SORTABLE)}",
        ),
        query_param(
            "properties",
            {"type": "string"},
            f"Comma list of properties to return, of: {', '.join(PROPERTIES)}",
        ),
        query_param("skipGeometry", {"type": "boolean", "default": False}, "Omit geometries"),
        query_param("crs", {"type": "string", "enum": crs_uris}, "CRS of the output"),
        query_param(
            "simplify",
            {"type": "number", "minimum": 0},
            "Simplification tolerance, in units of the output CRS",
        ),
        query_param(
            "precision",
            {"type": "integer", "minimum": 0, "maximum": 15},
            "Decimal digits of coordinates",
        ),
        query_param(
            "filter",
            {"type": "string"},
            "CQL2 filter (text, or JSON with filter-lang=cql2-json): comparisons, LIKE, IN, "
            "BETWEEN, IS NULL, AND/OR/NOT, S_INTERSECTS(geometry, <WKT or BBOX>); literals "
            "must have their property's type (see the queryables)",
        ),
        query_param("filter-lang", {"type": "string", "enum": ["cql2-text", "cql2-json"]},
                    "Filter language"),
        query_param(
            "filter-crs", {"type": "string", "enum": [SUPPORTED[0].uri]}, "CRS of filter geometries"
        ),
        query_param("sfha", {"type": "boolean"}, "Alias of sfha_tf"),
        format_param(),
    ]
    for name, queryable in QUERYABLES.items():
        params.append(
            query_param(name, {"type": "string"}, f"{queryable.title}: equals (comma list: any of)")
        )
    return params


def path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


def dataset_paths(bearer: list[dict[str, list[str]]]) -> dict[str, Any]:
    """Imports (POST /datasets), their state, and exports."""
    dataset_id = path_param("datasetId", {"type": "integer", "minimum": 1}, "Dataset id")
    state = ref("schemas", "DatasetState")
    binary = {"type": "string", "format": "binary"}
    return {
        "/datasets": {
            "get": {
                "summary": "Datasets and their import state",
                "operationId": "getDatasets",
                "responses": {"200": json_response("Datasets", {
                    "type": "object", "properties": {"datasets": {"type": "array",
                                                                   "items": state}}})},
            },
            "post": {
                "summary": "Import a flood map file (202; small files are imported at once, "
                           "and a file refused on import is a 400)",
                "operationId": "importDataset",
                "security": bearer,
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["file", "name"], "properties": {
                        "file": binary, "name": {"type": "string"},
                        "effective_date": {"type": "string", "format": "date"},
                        "source_crs": {"type": "string"}, "encoding": {"type": "string"},
                        "layer": {"type": "string"},
                        "field_map": {"type": "string", "description": "JSON object"},
                        # parse_bool also takes 1/0 (and yes/no), as HTML forms send.
                        "repair": {"anyOf": [{"type": "boolean"},
                                             {"type": "integer", "enum": [0, 1]}]}}}}}},
                "responses": {"202": json_response("Accepted", state),
                              **error_responses(400, 401, 403, 413)},
            },
        },
        "/datasets/{datasetId}": {
            "get": {
                "summary": "A dataset's import state and report",
                "operationId": "getDataset",
                "parameters": [dataset_id],
                "responses": {"200": json_response("State", state), **error_responses(404)},
            }
        },
        "/datasets/{datasetId}/export": {
            "get": {
                "summary": "The dataset as a file",
                "operationId": "exportDataset",
                "parameters": [dataset_id, query_param(
                    "format", {"type": "string", "enum": list(FORMATS)}, "File format")],
                "responses": {"200": {"description": "The file", "content": {
                    fmt.media_type: {"schema": {"type": "object"} if fmt.media_type == GEOJSON
                                     else binary}
                    for fmt in FORMATS.values()}},
                    "202": {"description": "A large dataset: the worker writes the file; "
                            "follow Location (the export's state)",
                            "content": {JSON: {"schema": ref("schemas", "Export")},
                                        HTML: {"schema": {"type": "string"}}}},
                    "303": {"description": "The export is written: Location is its file"},
                    **error_responses(400, 404, 429, 503)},
            }
        },
    }


def audit_paths(bearer: list[dict[str, list[str]]]) -> dict[str, Any]:
    """The audit log (GET /audit, admins only)."""
    nullable_object = {"type": "object", "nullable": True}
    event = {"type": "object",
             "required": ["id", "occurred_at", "action", "status"],
             "properties": {"id": {"type": "integer"}, "occurred_at": {"type": "string"},
                            "user": nullable_object, "action": {"type": "string"},
                            "method": {"type": "string", "nullable": True},
                            "path": {"type": "string", "nullable": True},
                            "target": nullable_object, "status": {"type": "integer"},
                            "client_addr": {"type": "string", "nullable": True},
                            "user_agent": {"type": "string", "nullable": True},
                            "details": {"type": "object"}}}
    page = {"type": "object", "required": ["events", "limit", "offset", "links"],
            "properties": {"events": {"type": "array", "items": event},
                           "limit": {"type": "integer"}, "offset": {"type": "integer"},
                           "links": {"type": "array", "items": ref("schemas", "Link")}}}
    return {
        "/audit": {
            "get": {
                "summary": "Audit log of writes and refused attempts, newest first (admin)",
                "operationId": "getAuditLog",
                "security": bearer,
                "parameters": [
                    query_param("user", {"type": "string"}, "Only events of this user (email "
                                "or id)"),
                    query_param("action", {"type": "string"}, "Only this action, e.g. "
                                "api.create_token"),
                    query_param("limit", {"type": "integer", "minimum": 1, "maximum": 500},
                                "Events per page (default 50)"),
                    query_param("offset", {"type": "integer", "minimum": 0}, "Events to skip"),
                ],
                "responses": {"200": json_response("A page of events", page),
                              **error_responses(400, 401, 403)},
            }
        },
    }


def export_schema() -> dict[str, Any]:
    """An export written by the worker."""
    text = {"type": "string", "nullable": True}
    return {"type": "object", "required": ["id", "dataset_id", "format", "status", "links"],
            "properties": {
                "id": {"type": "string"}, "dataset_id": {"type": "integer"},
                "format": {"type": "string", "enum": list(FORMATS)},
                "status": {"type": "string",
                           "enum": list(ExportStatus)},
                "filename": {"type": "string"},
                "size_bytes": {"type": "integer", "nullable": True},
                "created_at": text, "finished_at": text, "expires_at": text, "error": text,
                "download": {"type": "string", "description": "The file, once ready"},
                "links": {"type": "array", "items": ref("schemas", "Link")}}}


def export_paths() -> dict[str, Any]:
    """Exports written by the worker: their state and their file."""
    export_id = path_param("exportId", {"type": "string"}, "Export id (from Location)")
    return {
        "/exports/{exportId}": {
            "get": {
                "summary": "An export's state (queued, running, ready, failed, expired)",
                "operationId": "getExport",
                "parameters": [export_id],
                "responses": {"200": json_response("State", ref("schemas", "Export")),
                              **error_responses(404)},
            }
        },
        "/exports/{exportId}/download": {
            "get": {
                "summary": "The file of a ready export (conditional requests and Range)",
                "operationId": "downloadExport",
                "parameters": [export_id],
                "responses": {
                    "200": {"description": "The file", "content": {
                        fmt.media_type: {"schema": {"type": "string", "format": "binary"}}
                        for fmt in FORMATS.values()}},
                    "206": {"description": "The requested range of the file"},
                    "304": {"description": "Not modified"},
                    **error_responses(404, 409)},
            }
        },
    }


def tile_paths(collection_id: dict[str, Any]) -> dict[str, Any]:
    """Vector tiles (OGC API - Tiles) and their TileJSON."""
    matrix_set = path_param("tileMatrixSetId", {"type": "string", "enum": ["WebMercatorQuad"]},
                            "Tile matrix set")
    tile_params = [
        collection_id, matrix_set,
        path_param("tileMatrix", {"type": "integer", "minimum": 0, "maximum": 22}, "Zoom"),
        path_param("tileRow", {"type": "integer", "minimum": 0}, "Row (y)"),
        path_param("tileCol", {"type": "integer", "minimum": 0}, "Column (x)"),
    ]
    return {
        "/collections/{collectionId}/tiles": {
            "get": {
                "summary": "Tilesets of a collection",
                "operationId": "getTilesets",
                "parameters": [collection_id],
                "responses": {"200": json_response("Tilesets", ref("schemas", "Tilesets")),
                              **error_responses(404)},
            }
        },
        "/collections/{collectionId}/tiles/{tileMatrixSetId}": {
            "get": {
                "summary": "TileJSON of the vector tiles",
                "operationId": "getTileJson",
                "parameters": [collection_id, matrix_set],
                "responses": {"200": json_response("TileJSON", ref("schemas", "TileJSON")),
                              **error_responses(404)},
            }
        },
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": {
            "get": {
                "summary": "A Mapbox Vector Tile of the flood zones",
                "operationId": "getTile",
                "parameters": tile_params,
                "responses": {
                    "200": {"description": "Tile", "content": {
                        "application/vnd.mapbox-vector-tile": {
                            "schema": {"type": "string", "format": "binary"}}}},
                    "204": {"description": "No zone in this tile"},
                    "304": {"description": "Not modified"},
                    **error_responses(400, 404),
                },
            }
        },
    }


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def obj(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object schema with its required members."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
STATUS = {"type": "string", "enum": list(STATUS_ORDER)}
DATASET_STATES = list(DatasetStatus)
POSITION = {"type": "array", "minItems": 2, "items": NUMBER}
GEOMETRY_TYPES = ["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                  "MultiPolygon"]


def component_schemas() -> dict[str, Any]:
    """The reusable schemas: precise enough that a wrong member type or a missing member of
    any answer is a schema violation (the fuzz tests check every answer against them)."""
    dataset_ref = obj(["id", "name"], {"id": INTEGER, "name": STRING})
    zone_hit = obj(
        ["zone", "status", "sfha", "zone_id", "dataset"],
        {"zone": nullable(STRING), "subtype": nullable(STRING), "status": STATUS,
         "sfha": BOOLEAN, "floodway": BOOLEAN, "bfe": nullable(NUMBER),
         "vertical_datum": nullable(STRING), "length_unit": nullable(STRING),
         "depth": nullable(NUMBER), "velocity": nullable(NUMBER),
         "velocity_unit": nullable(STRING), "dfirm_id": nullable(STRING),
         "fld_ar_id": nullable(STRING), "zone_id": INTEGER, "dataset": dataset_ref,
         "effective_date": nullable(DATE)},
    )
    dataset_info = obj(
        ["id", "name"],
        {"id": INTEGER, "name": STRING, "source_filename": nullable(STRING),
         "effective_date": nullable(DATE), "imported_at": nullable(DATE_TIME)},
    )
    link_list = {"type": "array", "items": ref("schemas", "Link")}
    return {
        "Error": obj(["error", "message"], {"error": STRING, "message": STRING}),
        "Link": obj(["href", "rel"], {"href": STRING, "rel": STRING, "type": STRING,
                                      "title": STRING, "templated": BOOLEAN}),
        "LandingPage": obj(["links"], {"title": STRING, "description": STRING,
                                       "links": link_list}),
        "Collection": obj(
            ["id", "links"],
            {"id": STRING, "title": STRING, "description": STRING, "itemType": STRING,
             "links": link_list, "crs": {"type": "array", "items": STRING},
             "storageCrs": STRING,
             "extent": obj(["spatial"], {
                 "spatial": obj(["bbox"], {"bbox": {"type": "array", "items": {
                     "type": "array", "minItems": 4, "maxItems": 4, "items": NUMBER}},
                     "crs": STRING}),
                 "temporal": obj([], {"interval": {"type": "array", "items": {
                     "type": "array", "minItems": 2, "maxItems": 2,
                     "items": nullable(DATE)}}, "trs": STRING})})},
        ),
        "Queryables": obj(
            ["type", "properties"],
            {"$schema": STRING, "$id": STRING, "type": {"type": "string", "enum": ["object"]},
             "title": STRING, "additionalProperties": BOOLEAN,
             "properties": {"type": "object", "additionalProperties": {"type": "object"}}},
        ),
        "Geometry": obj(
            ["type", "coordinates"],
            {"type": {"type": "string", "enum": GEOMETRY_TYPES},
             "coordinates": {"type": "array"}},
        ),
        "FeatureProperties": obj(
            [],
            {
                # flood_zones items
                "fld_zone": nullable(STRING), "zone_subty": nullable(STRING),
                "risk_status": nullable(STATUS), "sfha_tf": nullable(BOOLEAN),
                "static_bfe": nullable(NUMBER), "v_datum": nullable(STRING),
                "len_unit": nullable(STRING), "depth": nullable(NUMBER),
                "velocity": nullable(NUMBER), "vel_unit": nullable(STRING),
                "dfirm_id": nullable(STRING), "fld_ar_id": nullable(STRING),
                "dataset_id": INTEGER, "dataset": nullable(STRING),
                "effective_date": nullable(DATE),
                "attributes": nullable({"type": "object"}),
                # datasets items
                "name": STRING, "status": {"type": "string", "enum": DATASET_STATES},
                "source_filename": nullable(STRING), "source_crs": nullable(STRING),
                "superseded_on": nullable(DATE), "feature_count": nullable(INTEGER),
                "imported_at": nullable(DATE_TIME),
            },
        ),
        "Feature": obj(
            ["type", "id", "geometry", "properties"],
            {"type": {"type": "string", "enum": ["Feature"]}, "id": INTEGER,
             "geometry": nullable(ref("schemas", "Geometry")),
             "properties": ref("schemas", "FeatureProperties"), "links": link_list},
        ),
        "FeatureCollection": obj(
            ["type", "features"],
            {"type": {"type": "string", "enum": ["FeatureCollection"]},
             "features": {"type": "array", "items": ref("schemas", "Feature")},
             "timeStamp": nullable(DATE_TIME),
             "numberMatched": {"type": "integer", "minimum": 0},
             "numberReturned": {"type": "integer", "minimum": 0}, "links": link_list},
        ),
        # What writes accept: a (Multi)Polygon zone with its NFHL properties.
        "ZoneGeometry": obj(
            ["type", "coordinates"],
            {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
             "coordinates": {"type": "array", "items": {"type": "array"}}},
        ),
        "ZoneInput": obj(
            ["type", "geometry", "properties"],
            {"type": {"type": "string", "enum": ["Feature"]},
             "geometry": ref("schemas", "ZoneGeometry"),
             "properties": obj(["fld_zone"], {"fld_zone": STRING, "dataset_id": INTEGER},
                               additionalProperties=True)},
        ),
        "ZoneCollectionInput": obj(
            ["type", "features"],
            {"type": {"type": "string", "enum": ["FeatureCollection"]},
             "features": {"type": "array", "minItems": 1,
                          "items": ref("schemas", "ZoneInput")}},
        ),
        "ZonePatch": {"type": "object", "minProperties": 1, "properties": {
            "geometry": ref("schemas", "ZoneGeometry"),
            "properties": {"type": "object"}}},
        # Any feature is taken: those that are not Points with lon/lat get a per-row error.
        "PointCollectionInput": obj(["type", "features"], {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {}}}),
        "Created": obj(["ids", "links"], {"ids": {"type": "array", "items": INTEGER},
                                          "links": link_list}),
        "Places": obj(
            ["query", "places"],
            {"query": STRING, "places": {"type": "array", "items": obj(
                ["label", "lon", "lat"],
                {"label": STRING,
                 "lon": {"type": "number", "minimum": -180, "maximum": 180},
                 "lat": {"type": "number", "minimum": -90, "maximum": 90},
                 "bbox": nullable({"type": "array", "items": NUMBER,
                                   "minItems": 4, "maxItems": 4})})}},
        ),
        "PointReport": obj(
            ["query", "status", "in_sfha", "zones", "datasets"],
            {"query": obj(["lon", "lat"], {"lon": NUMBER, "lat": NUMBER}),
             "status": STATUS, "status_label": STRING, "in_sfha": BOOLEAN,
             "zones": {"type": "array", "items": zone_hit},
             "nearest_high_risk": nullable(obj(
                 ["distance_m", "zone", "zone_id", "dataset", "nearest_point"],
                 {"distance_m": {"type": "number", "minimum": 0}, "zone": nullable(STRING),
                  "subtype": nullable(STRING), "zone_id": INTEGER, "dataset": dataset_ref,
                  "nearest_point": obj(["lon", "lat"], {"lon": NUMBER, "lat": NUMBER})})),
             "nearest_search_radius_m": NUMBER,
             "datasets": {"type": "array", "items": dataset_info}},
        ),
        "BatchRow": obj(
            ["id", "status", "error"],
            {"id": {}, "lon": nullable(NUMBER), "lat": nullable(NUMBER),
             "status": nullable(STATUS), "in_sfha": nullable(BOOLEAN), "zone": nullable(STRING),
             "zones": {"type": "array", "items": nullable(STRING)}, "bfe": nullable(NUMBER),
             "vertical_datum": nullable(STRING), "depth": nullable(NUMBER),
             "floodway": nullable(BOOLEAN), "dataset": nullable(STRING),
             "effective_date": nullable(DATE), "error": nullable(STRING),
             "report": ref("schemas", "PointReport")},
        ),
        "BatchResults": obj(["count", "results"], {
            "count": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": ref("schemas", "BatchRow")}}),
        "BatchFeatures": obj(["type", "features"], {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": obj(
                ["type", "geometry", "properties"],
                {"type": {"type": "string", "enum": ["Feature"]}, "id": {},
                 "geometry": nullable(obj(["type", "coordinates"], {
                     "type": {"type": "string", "enum": ["Point"]}, "coordinates": POSITION})),
                 "properties": {"type": "object"}})}}),
        "Exposure": obj(
            ["area_m2", "max_status", "sfha_share", "unmapped_share", "repaired", "by_status",
             "by_zone", "datasets"],
            {"area_m2": {"type": "number", "minimum": 0}, "max_status": STATUS,
             "sfha_share": NUMBER, "unmapped_share": NUMBER, "repaired": BOOLEAN,
             "by_status": {"type": "array", "items": obj(
                 ["status", "area_m2", "share"],
                 {"status": STATUS, "label": STRING, "area_m2": NUMBER, "share": NUMBER})},
             "by_zone": {"type": "array", "items": {"allOf": [zone_hit, obj(
                 ["area_m2", "share"], {"area_m2": NUMBER, "share": NUMBER})]}},
             "datasets": {"type": "array", "items": dataset_info}},
        ),
        "Token": obj(
            ["id", "name", "prefix", "created_at", "revoked"],
            {"id": INTEGER, "name": STRING, "prefix": STRING,
             "created_at": nullable(DATE_TIME), "last_used_at": nullable(DATE_TIME),
             "revoked": BOOLEAN, "token": STRING},
        ),
        "DatasetState": obj(
            ["id", "name", "status", "links"],
            {"id": INTEGER, "name": STRING,
             "status": {"type": "string", "enum": DATASET_STATES},
             "progress": nullable(NUMBER), "error": nullable(STRING),
             "source_filename": nullable(STRING), "source_crs": nullable(STRING),
             "effective_date": nullable(DATE), "superseded_on": nullable(DATE),
             "feature_count": nullable(INTEGER), "imported_at": nullable(DATE_TIME),
             "report": nullable({"type": "object"}), "links": link_list},
        ),
        "Tilesets": obj(["tilesets"], {"tilesets": {"type": "array", "items": obj(
            ["dataType", "crs", "links"],
            {"title": STRING, "dataType": {"type": "string", "enum": ["vector"]}, "crs": STRING,
             "tileMatrixSetURI": STRING, "links": link_list})}}),
        "TileJSON": obj(
            ["tilejson", "tiles", "vector_layers"],
            {"tilejson": STRING, "name": STRING, "tiles": {"type": "array", "items": STRING},
             "minzoom": INTEGER, "maxzoom": INTEGER,
             "bounds": {"type": "array", "minItems": 4, "maxItems": 4, "items": NUMBER},
             "vector_layers": {"type": "array", "items": obj(
                 ["id", "fields"], {"id": STRING, "fields": {
                     "type": "object", "additionalProperties": STRING},
                     "minzoom": INTEGER, "maxzoom": INTEGER})}},
        ),
    }


def document(base_url: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The whole OpenAPI document; ``base_url`` is the API root (…/api)."""
    collection_id = path_param(
        "collectionId", {"type": "string", "enum": [COLLECTION_ID, "datasets"]}, "Collection id"
    )
    # Ids of both collections are whole numbers (others answer 404).
    feature_id = path_param(
        "featureId", {"type": "string", "pattern": "^[0-9]{1,19}$"}, "Feature id"
    )
    token_id = path_param("tokenId", {"type": "integer", "minimum": 1}, "Token id")
    bearer = [{"bearerAuth": []}, {"cookieAuth": []}]
    lonlat = [
        query_param(
            "lon",
            {"type": "number", "minimum": -180, "maximum": 180},
            "Longitude (WGS84)",
            required=True,
        ),
        query_param(
            "lat",
            {"type": "number", "minimum": -90, "maximum": 90},
            "Latitude (WGS84)",
            required=True,
        ),
    ]
    scope = [
        query_param("dataset", {"type": "string"}, "Dataset id or name"),
        query_param(
            "as_of",
            {"type": "string", "format": "date"},
            "Answer from the maps in force on this date",
        ),
    ]
    new_zones = {"oneOf": [ref("schemas", "ZoneInput"), ref("schemas", "ZoneCollectionInput")]}
    write_body = {"required": True, "content": {GEOJSON: {"schema": new_zones},
                                                 JSON: {"schema": new_zones}}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "FloodManager API",
            "version": "1.0.0",
            "description": "Flood hazard zones as OGC API - Features, and flood risk lookups "
            "(point, batch, parcel). Reads are public unless the server says "
            "otherwise; writes need an analyst's bearer token.",
        },
        "servers": [{"url": base_url}],
        "paths": {
            "/": {
                "get": {
                    "summary": "Landing page",
                    "operationId": "getLandingPage",
                    "parameters": [format_param()],
                    "responses": {
                        "200": json_response(
                            "Landing page", ref("schemas", "LandingPage"), html=True
                        ),
                        **error_responses(400),
                    },
                }
            },
            "/conformance": {
                "get": {
                    "summary": "Conformance classes",
                    "operationId": "getConformance",
                    "parameters": [format_param()],
                    "responses": {
                        "200": json_response(
                            "Conformance",
                            {
                                "type": "object",
                                "required": ["conformsTo"],
                                "properties": {
                                    "conformsTo": {"type": "array", "items": {"type": "string"}}
                                },
                            },
                            html=True,
                        ),
                        **error_responses(400),
                    },
                }
            },
            "/collections": {
                "get": {
                    "summary": "Collections",
                    "operationId": "getCollections",
                    "parameters": [format_param()],
                    "responses": {
                        "200": json_response(
                            "Collections",
                            {
                                "type": "object",
                                "required": ["collections", "links"],
                                "properties": {
                                    "collections": {
                                        "type": "array",
                                        "items": ref("schemas", "Collection"),
                                    },
                                    "links": {"type": "array", "items": ref("schemas", "Link")},
                                },
                            },
                            html=True,
                        ),
                        **error_responses(400),
                    },
                }
            },
            "/collections/{collectionId}": {
                "get": {
                    "summary": "A collection",
                    "operationId": "getCollection",
                    "parameters": [collection_id, format_param()],
                    "responses": {
                        "200": json_response("Collection", ref("schemas", "Collection"), html=True),
                        **error_responses(400, 404),
                    },
                }
            },
            "/collections/{collectionId}/queryables": {
                "get": {
                    "summary": "Queryable properties",
                    "operationId": "getQueryables",
                    "parameters": [collection_id, format_param()],
                    "responses": {
                        "200": json_response(
                            "JSON Schema", ref("schemas", "Queryables"), "application/schema+json",
                            html=True,
                        ),
                        **error_responses(400, 404),
                    },
                }
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "summary": f"Features (filterable for {COLLECTION_ID})",
                    "operationId": "getFeatures",
                    "parameters": [collection_id, *item_parameters(config)],
                    "responses": {
                        "200": json_response(
                            "Features", ref("schemas", "FeatureCollection"), GEOJSON, html=True
                        ),
                        "304": {"description": "Not modified"},
                        **error_responses(400, 404, 429, 503),
                    },
                },
                "post": {
                    "summary": "Add features (all or nothing)",
                    "operationId": "createFeatures",
                    "security": bearer,
                    "parameters": [
                        collection_id,
                        query_param("repair", {"type": "boolean"}, "Repair invalid geometries"),
                    ],
                    "requestBody": write_body,
                    "responses": {
                        "201": json_response("Created", ref("schemas", "Created")),
                        **error_responses(400, 401, 403, 404, 405, 415),
                    },
                },
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "summary": "A feature",
                    "operationId": "getFeature",
                    "parameters": [
                        collection_id,
                        feature_id,
                        format_param(),
                        query_param(
                            "crs",
                            {"type": "string", "enum": [crs.uri for crs in SUPPORTED]},
                            "Output CRS",
                        ),
                    ],
                    "responses": {
                        "200": json_response(
                            "Feature", ref("schemas", "Feature"), GEOJSON, html=True
                        ),
                        "304": {"description": "Not modified"},
                        **error_responses(400, 404),
                    },
                },
                "put": {
                    "summary": "Replace a feature",
                    "operationId": "replaceFeature",
                    "security": bearer,
                    "parameters": [collection_id, feature_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            GEOJSON: {"schema": ref("schemas", "ZoneInput")},
                            JSON: {"schema": ref("schemas", "ZoneInput")},
                        },
                    },
                    "responses": {
                        "200": json_response("Replaced", ref("schemas", "Feature"), GEOJSON),
                        **error_responses(400, 401, 403, 404, 405, 415),
                    },
                },
                "patch": {
                    "summary": "Update properties and/or geometry",
                    "operationId": "updateFeature",
                    "security": bearer,
                    "parameters": [collection_id, feature_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {"schema": ref("schemas", "ZonePatch")},
                            "application/merge-patch+json": {"schema": ref("schemas", "ZonePatch")},
                        },
                    },
                    "responses": {
                        "200": json_response("Updated", ref("schemas", "Feature"), GEOJSON),
                        **error_responses(400, 401, 403, 404, 405, 415),
                    },
                },
                "delete": {
                    "summary": "Delete a feature",
                    "operationId": "deleteFeature",
                    "security": bearer,
                    "parameters": [collection_id, feature_id],
                    "responses": {
                        "204": {"description": "Deleted"},
                        **error_responses(401, 403, 404, 405),
                    },
                },
            },
            "/lookup": {
                "get": {
                    "summary": "Flood risk report of a point",
                    "operationId": "lookupPoint",
                    "parameters": [
                        *lonlat,
                        *scope,
                        query_param(
                            "nearest_radius",
                            {
                                "type": "number",
                                "minimum": 0,
                                "maximum": config["GEOAPP_NEAREST_MAX_RADIUS_M"],
                            },
                            "Search radius (m) for the nearest high-risk zone",
                            empty_ok=False,
                        ),
                    ],
                    "responses": {
                        "200": json_response("Report", ref("schemas", "PointReport")),
                        **error_responses(400, 503),
                    },
                }
            },
            "/geocode": {
                "get": {
                    "summary": "Places for an address, from the configured geocoder",
                    "description": "Answers 404 (geocoder_not_configured) when no geocoder "
                    "URL is configured (the default: FloodManager needs no internet).",
                    "operationId": "geocode",
                    "parameters": [
                        {**query_param("q", {"type": "string", "minLength": 1,
                                             "maxLength": 200},
                                       "Address or place name"), "required": True},
                        query_param("limit", {"type": "integer", "minimum": 1, "maximum": 10},
                                    "Most places returned (default 5)", empty_ok=False),
                    ],
                    "responses": {
                        "200": json_response("Places, best first", ref("schemas", "Places")),
                        **error_responses(400, 404, 502),
                    },
                }
            },
            "/lookup/batch": {
                "post": {
                    "summary": "Reports for many points (GeoJSON or CSV)",
                    "operationId": "lookupBatch",
                    "security": bearer,
                    "parameters": [
                        *scope,
                        query_param(
                            "detail",
                            {"type": "string", "enum": ["compact", "full"]},
                            "Compact rows or full reports",
                        ),
                        query_param(
                            "f",
                            {"type": "string", "enum": ["json", "geojson", "csv"]},
                            "Output format (or Accept)",
                        ),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            GEOJSON: {"schema": ref("schemas", "PointCollectionInput")},
                            JSON: {"schema": ref("schemas", "PointCollectionInput")},
                            "text/csv": {"schema": {"type": "string"}},
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": {"description": "Results, in input order", "content": {
                            JSON: {"schema": ref("schemas", "BatchResults")},
                            GEOJSON: {"schema": ref("schemas", "BatchFeatures")},
                            "text/csv": {"schema": {"type": "string"}}}},
                        **error_responses(400, 401, 413, 415, 429, 503),
                    },
                }
            },
            "/lookup/area": {
                "post": {
                    "summary": "Parcel exposure by zone and risk status",
                    "operationId": "lookupArea",
                    "parameters": [
                        *scope,
                        query_param("repair", {"type": "boolean"}, "Repair an invalid polygon"),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": {"oneOf": [
                            ref("schemas", "ZoneGeometry"),
                            obj(["type", "geometry"], {
                                "type": {"type": "string", "enum": ["Feature"]},
                                "geometry": ref("schemas", "ZoneGeometry")})]}}},
                    },
                    "responses": {
                        "200": json_response("Exposure", ref("schemas", "Exposure")),
                        **error_responses(400, 413, 429, 503),
                    },
                }
            },
            "/tokens": {
                "post": {
                    "summary": "Create an API token (shown once)",
                    "operationId": "createToken",
                    "security": bearer,
                    "requestBody": {
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "properties": {"name": {"type": "string"}},
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": json_response("Token", ref("schemas", "Token")),
                        **error_responses(400, 401),
                    },
                }
            },
            "/tokens/{tokenId}": {
                "delete": {
                    "summary": "Revoke an API token",
                    "operationId": "revokeToken",
                    "security": bearer,
                    "parameters": [token_id],
                    "responses": {
                        "200": json_response("Token", ref("schemas", "Token")),
                        **error_responses(401, 404),
                    },
                }
            },
            "/users/{userId}/sign-out-everywhere": {
                "post": {
                    "summary": "End every sign-in of a user (admins)",
                    "description": "Revokes all the user's browser sign-ins: their session "
                    "and remember cookies stop working. API tokens are not affected.",
                    "operationId": "signOutEverywhere",
                    "security": bearer,
                    "parameters": [path_param("userId", {"type": "integer"}, "User id")],
                    "responses": {
                        "200": json_response(
                            "How many sign-ins were ended",
                            {
                                "type": "object",
                                "required": ["user_id", "email", "revoked_sign_ins"],
                                "properties": {
                                    "user_id": {"type": "integer"},
                                    "email": {"type": "string"},
                                    "revoked_sign_ins": {"type": "integer", "minimum": 0},
                                },
                            },
                        ),
                        **error_responses(401, 403, 404),
                    },
                }
            },
            **dataset_paths(bearer),
            **audit_paths(bearer),
            **export_paths(),
            **tile_paths(collection_id),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {"Export": export_schema(), **component_schemas()},
        },
    }
