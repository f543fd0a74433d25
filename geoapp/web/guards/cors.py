"""CORS for the public, read-only API: other sites' pages may read open data, never write.

A small hook rather than flask-cors: flask-cors decides by URL pattern, but reads and writes
share URLs here (GET and POST /api/collections/<id>/items), and only the reads may be shared.
The decision is made per endpoint, from the method the browser will actually use.
`Access-Control-Allow-Credentials` is never sent, so browsers never expose a response to a
request that carried cookies; cross-origin callers read anonymously.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

# OGC API reads, vector tiles and point lookups: open data meant for other clients' maps.
# Address search (it spends an upstream geocoder's quota), dataset exports and anything that
# needs an account stay same-origin.
PUBLIC_READ_ENDPOINTS = frozenset({
    "api.landing", "api.conformance", "api.openapi_document", "api.collections",
    "api.collection", "api.queryables", "api.items", "api.item", "api.tilesets",
    "api.tilejson", "api.tile", "api.lookup",
})
READ_METHODS = frozenset({"GET", "HEAD"})
# Request headers a cross-origin reader may send beyond the CORS-safelisted ones.
ALLOWED_REQUEST_HEADERS = frozenset({"if-none-match", "if-modified-since"})
EXPOSED_HEADERS = "ETag, Link, Content-Crs"
PREFLIGHT_MAX_AGE_S = 600


def parse_origins(raw: str) -> frozenset[str]:
    """GEOAPP_CORS_ORIGINS as a set of origins ("*" for any; empty for none)."""
    return frozenset(
        origin.strip().rstrip("/") for origin in raw.replace(" ", ",").split(",")
        if origin.strip()
    )


def allowed_origin(origin: str, allowed: frozenset[str]) -> str | None:
    """The Access-Control-Allow-Origin value for a request's Origin, or None."""
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def serves_public_read(method: str) -> bool:
    """Whether this URL, requested with `method`, reaches a public read endpoint."""
    if method not in READ_METHODS:
        return False
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(method=method)
    except HTTPException:  # no such URL, or not with that method
        return False
    return endpoint in PUBLIC_READ_ENDPOINTS


def register_cors(app: Flask) -> None:
    """Add CORS headers to public reads and to their preflights, and to nothing else."""

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        allowed = parse_origins(current_app.config["GEOAPP_CORS_ORIGINS"])
        origin = request.headers.get("Origin")
        if not allowed:
            return response
        preflight_method = request.headers.get("Access-Control-Request-Method", "").upper()
        if request.method == "OPTIONS" and preflight_method:
            public = serves_public_read(preflight_method)
        else:
            public = request.method in READ_METHODS and request.endpoint in PUBLIC_READ_ENDPOINTS
        if not public:
            return response
        if "*" not in allowed:
            response.vary.add("Origin")  # caches must not hand one origin's answer to another
        value = allowed_origin(origin, allowed) if origin else None
        if value is None:
            return response
        response.headers["Access-Control-Allow-Origin"] = value
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD"
            wanted = request.headers.get("Access-Control-Request-Headers", "")
            granted = [name.strip() for name in wanted.split(",")
                       if name.strip().lower() in ALLOWED_REQUEST_HEADERS]
            if granted:
                response.headers["Access-Control-Allow-Headers"] = ", ".join(granted)
            response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        else:
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
