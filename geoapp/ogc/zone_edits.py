"""Creating, replacing, updating and deleting single flood zones (OGC API - Features Part 4).

Every call validates everything before it writes and leaves committing to the caller, so a
request either writes all its features or none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, shape
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset, FloodZone
from geoapp.db.queries.datasets import refresh_dataset_summary
from geoapp.errors import InvalidInput, NotFound
from geoapp.geo.polygons import (
    MALFORMED,
    POLYGON_TYPES,
    PolygonRefused,
    check_rings,
    not_polygonal,
    valid_polygon,
)
from geoapp.nfhl.attributes import FLAG_FIELDS, NUMBER_FIELDS, TEXT_FIELDS, json_safe, zone_columns
from geoapp.nfhl.status import valid_zone_code

# Properties computed by the server: accepted in a body (clients echo them back), never stored.
READ_ONLY_PROPERTIES = {"risk_status", "dataset", "effective_date", "attributes"}
NFHL_FIELDS = {**TEXT_FIELDS, **NUMBER_FIELDS, **FLAG_FIELDS}


def _label(index: int | None) -> str:
    return f"feature {index}: " if index is not None else ""


def parse_geometry(geometry: Any, repair: bool, index: int | None = None) -> MultiPolygon:
    """A valid MultiPolygon from GeoJSON; invalid ones are refused with GEOS's reason unless
    ``repair`` is set (geoapp.geo.polygons)."""
    label = _label(index)
    if not isinstance(geometry, Mapping) or geometry.get("type") not in POLYGON_TYPES:
        kind = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        raise PolygonRefused(f"{label}{not_polygonal(str(kind))}")
    check_rings(geometry.get("coordinates"), 2 if geometry["type"] == "Polygon" else 3, label)
    try:
        parsed = shape(geometry)
    except (ValueError, TypeError) as exc:
        raise PolygonRefused(f"{label}{MALFORMED}: {exc}") from None
    parsed, _repaired = valid_polygon(parsed, repair, label)
    return parsed if isinstance(parsed, MultiPolygon) else MultiPolygon([parsed])


def parse_properties(properties: Any, index: int | None = None) -> dict[str, Any]:
    """Column values from feature properties; unknown properties go to ``attributes``."""
    label = _label(index)
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        raise InvalidInput(f"{label}properties must be an object", code="invalid_properties")
    source = {k: v for k, v in properties.items() if k not in READ_ONLY_PROPERTIES}
    source.pop("dataset_id", None)
    columns = zone_columns(source)
    if columns["fld_zone"] is None:
        raise InvalidInput(f"{label}property fld_zone is required", code="invalid_properties")
    if not valid_zone_code(columns["fld_zone"]):
        raise InvalidInput(
            f"{label}fld_zone {columns['fld_zone']!r} is not an NFHL zone code",
            code="invalid_properties",
        )
    return columns


def target_dataset(session: Session, properties: Any, index: int | None = None) -> Dataset:
    """The dataset a new feature belongs to (property ``dataset_id``)."""
    raw = properties.get("dataset_id") if isinstance(properties, Mapping) else None
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidInput(
            f"{_label(index)}property dataset_id (an integer) is required",
            code="invalid_properties",
        )
    dataset = session.get(Dataset, raw)
    if dataset is None:
        raise InvalidInput(f"{_label(index)}no dataset {raw}", code="invalid_properties")
    return dataset


def features_of(body: Any) -> list[Mapping[str, Any]]:
    """The features of a Feature or FeatureCollection body."""
    if isinstance(body, Mapping) and body.get("type") == "Feature":
        return [body]
    if isinstance(body, Mapping) and body.get("type") == "FeatureCollection":
        items = body.get("features")
        if isinstance(items, list) and items and all(isinstance(f, Mapping) for f in items):
            return items
        raise InvalidInput("the FeatureCollection has no features", code="invalid_input")
    raise InvalidInput("the body must be a GeoJSON Feature or FeatureCollection")


def create_zones(session: Session, body: Any, repair: bool) -> list[FloodZone]:
    """Insert every feature of a body, or raise before writing any."""
    items = features_of(body)
    indexed = None if len(items) == 1 else 0
    prepared = []
    for position, item in enumerate(items):
        index = None if indexed is None else position
        if item.get("type") != "Feature":
            raise InvalidInput(f"{_label(index)}expected a Feature", code="invalid_input")
        geometry = parse_geometry(item.get("geometry"), repair, index)
        columns = parse_properties(item.get("properties"), index)
        dataset = target_dataset(session, item.get("properties"), index)
        prepared.append((dataset, geometry, columns))
    zones = []
    for dataset, geometry, columns in prepared:
        zone = FloodZone(dataset=dataset, geom=from_shape(geometry, srid=4326), **columns)
        session.add(zone)
        zones.append(zone)
    session.flush()
    for dataset in {id(d): d for d, _, _ in prepared}.values():
        refresh_dataset_summary(session, dataset)
    return zones


def get_zone(session: Session, zone_id: int) -> FloodZone:
    """A zone by id, or NotFound."""
    zone = session.get(FloodZone, zone_id)
    if zone is None:
        raise NotFound(f"no flood zone with id {zone_id}")
    return zone


def replace_zone(session: Session, zone_id: int, body: Any, repair: bool) -> FloodZone:
    """Replace a zone's geometry and properties (PUT); it may move to another dataset."""
    zone = get_zone(session, zone_id)
    if not isinstance(body, Mapping) or body.get("type") != "Feature":
        raise InvalidInput("the body must be a GeoJSON Feature")
    geometry = parse_geometry(body.get("geometry"), repair)
    columns = parse_properties(body.get("properties"))
    properties = body.get("properties") or {}
    old_dataset = zone.dataset
    if "dataset_id" in properties:
        zone.dataset = target_dataset(session, properties)
    for name, value in columns.items():
        setattr(zone, name, value)
    zone.geom = from_shape(geometry, srid=4326)
    session.flush()
    for dataset in {old_dataset.id: old_dataset, zone.dataset.id: zone.dataset}.values():
        refresh_dataset_summary(session, dataset)
    return zone


def patch_zone(session: Session, zone_id: int, patch: Any, repair: bool) -> FloodZone:
    """Merge a partial update (JSON merge patch of geometry and/or properties)."""
    zone = get_zone(session, zone_id)
    if not isinstance(patch, Mapping) or not ({"geometry", "properties"} & set(patch)):
        raise InvalidInput("send an object with 'properties' and/or 'geometry'")
    if "geometry" in patch:
        zone.geom = from_shape(parse_geometry(patch["geometry"], repair), srid=4326)
    if "properties" in patch:
        changes = patch["properties"]
        if not isinstance(changes, Mapping):
            raise InvalidInput("properties must be an object", code="invalid_properties")
        # Patch keys replace stored ones case-insensitively (FLD_ZONE and fld_zone are one).
        attributes = dict(zone.attributes)
        stored_key = {key.lower(): key for key in attributes}
        for key, value in changes.items():
            if key in READ_ONLY_PROPERTIES or key == "dataset_id":
                continue
            target = stored_key.get(key.lower(), key)
            if value is None:
                attributes.pop(target, None)
            else:
                attributes[target] = value
        current = {field: getattr(zone, column) for column, field in NFHL_FIELDS.items()}
        columns = parse_properties({**current, **attributes})
        columns["attributes"] = json_safe(attributes)
        for name, value in columns.items():
            setattr(zone, name, value)
    session.flush()
    refresh_dataset_summary(session, zone.dataset)
    return zone


def delete_zone(session: Session, zone_id: int) -> None:
    """Delete a zone (its lookup pieces go with it)."""
    zone = get_zone(session, zone_id)
    dataset = zone.dataset
    session.delete(zone)
    session.flush()
    refresh_dataset_summary(session, dataset)
