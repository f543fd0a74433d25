"""OGC API - Features Part 4: create, replace, update and delete flood zones."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.typing import ResponseReturnValue

from geoapp.db.vocabulary import Role
from geoapp.errors import InvalidInput, UnsupportedMediaType
from geoapp.extensions import db
from geoapp.inputs.params import path_id
from geoapp.ogc import zone_edits
from geoapp.ogc.collections import Collection, registry
from geoapp.web.api import bp
from geoapp.web.auth import require_role
from geoapp.web.contract.queries import RepairQuery
from geoapp.web.http import answer_as, api_url, json_response
from geoapp.web.serializers import created_items_json

JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")


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


def zone_id_of(collection: Collection, item_id: str) -> int:
    """The item id in the path (ASCII digits within the id column's range), or NotFound."""
    return path_id(item_id, collection.item_noun, collection.id_max)


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
@require_role(Role.ANALYST)
def create_items(collection_id: str) -> ResponseReturnValue:
    """Add a Feature or a FeatureCollection (all or nothing)."""
    collection = registry.writable(collection_id)
    body = json_body()
    zones = committed(
        lambda: zone_edits.create_zones(db.session, body, repair_asked())
    )
    ids = [zone.id for zone in zones]
    hrefs = [api_url("api.item", collection_id=collection.id, item_id=i) for i in ids]
    response = json_response(created_items_json(ids, hrefs), status=201)
    if len(ids) == 1:
        response.headers["Location"] = hrefs[0]
    return response


@bp.put("/collections/<collection_id>/items/<item_id>")
@require_role(Role.ANALYST)
def replace_item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """Replace a feature."""
    collection = registry.writable(collection_id)
    body = json_body()
    zone_id = zone_id_of(collection, item_id)
    committed(
        lambda: zone_edits.replace_zone(
            db.session, zone_id, body, repair_asked()
        )
    )
    return answer_as("api.item", collection_id=collection_id, item_id=item_id)


@bp.patch("/collections/<collection_id>/items/<item_id>")
@require_role(Role.ANALYST)
def update_item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """Change some properties and/or the geometry of a feature."""
    collection = registry.writable(collection_id)
    body = json_body()
    zone_id = zone_id_of(collection, item_id)
    committed(
        lambda: zone_edits.patch_zone(db.session, zone_id, body, repair_asked())
    )
    return answer_as("api.item", collection_id=collection_id, item_id=item_id)


@bp.delete("/collections/<collection_id>/items/<item_id>")
@require_role(Role.ANALYST)
def delete_item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """Delete a feature."""
    collection = registry.writable(collection_id)
    zone_id = zone_id_of(collection, item_id)
    committed(lambda: zone_edits.delete_zone(db.session, zone_id))
    return Response(status=204)
