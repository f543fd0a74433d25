"""OGC API - Features: landing page, conformance, collections, items, queryables, OpenAPI."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, current_app, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from geoapp.db import queries
from geoapp.db.models import Dataset
from geoapp.errors import NotFound
from geoapp.extensions import db
from geoapp.geo.crs import SUPPORTED
from geoapp.ogc import features
from geoapp.ogc.features import COLLECTION_ID
from geoapp.web import contract
from geoapp.web.api import bp
from geoapp.web.contract.queries import DatasetItemQuery, DatasetItemsQuery, ItemsQueryModel
from geoapp.web.params import PG_INTEGER_MAX, parse_choice, path_id
from geoapp.web.serializers import feature_text, link, stream_feature_collection

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
DATASETS_ID = "datasets"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
]


def wants_html() -> bool:
    """`f=html`, or a browser that prefers HTML and did not ask for JSON."""
    chosen = parse_choice(request.args, "f", ("json", "html"))
    if chosen:
        return chosen == "html"
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return best == HTML


def api_url(endpoint: str, **values: Any) -> str:
    """An absolute URL of an API endpoint."""
    return url_for(endpoint, _external=True, **values)


def self_links(endpoint: str, json_type: str = JSON, **values: Any) -> list[dict[str, str]]:
    """self/alternate links of a resource in JSON and HTML."""
    return [
        link(api_url(endpoint, **values, f="json"), "self", json_type, "This document as JSON"),
        link(api_url(endpoint, **values, f="html"), "alternate", HTML, "This document as HTML"),
    ]


def versioned(payload: Any, template: str, **context: Any) -> Response:
    """JSON or HTML of a small resource, conditional on the data's ETag."""
    version, changed_at = data_version()
    etag = f"{version}-{hashlib.sha1(request.full_path.encode()).hexdigest()[:12]}"
    if wants_html():
        response = Response(render_template(template, data=payload, **context), mimetype=HTML)
    else:
        response = current_app.response_class(json.dumps(payload), mimetype=JSON)
    return conditional(response, etag, changed_at)


def data_version() -> tuple[int, Any]:
    """(version, changed_at) of the served data: changes on every write to zones or datasets."""
    row = db.session.execute(queries.data_version()).one()
    return int(row.version), row.changed_at


def conditional(response: Response, etag: str, changed_at: Any) -> Response:
    """Set a weak ETag and Last-Modified, answering 304 when the client is up to date."""
    response.set_etag(etag, weak=True)
    if changed_at is not None:
        response.last_modified = changed_at
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response.make_conditional(request)


@bp.get("/")
def landing() -> ResponseReturnValue:
    """The API's landing page."""
    payload = {
        "title": "FloodManager",
        "description": "Flood hazard zones (FEMA NFHL semantics) and flood risk lookups",
        "links": [
            *self_links("api.landing"),
            link(
                api_url("api.openapi_document"),
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "The API definition",
            ),
            link(api_url("api.api_reference"), "service-doc", HTML, "The API reference"),
            link(api_url("api.conformance"), "conformance", JSON, "Conformance classes"),
            link(api_url("api.collections"), "data", JSON, "Collections"),
        ],
    }
    return versioned(payload, "api/landing.html")


@bp.get("/conformance")
def conformance() -> ResponseReturnValue:
    """The conformance classes implemented."""
    return versioned({"conformsTo": CONFORMANCE}, "api/conformance.html")


@bp.get("/openapi.json")
@bp.get("/openapi")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.0 definition."""
    document = contract.document(api_url("api.landing").rstrip("/"), current_app.config)
    return current_app.response_class(
        json.dumps(document), mimetype="application/vnd.oai.openapi+json;version=3.0"
    )


@bp.get("/docs")
def api_reference() -> ResponseReturnValue:
    """The interactive API reference (Swagger UI) of the OpenAPI definition."""
    return render_template("api/docs.html")


def zones_collection() -> dict[str, Any]:
    """Metadata of the flood zones collection."""
    return {
        "id": COLLECTION_ID,
        "title": "Flood hazard zones",
        "description": "Flood hazard areas (NFHL S_FLD_HAZ_AR) of the active datasets",
        "itemType": "feature",
        "extent": features.collection_extent(db.session),
        "crs": [crs.uri for crs in SUPPORTED],
        "storageCrs": SUPPORTED[0].uri,
        "links": [
            *self_links("api.collection", collection_id=COLLECTION_ID),
            link(api_url("api.items", collection_id=COLLECTION_ID), "items", GEOJSON, "Items"),
            link(
                api_url("api.items", collection_id=COLLECTION_ID, f="html"),
                "items",
                HTML,
                "Items as HTML",
            ),
            link(
                api_url("api.queryables", collection_id=COLLECTION_ID),
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "Queryable properties",
            ),
        ],
    }


def datasets_collection() -> dict[str, Any]:
    """Metadata of the datasets collection (one feature per imported map, its extent)."""
    return {
        "id": DATASETS_ID,
        "title": "Datasets",
        "description": "Imported flood maps: provenance, effective date, status and extent",
        "itemType": "feature",
        "crs": [SUPPORTED[0].uri],
        "storageCrs": SUPPORTED[0].uri,
        "links": [
            *self_links("api.collection", collection_id=DATASETS_ID),
            link(api_url("api.items", collection_id=DATASETS_ID), "items", GEOJSON, "Items"),
        ],
    }


def check_collection(collection_id: str) -> None:
    """NotFound unless the collection exists (without computing its metadata)."""
    if collection_id not in (COLLECTION_ID, DATASETS_ID):
        raise NotFound(
            f"no collection {collection_id!r}; there are {COLLECTION_ID} and {DATASETS_ID}"
        )


def collection_metadata(collection_id: str) -> dict[str, Any]:
    """Metadata of one collection, or NotFound."""
    if collection_id == COLLECTION_ID:
        return zones_collection()
    if collection_id == DATASETS_ID:
        return datasets_collection()
    raise NotFound(f"no collection {collection_id!r}; there are {COLLECTION_ID} and {DATASETS_ID}")


@bp.get("/collections")
def collections() -> ResponseReturnValue:
    """The collections served."""
    payload = {
        "links": self_links("api.collections"),
        "collections": [zones_collection(), datasets_collection()],
    }
    return versioned(payload, "api/collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> ResponseReturnValue:
    """One collection's metadata."""
    return versioned(collection_metadata(collection_id), "api/collection.html")


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> ResponseReturnValue:
    """JSON Schema of the properties that can be filtered on."""
    collection_metadata(collection_id)
    if collection_id != COLLECTION_ID:
        raise NotFound(f"collection {collection_id!r} has no queryables")
    schema = features.queryables_schema(api_url("api.landing").rstrip("/"))
    if wants_html():
        return render_template("api/queryables.html", schema=schema)
    return current_app.response_class(json.dumps(schema), mimetype="application/schema+json")


def page_links(query: features.ItemsQuery, has_next: bool) -> list[dict[str, str]]:
    """self, alternate, prev and next links of an items page."""
    args = request.args.to_dict()
    args.pop("f", None)

    def at(offset: int, fmt: str) -> str:
        values = {**args, "offset": str(offset), "limit": str(query.limit), "f": fmt}
        return api_url("api.items", collection_id=COLLECTION_ID, **values)

    links = [
        link(at(query.offset, "json"), "self", GEOJSON, "This page"),
        link(at(query.offset, "html"), "alternate", HTML, "This page as HTML"),
    ]
    if query.offset > 0:
        links.append(
            link(at(max(0, query.offset - query.limit), "json"), "prev", GEOJSON, "Previous page")
        )
    if has_next:
        links.append(link(at(query.offset + query.limit, "json"), "next", GEOJSON, "Next page"))
    return links


def parse_items_args() -> features.ItemsQuery:
    """The items parameters, with the configured page sizes."""
    config = current_app.config
    return ItemsQueryModel.read(request.args, config).to_query(config)


def crs_header(query: features.ItemsQuery) -> str:
    return f"<{query.crs.uri}>"


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> ResponseReturnValue:
    """A page of features, streamed; filters, sorting, CRS and paging as in the OpenAPI."""
    if collection_id == DATASETS_ID:
        return dataset_items()
    check_collection(collection_id)
    query = parse_items_args()
    version, changed_at = data_version()
    etag = f"{version}-{hashlib.sha1(request.full_path.encode()).hexdigest()[:16]}"
    if request.if_none_match.contains_weak(etag):
        return conditional(Response(status=304), etag, changed_at)
    page = features.items_page(db.session, query, current_app.config["GEOAPP_EXACT_COUNT_LIMIT"])
    if wants_html():
        rows = list(page.features())
        feature_list = [json.loads(feature_text(*row)) for row in rows]
        response = Response(
            render_template(
                "api/items.html",
                features=feature_list,
                page=page,
                links=page_links(query, page.has_next),
                collection=zones_collection(),
            ),
            mimetype=HTML,
        )
        return conditional(response, etag, changed_at)

    def trailer() -> dict[str, Any]:
        members: dict[str, Any] = {
            "timeStamp": changed_at.isoformat() if changed_at else None,
            "numberReturned": page.returned,
        }
        if page.number_matched is not None:
            members["numberMatched"] = page.number_matched
        members["links"] = page_links(query, page.has_next)
        return members

    body = stream_feature_collection(page.features(), trailer)
    response = Response(stream_with_context(body), mimetype=GEOJSON)
    response.headers["Content-Crs"] = crs_header(query)
    response.set_etag(etag, weak=True)
    if changed_at is not None:
        response.last_modified = changed_at
    return response


@bp.get("/collections/<collection_id>/items/<item_id>")
def item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """One feature."""
    if collection_id == DATASETS_ID:
        return dataset_item(item_id)
    check_collection(collection_id)
    zone_id = path_id(item_id, "flood zone")
    query = parse_items_args()
    version, changed_at = data_version()
    etag = f"{version}-{hashlib.sha1(request.full_path.encode()).hexdigest()[:16]}"
    if request.if_none_match.contains_weak(etag):
        return conditional(Response(status=304), etag, changed_at)
    fid, geometry, properties = features.one_item(db.session, zone_id, query)
    links = [
        link(
            api_url("api.item", collection_id=COLLECTION_ID, item_id=fid, f="json"), "self", GEOJSON
        ),
        link(
            api_url("api.item", collection_id=COLLECTION_ID, item_id=fid, f="html"),
            "alternate",
            HTML,
        ),
        link(api_url("api.collection", collection_id=COLLECTION_ID), "collection", JSON),
    ]
    if wants_html():
        document = json.loads(feature_text(fid, geometry, properties))
        document["links"] = links
        response = Response(render_template("api/item.html", feature=document), mimetype=HTML)
    else:
        # The geometry text from PostGIS is passed through, not parsed and written again.
        text = feature_text(fid, geometry, properties, links)
        response = current_app.response_class(text, mimetype=GEOJSON)
        response.headers["Content-Crs"] = crs_header(query)
    return conditional(response, etag, changed_at)


def dataset_feature(dataset: Dataset, bbox_geojson: str | None) -> dict[str, Any]:
    """A dataset as a GeoJSON feature (its extent as geometry)."""
    return {
        "type": "Feature",
        "id": dataset.id,
        "geometry": json.loads(bbox_geojson) if bbox_geojson else None,
        "properties": {
            "name": dataset.name,
            "status": dataset.status,
            "source_filename": dataset.source_filename,
            "source_crs": dataset.source_crs,
            "effective_date": dataset.effective_date.isoformat()
            if dataset.effective_date
            else None,
            "superseded_on": dataset.superseded_on.isoformat() if dataset.superseded_on else None,
            "feature_count": dataset.feature_count,
            "imported_at": dataset.imported_at.isoformat() if dataset.imported_at else None,
        },
    }


def dataset_items() -> ResponseReturnValue:
    """All datasets (they are few) as a FeatureCollection."""
    DatasetItemsQuery.read(request.args)
    rows = db.session.execute(
        select(Dataset, func.ST_AsGeoJSON(Dataset.bbox, 7)).order_by(Dataset.id)
    ).all()
    payload = {
        "type": "FeatureCollection",
        "features": [dataset_feature(dataset, bbox) for dataset, bbox in rows],
        "numberMatched": len(rows),
        "numberReturned": len(rows),
        "links": self_links("api.items", GEOJSON, collection_id=DATASETS_ID),
    }
    if wants_html():
        return render_template(
            "api/items.html",
            features=payload["features"],
            page=None,
            links=payload["links"],
            collection=datasets_collection(),
        )
    return current_app.response_class(json.dumps(payload), mimetype=GEOJSON)


def dataset_item(item_id: str) -> ResponseReturnValue:
    """One dataset."""
    DatasetItemQuery.read(request.args)
    dataset_id = path_id(item_id, "dataset", PG_INTEGER_MAX)
    row = db.session.execute(
        select(Dataset, func.ST_AsGeoJSON(Dataset.bbox, 7)).where(Dataset.id == dataset_id)
    ).first()
    if row is None:
        raise NotFound(f"no dataset with id {item_id[:40]!r}")
    document = dataset_feature(*row)
    if wants_html():
        return render_template("api/item.html", feature=document)
    return current_app.response_class(json.dumps(document), mimetype=GEOJSON)
