"""The declared API contract: answers match their declared schemas exactly, every route is
declared, parameters are validated by the declarations, and /api/docs works offline."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from shapely.geometry import box

from geoapp.ogc.features import PROPERTIES, QUERYABLES
from geoapp.web.contract.queries import ItemsQueryModel
from geoapp.web.contract.responses import ZoneProperties

ITEMS = "/api/collections/flood_zones/items"


@pytest.fixture()
def document(client) -> dict[str, Any]:
    return client.get("/api/openapi.json").get_json()


def validator(document: dict[str, Any], component: str) -> OAS30Validator:
    """A validator of one component schema, its references resolved in the document."""
    schema = {"components": document["components"],
              "$ref": f"#/components/schemas/{component}"}
    return OAS30Validator(schema)


def errors(document: dict[str, Any], component: str, body: Any) -> list[str]:
    return [error.message for error in validator(document, component).iter_errors(body)]


@pytest.fixture()
def zone_feature(client, make_zone) -> dict[str, Any]:
    """A zone as the API serves it, with every property set."""
    zone = make_zone(box(-74.1, 40.0, -74.09, 40.01), fld_zone="AO", zone_subty="FLOODWAY",
                     static_bfe=9.5, v_datum="NAVD88", len_unit="Feet", depth=2.0,
                     velocity=1.5, vel_unit="Feet per Second", dfirm_id="34017C",
                     fld_ar_id="34017C_1", attributes={"NOTE": "kept"})
    response = client.get(f"{ITEMS}/{zone.id}")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_30(document) -> None:
    assert document["openapi"].startswith("3.0.")
    validate(document)


def test_a_served_zone_matches_the_declared_feature(document, zone_feature) -> None:
    assert set(zone_feature["properties"]) == set(PROPERTIES)
    assert errors(document, "ZoneFeature", zone_feature) == []


@pytest.mark.parametrize("change", ["rename", "retype", "remove_type", "add"])
def test_a_changed_zone_breaks_the_declared_feature(document, zone_feature, change) -> None:
    """What the fuzz tests' response check relies on: the schema tells a changed zone."""
    changed = copy.deepcopy(zone_feature)
    properties = changed["properties"]
    if change == "rename":
        properties["flood_zone"] = properties.pop("fld_zone")
    elif change == "retype":
        properties["static_bfe"] = str(properties["static_bfe"])
    elif change == "remove_type":
        del changed["type"]
    else:
        changed["extra"] = 1
    assert errors(document, "ZoneFeature", changed)


def test_the_zone_properties_are_declared_once(document) -> None:
    """The declared properties are the served ones, each typed (not just "object")."""
    assert tuple(ZoneProperties.model_fields) == PROPERTIES
    declared = document["components"]["schemas"]["ZoneProperties"]
    assert declared["additionalProperties"] is False
    assert declared["properties"]["static_bfe"]["type"] == "number"
    assert declared["properties"]["sfha_tf"]["type"] == "boolean"
    assert declared["properties"]["effective_date"]["format"] == "date"


def test_a_page_of_zones_matches_the_declared_collection(client, document, zone_feature) -> None:
    page = client.get(f"{ITEMS}?limit=5").get_json()
    assert page["features"]
    assert errors(document, "ZoneFeatureCollection", page) == []


def test_a_point_report_matches_its_declaration(client, document, make_zone) -> None:
    make_zone(box(-74.1, 40.0, -74.09, 40.01), fld_zone="AE", static_bfe=8.0)
    report = client.get("/api/lookup?lon=-74.095&lat=40.005").get_json()
    assert report["zones"]
    assert errors(document, "PointReport", report) == []
    report["zones"][0]["bfe"] = "8"
    assert errors(document, "PointReport", report)


def test_every_api_route_is_declared(app, document) -> None:
    """A new route must be declared (its parameters and answers) to appear in the document."""
    undocumented = {"/api/openapi", "/api/openapi.json", "/api/docs"}
    declared = {(re.sub(r"\{[^}]+\}", "{}", path), method.upper())
                for path, methods in document["paths"].items() for method in methods}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in undocumented:
            continue
        path = re.sub(r"<[^>]+>", "{}", rule.rule.removeprefix("/api").rstrip("/") or "/")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in declared:
                missing.append(f"{method} {rule.rule}")
    assert not missing


def test_items_parameters_are_the_declared_ones(document) -> None:
    """Queryables and the standard parameters are declared once, in the items model."""
    operation = document["paths"]["/collections/{collectionId}/items"]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert set(QUERYABLES) <= names
    assert {"bbox", "bbox-crs", "limit", "offset", "datetime", "filter", "filter-lang",
            "sortby", "properties", "skipGeometry", "crs", "f"} <= names
    assert names == {info.alias or name for name, info in ItemsQueryModel.model_fields.items()}


@pytest.mark.parametrize(("url", "message"), [
    ("/api/lookup?lat=40", "parameter 'lon' is required"),
    ("/api/lookup?lon=-74&lat=91", "parameter 'lat' must be between -90 and 90, got 91"),
    ("/api/lookup?lon=-74&lat=40&as_of=soon", "parameter 'as_of' must be a date"),
    (f"{ITEMS}?limit=0", "parameter 'limit' must be between 1"),
    (f"{ITEMS}?bbox-crs=EPSG:9999&bbox=1,2,3,4", "parameter 'bbox-crs': unsupported CRS"),
    (f"{ITEMS}?sfha=maybe", "parameter 'sfha' must be true or false"),
    (f"{ITEMS}?filter-lang=sql", "parameter 'filter-lang' must be one of"),
    ("/api/geocode?q=x&limit=11", "parameter 'limit' must be between 1 and 10"),
    ("/api/collections/datasets/items?crs=EPSG:3857",
     "parameter 'crs': datasets are served in CRS84 only"),
    ("/api/collections/datasets/items?offset=-1", "parameter 'offset' must be between 0"),
])
def test_invalid_parameters_are_named(client, url, message) -> None:
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_parameter"
    assert body["message"].startswith(message)


@pytest.mark.parametrize(("url", "name"), [
    (f"{ITEMS}?fld_zon=AE", "fld_zon"),
    ("/api/collections/datasets/items?bbox=0,0,1,1", "bbox"),
    ("/api/collections/datasets/items/1?limit=5", "limit"),
])
def test_an_undeclared_items_parameter_is_refused(client, url, name) -> None:
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "unknown_parameter" and name in body["message"]


def test_docs_page_uses_only_local_assets(client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="swagger-ui"' in page
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert not [url for url in urls if re.match(r"(https?:)?//", url)]
    assets = [url for url in urls if url.startswith(("/vendor/", "/static/"))]
    assert any("swagger-ui-bundle.js" in url for url in assets)
    assert any("api-docs.js" in url for url in assets)
    for url in assets:
        with client.get(url) as asset:
            assert asset.status_code == 200, url
