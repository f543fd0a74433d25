"""The OpenAPI 3.0 definition of the API, built from the same tables the code uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoapp.crs import SUPPORTED
from geoapp.exports import FORMATS
from geoapp.features import COLLECTION_ID, PROPERTIES, QUERYABLES, SORTABLE

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def query_param(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        **extra,
    }


def error_responses(*statuses: int) -> dict[str, Any]:
    """Documented error answers, all with the same JSON error body."""
    texts = {
        400: "Invalid parameter or body",
        401: "No valid credentials",
        403: "Role not allowed",
        404: "Not found",
        409: "Conflict with the current state",
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
            "CQL2-text filter: comparisons, LIKE, IN, BETWEEN, IS NULL, AND/OR/NOT, "
            "S_INTERSECTS(geometry, <WKT or BBOX>)",
        ),
        query_param("filter-lang", {"type": "string", "enum": ["cql2-text"]}, "Filter language"),
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
    state = {"type": "object", "required": ["id", "name", "status"],
             "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                            "status": {"type": "string", "enum": [
                                "queued", "importing", "ready", "failed", "retired"]},
                            "progress": {"type": "number", "nullable": True},
                            "report": {"type": "object", "nullable": True}}}
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
                        "repair": {"type": "boolean"}}}}}},
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
                           "enum": ["queued", "running", "ready", "failed", "expired"]},
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
                "responses": {"200": json_response("Tilesets", {"type": "object"}),
                              **error_responses(404)},
            }
        },
        "/collections/{collectionId}/tiles/{tileMatrixSetId}": {
            "get": {
                "summary": "TileJSON of the vector tiles",
                "operationId": "getTileJson",
                "parameters": [collection_id, matrix_set],
                "responses": {"200": json_response("TileJSON", {"type": "object"}),
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


def document(base_url: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The whole OpenAPI document; ``base_url`` is the API root (…/api)."""
    collection_id = {
        "name": "collectionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "Collection id",
    }
    feature_id = {
        "name": "featureId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "Feature id",
    }
    token_id = {
        "name": "tokenId",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
        "description": "Token id",
    }
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
    write_body = {
        "required": True,
        "content": {
            GEOJSON: {
                "schema": {
                    "oneOf": [ref("schemas", "Feature"), ref("schemas", "FeatureCollection")]
                }
            },
            JSON: {
                "schema": {
                    "oneOf": [ref("schemas", "Feature"), ref("schemas", "FeatureCollection")]
                }
            },
        },
    }
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
                            "JSON Schema", {"type": "object"}, "application/schema+json", html=True
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
                        "201": json_response("Created", {"type": "object"}),
                        **error_responses(400, 401, 403, 404, 415),
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
                            GEOJSON: {"schema": ref("schemas", "Feature")},
                            JSON: {"schema": ref("schemas", "Feature")},
                        },
                    },
                    "responses": {
                        "200": json_response("Replaced", ref("schemas", "Feature"), GEOJSON),
                        **error_responses(400, 401, 403, 404, 415),
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
                            JSON: {"schema": {"type": "object"}},
                            "application/merge-patch+json": {"schema": {"type": "object"}},
                        },
                    },
                    "responses": {
                        "200": json_response("Updated", ref("schemas", "Feature"), GEOJSON),
                        **error_responses(400, 401, 403, 404, 415),
                    },
                },
                "delete": {
                    "summary": "Delete a feature",
                    "operationId": "deleteFeature",
                    "security": bearer,
                    "parameters": [collection_id, feature_id],
                    "responses": {
                        "204": {"description": "Deleted"},
                        **error_responses(401, 403, 404),
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
                                    "Most places returned (default 5)"),
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
                            GEOJSON: {"schema": ref("schemas", "FeatureCollection")},
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
                        "200": json_response("Results", {"type": "object"}),
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
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "200": json_response("Exposure", {"type": "object"}),
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
                        "201": json_response("Token", {"type": "object"}),
                        **error_responses(401),
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
                        "200": json_response("Token", {"type": "object"}),
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
            "schemas": {
                "Export": export_schema(),
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
                "Link": {
                    "type": "object",
                    "required": ["href", "rel"],
                    "properties": {
                        "href": {"type": "string"},
                        "rel": {"type": "string"},
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                    },
                },
                "LandingPage": {
                    "type": "object",
                    "required": ["links"],
                    "properties": {
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "links": {"type": "array", "items": ref("schemas", "Link")},
                    },
                },
                "Collection": {
                    "type": "object",
                    "required": ["id", "links"],
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "links": {"type": "array", "items": ref("schemas", "Link")},
                        "crs": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Feature": {
                    "type": "object",
                    "required": ["type", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                        "geometry": {"type": "object", "nullable": True},
                        "properties": {"type": "object", "nullable": True},
                    },
                },
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": ref("schemas", "Feature")},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "links": {"type": "array", "items": ref("schemas", "Link")},
                    },
                },
                "Places": {
                    "type": "object",
                    "required": ["query", "places"],
                    "properties": {
                        "query": {"type": "string"},
                        "places": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["label", "lon", "lat"],
                                "properties": {
                                    "label": {"type": "string"},
                                    "lon": {"type": "number", "minimum": -180, "maximum": 180},
                                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                                    "bbox": {
                                        "type": "array",
                                        "nullable": True,
                                        "items": {"type": "number"},
                                        "minItems": 4,
                                        "maxItems": 4,
                                    },
                                },
                            },
                        },
                    },
                },
                "PointReport": {
                    "type": "object",
                    "required": ["query", "status", "in_sfha", "zones", "datasets"],
                    "properties": {
                        "status": {
                            "type": "string",
                            "enum": [
                                "high_risk",
                                "moderate_risk",
                                "undetermined",
                                "minimal_risk",
                                "open_water",
                                "unmapped",
                            ],
                        },
                        "in_sfha": {"type": "boolean"},
                        "zones": {"type": "array", "items": {"type": "object"}},
                        "nearest_high_risk": {"type": "object", "nullable": True},
                        "datasets": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }
