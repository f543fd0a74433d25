"""OGC API - Features Part 4: create, replace, update and delete flood zones."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request, url_for
from flask.typing import ResponseReturnValue

from geoapp.errors import AppError, InvalidInput, NotFound
from geoapp.extensions import db
from geoapp.ogc import zone_edits
from geoapp.web.api import bp
from geoapp.web.api.features import COLLECTION_ID, DATASETS_ID, item
from geoapp.web.api.lookup import UnsupportedMediaType
from geoapp.web.auth import require_role
from geoapp.web.contract.queries import RepairQuery
from geoapp.web.params import path_id

JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")


class MethodNotAllowed(AppError):
    """The collection exists but cannot be written through this API."""

    status = 405
    code = "method_not_allowed"


def writable(collection_id: str) -> None:
    """Only the flood zones collection takes writes."""
    if collection_id == DATASETS_ID:
        raise MethodNotAllowed("datasets are created by imports, not through this collection")
    if collection_id != COLLECTION_ID:
        raise NotFound(f"no collection {collection_id!r}")


def json_body() -> Any:
    """The parsed JSON body, or a clear error."""
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"send application/geo+json or application/json, not {request.mimetype or 'nothing'}"
        )
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput("the body is not valid JSON", code="invalid_json")
    return body


def zone_id_of(item_id: str) -> int:
    """The zone id in the path (ASCII digits within bigint), or NotFound."""
    return path_id(item_id, "flood zone")


def committed(operation: Any) -> Any:
    """Run a write and commit it; on any error, roll back so nothing is half-written."""
    try:
        result = operation()
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise


def repair_asked() -> bool:
    """`repair=true`: repair invalid geometries instead of refusing them."""
    return RepairQuery.read(request.args).repair


@bp.post("/collections/<collection_id>/items")
@require_role("analyst")
def create_items(collection_id: str) -> ResponseReturnValue:
    """Add a Feature or a FeatureCollection (all or nothing)."""
    writable(collection_id)
    body = json_body()
    zones = committed(
        lambda: zone_edits.create_zones(db.session, body, repair_asked())
    )
    ids = [zone.id for zone in zones]
    links = [
        url_for("api.item", collection_id=COLLECTION_ID, item_id=i, _external=True) for i in ids
    ]
    response = Response(
        json.dumps({"ids": ids, "links": [{"href": h, "rel": "item"} for h in links]}),
        status=201,
        mimetype="application/json",
    )
    if len(ids) == 1:
        response.headers["Location"] = links[0]
    return response


@bp.put("/collections/<collection_id>/items/<item_id>")
@require_role("analyst")
def replace_item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """Replace a feature."""
    writable(collection_id)
    body = json_body()
    zone_id = zone_id_of(item_id)
    committed(
        lambda: zone_edits.replace_zone(
            db.session, zone_id, body, repair_asked()
        )
    )
    return item(collection_id, item_id)


@bp.patch("/collections/<collection_id>/items/<item_id>")
@require_role("analyst")
def update_item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """Change some properties and/or the geometry of a feature."""
    writable(collection_id)
    body = json_body()
    zone_id = zone_id_of(item_id)
    committed(
        lambda: zone_edits.patch_zone(db.session, zone_id, body, repair_asked())
    )
    return item(collection_id, item_id)


@bp.delete("/collections/<collection_id>/items/<item_id>")
@require_role("analyst")
def delete_item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """Delete a feature."""
    writable(collection_id)
    zone_id = zone_id_of(item_id)
    committed(lambda: zone_edits.delete_zone(db.session, zone_id))
    return Response(status=204)
