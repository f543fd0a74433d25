"""Bodies of the OGC API: features (streamed from PostGIS text), collections, tiles, writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from geoapp.db.models import Dataset
from geoapp.ogc.collections import Collection
from geoapp.web.json_provider import encode
from geoapp.web.serializers.common import in_blocks
from geoapp.web.serializers.datasets import dataset_provenance


def feature_text(
    fid: int, geometry: str | None, properties: str, links: list[dict[str, Any]] | None = None
) -> str:
    """One GeoJSON Feature from the geometry and properties JSON texts PostGIS produced."""
    extra = f',"links":{encode(links)}' if links else ""
    return (
        f'{{"type":"Feature","id":{int(fid)},"geometry":{geometry or "null"},'
        f'"properties":{properties}{extra}}}'
    )


def feature_collection_parts(
    rows: Iterable[tuple[int, str | None, str]], trailer: Callable[[], dict[str, Any]]
) -> Iterator[str]:
    """A FeatureCollection's text, feature by feature; ``trailer`` gives the members that can
    only be known at the end (numberReturned, next link), written after the features."""
    yield '{"type":"FeatureCollection","features":['
    for index, (fid, geometry, properties) in enumerate(rows):
        yield ("," if index else "") + feature_text(fid, geometry, properties)
    yield "]," + encode(trailer())[1:]


def stream_feature_collection(
    rows: Iterable[tuple[int, str | None, str]], trailer: Callable[[], dict[str, Any]]
) -> Iterator[str]:
    """A FeatureCollection written as its rows arrive, sent in blocks."""
    return in_blocks(feature_collection_parts(rows, trailer))


def feature_collection_text(
    rows: Iterable[tuple[int, str | None, str]], trailer: Callable[[], dict[str, Any]]
) -> str:
    """A FeatureCollection as one text, for a page read whole."""
    return "".join(feature_collection_parts(rows, trailer))


def landing_json(links: list[dict[str, str]]) -> dict[str, Any]:
    """The API's landing page."""
    return {
        "title": "FloodManager",
        "description": "Flood hazard zones (FEMA NFHL semantics) and flood risk lookups",
        "links": links,
    }


def collection_json(collection: Collection, links: list[dict[str, str]],
                    extent: dict[str, Any] | None = None) -> dict[str, Any]:
    """A collection's metadata; ``extent`` only for a collection that reports one."""
    body: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
    }
    if extent is not None:
        body["extent"] = extent
    body["crs"] = list(collection.crs)
    body["storageCrs"] = collection.crs[0]
    body["links"] = links
    return body


def dataset_feature(dataset: Dataset, bbox_geojson: str | None) -> dict[str, Any]:
    """A dataset as a GeoJSON feature (its extent as geometry)."""
    return {
        "type": "Feature",
        "id": dataset.id,
        "geometry": json.loads(bbox_geojson) if bbox_geojson else None,
        "properties": {
            "name": dataset.name,
            "status": dataset.status,
            **dataset_provenance(dataset),
        },
    }


def whole_feature_collection(features: list[dict[str, Any]],
                             links: list[dict[str, str]]) -> dict[str, Any]:
    """A FeatureCollection answered whole (every item, so matched = returned)."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "numberReturned": len(features),
        "links": links,
    }


def created_items_json(ids: list[int], hrefs: list[str]) -> dict[str, Any]:
    """The answer to a create: the new ids and a link to each new item."""
    return {"ids": ids, "links": [{"href": href, "rel": "item"} for href in hrefs]}


def tilesets_json(tilejson_link: dict[str, str], tile_template: str,
                  tile_type: str) -> dict[str, Any]:
    """The tilesets of the flood zones (one: vector tiles in WebMercatorQuad)."""
    return {
        "tilesets": [{
            "title": "Flood zones as Mapbox Vector Tiles",
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            "links": [
                tilejson_link,
                {"href": tile_template, "rel": "item", "type": tile_type, "templated": True},
            ],
        }],
    }


# Shown when no dataset is active: all of Web Mercator.
WORLD_BOUNDS = [-180.0, -85.0511, 180.0, 85.0511]


def tilejson_json(tile_template: str, extent: tuple[Any, Any, Any, Any], max_zoom: int,
                  layers: list[tuple[str, dict[str, str], int]]) -> dict[str, Any]:
    """TileJSON 3.0 of the vector tiles; ``extent`` is (xmin, ymin, xmax, ymax), or NULLs;
    ``layers`` are (id, fields, minimum zoom) of each layer of the tiles."""
    xmin, ymin, xmax, ymax = extent
    bounds = WORLD_BOUNDS if xmin is None else [float(xmin), float(ymin), float(xmax),
                                                float(ymax)]
    return {
        "tilejson": "3.0.0",
        "name": "FloodManager flood zones",
        "tiles": [tile_template],
        "minzoom": 0,
        "maxzoom": max_zoom,
        "bounds": bounds,
        "vector_layers": [{"id": layer, "fields": fields, "minzoom": minzoom, "maxzoom": max_zoom}
                          for layer, fields, minzoom in layers],
    }
