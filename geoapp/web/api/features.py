"""OGC API - Features: landing page, conformance, collections, items, queryables, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Response, current_app, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from geoapp.extensions import db
from geoapp.inputs.params import path_id
from geoapp.ogc import features, layer_features
from geoapp.ogc.collections import Capability, Collection, registry
from geoapp.web import contract
from geoapp.web.api import bp
from geoapp.web.contract.fields import wire_names
from geoapp.web.contract.queries import (
    DatasetItemQuery,
    DatasetItemsQuery,
    ItemsQueryModel,
    LayerItemQuery,
    RepairQuery,
    layer_items_model,
)
from geoapp.web.guards.request_db import single_reads
from geoapp.web.http import (
    GEOJSON,
    HTML,
    JSON,
    DataVersion,
    api_url,
    conditional,
    conditional_on,
    html_or_json,
    json_response,
    request_key,
    self_links,
    wants_html,
)
from geoapp.web.serializers import (
    collection_json,
    dataset_feature,
    feature_collection_text,
    feature_text,
    landing_json,
    link,
    stream_feature_collection,
    whole_feature_collection,
)

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

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


def versioned(payload: Any, template: str, **context: Any) -> Response:
    """JSON or HTML of a small resource, conditional on the data's ETag."""
    return conditional(lambda _: html_or_json(payload, template, **context), request_key(12))


@bp.get("/")
def landing() -> ResponseReturnValue:
    """The API's landing page."""
    payload = landing_json([
        *self_links("api.landing"),
        link(api_url("api.openapi_document"), "service-desc", OPENAPI, "The API definition"),
        link(api_url("api.api_reference"), "service-doc", HTML, "The API reference"),
        link(api_url("api.conformance"), "conformance", JSON, "Conformance classes"),
        link(api_url("api.collections"), "data", JSON, "Collections"),
    ])
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
    return json_response(document, mimetype=OPENAPI)


@bp.get("/docs")
def api_reference() -> ResponseReturnValue:
    """The interactive API reference (Swagger UI) of the OpenAPI definition."""
    return render_template("api/docs.html")


def collection_links(collection: Collection) -> list[dict[str, str]]:
    """Links of a collection's metadata: itself, its items, and its queryables if it has any."""
    links = [
        *self_links("api.collection", collection_id=collection.id),
        link(api_url("api.items", collection_id=collection.id), "items", GEOJSON, "Items"),
    ]
    if collection.paged:
        # The paged HTML view of the items is worth a link; the datasets' one is a plain list.
        links.append(link(api_url("api.items", collection_id=collection.id, f="html"), "items",
                          HTML, "Items as HTML"))
    if collection.can(Capability.QUERYABLES):
        links.append(link(
            api_url("api.queryables", collection_id=collection.id),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "application/schema+json",
            "Queryable properties",
        ))
    return links


def collection_metadata(collection: Collection) -> dict[str, Any]:
    """Metadata of one collection (with its extent, for a collection that reports one)."""
    extent = collection.extent(db.session) if collection.extent else None
    return collection_json(collection, collection_links(collection), extent)


@bp.get("/collections")
def collections() -> ResponseReturnValue:
    """The collections served."""
    payload = {
        "links": self_links("api.collections"),
        "collections": [collection_metadata(collection) for collection in registry],
    }
    return versioned(payload, "api/collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> ResponseReturnValue:
    """One collection's metadata."""
    return versioned(collection_metadata(registry.get(collection_id)), "api/collection.html")


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> ResponseReturnValue:
    """JSON Schema of the properties that can be filtered on."""
    collection = registry.supporting(collection_id, Capability.QUERYABLES)
    assert collection.queryables is not None  # every collection that supports them has one
    schema = collection.queryables(api_url("api.landing").rstrip("/"))
    if wants_html():
        return render_template("api/queryables.html", schema=schema)
    return json_response(schema, mimetype="application/schema+json")


def page_links(collection: Collection, page: features.ItemsPage) -> list[dict[str, str]]:
    """self, alternate, prev and next links of an items page (read to its end).

    `next` carries a cursor (the last row's sort values and id), so every page costs what the
    first does; `prev` goes back by offset, which picks rows before making any GeoJSON.
    """
    query = page.query
    args = {name: value for name, value in request.args.items()
            if name not in ("f", "offset", "cursor")}
    args["limit"] = str(query.limit)

    def at(fmt: str, **start: str) -> str:
        return api_url("api.items", collection_id=collection.id, **args, **start, f=fmt)

    here = {"cursor": request.args["cursor"]} if query.after else {"offset": str(query.offset)}
    links = [
        link(at("json", **here), "self", GEOJSON, "This page"),
        link(at("html", **here), "alternate", HTML, "This page as HTML"),
    ]
    if page.offset > 0:
        links.append(link(at("json", offset=str(max(0, page.offset - query.limit))), "prev",
                          GEOJSON, "Previous page"))
    next_key = page.next_key()
    if next_key is not None:
        links.append(link(at("json", cursor=features.encode_cursor(next_key, query.sortby)),
                          "next", GEOJSON, "Next page"))
    return links


def parse_items_args() -> features.ItemsQuery:
    """The items parameters, with the configured page sizes."""
    config = current_app.config
    args: Mapping[str, str] = request.args
    if request.method in ("PUT", "PATCH"):
        # A write is answered with the read of what it wrote: the write's own parameters
        # (?repair=true) are not parameters of that read.
        args = {name: value for name, value in request.args.items()
                if name not in wire_names(RepairQuery).values()}
    return ItemsQueryModel.read(args, config).to_query(config)


def crs_header(query: features.ItemsQuery | layer_features.LayerQuery) -> str:
    return f"<{query.crs.uri}>"


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> ResponseReturnValue:
    """A page of features, streamed; filters, sorting, CRS and paging as in the OpenAPI."""
    collection = registry.supporting(collection_id, Capability.ITEMS)
    if collection.layer is not None:
        return layer_items(collection, collection.layer)
    if not collection.paged:
        return whole_items(collection)
    query = parse_items_args()
    return conditional(lambda current: paged_items(collection, query, current), request_key())


def paged_items(collection: Collection, query: features.ItemsQuery,
                current: DataVersion) -> Response:
    """One page of a paged collection, as HTML or as a streamed FeatureCollection."""
    page = features.items_page(db.session, query, current_app.config["GEOAPP_EXACT_COUNT_LIMIT"],
                               current)
    if wants_html():
        rows = list(page.features())
        feature_list = [json.loads(feature_text(*row)) for row in rows]
        return Response(
            render_template(
                "api/items.html",
                features=feature_list,
                page=page,
                links=page_links(collection, page),
                collection=collection,  # the page shows its title and id only
            ),
            mimetype=HTML,
        )

    return feature_collection_response(
        page.features(), lambda: page_trailer(current, page, page_links(collection, page)),
        query)


def page_trailer(current: DataVersion, page: features.ItemsPage | layer_features.LayerPage,
                 links: list[dict[str, str]]) -> dict[str, Any]:
    """The members of a FeatureCollection after its features (the page read to its end)."""
    members: dict[str, Any] = {
        "timeStamp": current.changed_at.isoformat() if current.changed_at else None,
        "numberReturned": page.returned,
    }
    if page.number_matched is not None:
        members["numberMatched"] = page.number_matched
    members["links"] = links
    return members


def feature_collection_response(rows: Iterable[tuple[int, str | None, str]],
                                trailer: Callable[[], dict[str, Any]],
                                query: features.ItemsQuery | layer_features.LayerQuery
                                ) -> Response:
    """A page's FeatureCollection: whole for a small page, streamed for a larger one."""
    if features.reads_whole(query.limit):
        # Read whole, as the one FETCH of a cursor would read it: sent with its length, and a
        # failing database is an error response rather than a body cut short.
        response = Response(feature_collection_text(rows, trailer), mimetype=GEOJSON)
    else:
        body = stream_feature_collection(rows, trailer)
        response = Response(stream_with_context(body), mimetype=GEOJSON)
    response.headers["Content-Crs"] = crs_header(query)
    return response


@bp.get("/collections/<collection_id>/items/<item_id>")
def item(collection_id: str, item_id: str) -> ResponseReturnValue:
    """One feature."""
    collection = registry.supporting(collection_id, Capability.ITEM)
    if collection.layer is not None:
        return layer_item(collection, collection.layer, item_id)
    if not collection.paged:
        return whole_item(collection, item_id)
    zone_id = path_id(item_id, collection.item_noun, collection.id_max)
    query = parse_items_args()
    assert collection.one_item is not None
    # The feature and the data version of its ETag come in one statement; a 304 is then
    # decided after the read, which for one feature costs less than a second round trip.
    version, row = collection.one_item(single_reads(), zone_id, query)
    return conditional_on(DataVersion(*version), lambda: zone_item(collection, row, query),
                          request_key())


def zone_item(collection: Collection, row: tuple[int, str | None, str],
              query: features.ItemsQuery | layer_features.LayerQuery) -> Response:
    """One feature of a paged collection, as HTML or GeoJSON."""
    fid, geometry, properties = row
    links = [
        link(api_url("api.item", collection_id=collection.id, item_id=fid, f="json"), "self",
             GEOJSON),
        link(api_url("api.item", collection_id=collection.id, item_id=fid, f="html"),
             "alternate", HTML),
        link(api_url("api.collection", collection_id=collection.id), "collection", JSON),
    ]
    if wants_html():
        document = json.loads(feature_text(fid, geometry, properties))
        document["links"] = links
        return Response(render_template("api/item.html", feature=document), mimetype=HTML)
    # The geometry text from PostGIS is passed through, not parsed and written again.
    response = current_app.response_class(feature_text(fid, geometry, properties, links),
                                          mimetype=GEOJSON)
    response.headers["Content-Crs"] = crs_header(query)
    return response


def whole_items(collection: Collection) -> ResponseReturnValue:
    """All items of a small collection (the datasets) as one FeatureCollection."""
    # All datasets are answered (they are few); paging values are still checked.
    DatasetItemsQuery.read(request.args)
    assert collection.all_items is not None
    payload = whole_feature_collection(
        [dataset_feature(*row) for row in collection.all_items(db.session)],
        self_links("api.items", GEOJSON, collection_id=collection.id),
    )
    if wants_html():
        return render_template(
            "api/items.html",
            features=payload["features"],
            page=None,
            links=payload["links"],
            collection=collection,  # the page shows its title and id only
        )
    return json_response(payload, mimetype=GEOJSON)


def whole_item(collection: Collection, item_id: str) -> ResponseReturnValue:
    """One item of a small collection (a dataset)."""
    DatasetItemQuery.read(request.args)
    dataset_id = path_id(item_id, collection.item_noun, collection.id_max)
    assert collection.one_item is not None
    document = dataset_feature(*collection.one_item(db.session, dataset_id, item_id))
    if wants_html():
        return render_template("api/item.html", feature=document)
    return json_response(document, mimetype=GEOJSON)


def layer_items(collection: Collection, layer: layer_features.LayerCollection
                ) -> ResponseReturnValue:
    """A page of a package layer's features (panels, communities, ...)."""
    config = current_app.config
    query = layer_items_model(layer).read(request.args, config).to_query(config)
    return conditional(lambda current: layer_page(collection, layer, query, current),
                       request_key())


def layer_page(collection: Collection, layer: layer_features.LayerCollection,
               query: layer_features.LayerQuery, current: DataVersion) -> Response:
    """One page of a package layer, as HTML or as a FeatureCollection."""
    page = layer_features.items_page(db.session, layer, query,
                                     current_app.config["GEOAPP_EXACT_COUNT_LIMIT"])
    if wants_html():
        feature_list = [json.loads(feature_text(*row)) for row in page.features()]
        return Response(
            render_template("api/items.html", features=feature_list, page=page,
                            links=layer_page_links(collection, page), collection=collection),
            mimetype=HTML,
        )

    return feature_collection_response(
        page.features(),
        lambda: page_trailer(current, page, layer_page_links(collection, page)), query)


def layer_page_links(collection: Collection, page: layer_features.LayerPage
                     ) -> list[dict[str, str]]:
    """self, alternate, prev and next links of a package layer's page (read to its end)."""
    limit = page.query.limit
    args = {name: value for name, value in request.args.items() if name not in ("f", "offset")}
    args["limit"] = str(limit)

    def at(fmt: str, offset: int) -> str:
        return api_url("api.items", collection_id=collection.id, **args, offset=str(offset),
                       f=fmt)

    links = [link(at("json", page.offset), "self", GEOJSON, "This page"),
             link(at("html", page.offset), "alternate", HTML, "This page as HTML")]
    if page.offset > 0:
        links.append(link(at("json", max(0, page.offset - limit)), "prev", GEOJSON,
                          "Previous page"))
    if page.has_next:
        links.append(link(at("json", page.offset + limit), "next", GEOJSON, "Next page"))
    return links


def layer_item(collection: Collection, layer: layer_features.LayerCollection,
               item_id: str) -> ResponseReturnValue:
    """One feature of a package layer."""
    feature_id = path_id(item_id, collection.item_noun, collection.id_max)
    query = LayerItemQuery.read(request.args).layer_query()
    return conditional(
        lambda _: zone_item(collection, layer_features.one_item(db.session, layer, feature_id,
                                                                query), query),
        request_key())
