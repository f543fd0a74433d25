"""The API contract, declared once: query models (validation and parameters), body and
answer models (schemas), and the operations that tie them to paths.

``document`` generates the OpenAPI 3.0 document from these declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoapp.ogc import openapi
from geoapp.web.contract.operations import operations
from geoapp.web.contract.responses import Error

INFO = {
    "title": "FloodManager API",
    "version": "1.0.0",
    "description": "Flood hazard zones as OGC API - Features, and flood risk lookups "
    "(point, batch, parcel). Reads are public unless the server says otherwise; writes "
    "need an analyst's bearer token.",
}
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer"},
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
}


def document(base_url: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI document of the API; ``base_url`` is the API root (…/api)."""
    return openapi.document(info=INFO, base_url=base_url, operations=operations(),
                            error_model=Error, security_schemes=SECURITY_SCHEMES, config=config)
