"""Bad input of every kind found by the penetration test is a 4xx naming the parameter.

Each case was a 500 (or a 200 cut off mid-body) on a real server before its fix.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from shapely.geometry import box
from werkzeug.datastructures import MultiDict

ITEMS = "/api/collections/flood_zones/items"
DEEP = 100_000
DEEP_ARRAY = "[" * DEEP + "]" * DEEP
DEEP_OBJECT = '{"a":' * DEEP + "1" + "}" * DEEP
HUGE = "9" * 400  # a 400-digit number


@pytest.fixture()
def zones(make_dataset, make_zone) -> None:
    dataset = make_dataset(name="Input FIRM")
    for i in range(3):
        make_zone(box(i * 0.01, 0, i * 0.01 + 0.01, 0.01), dataset=dataset, static_bfe=float(i))


@pytest.fixture()
def analyst(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}"}


def assert_refused(response: Any, status: int, *names: str) -> dict[str, Any]:
    """A JSON error with this status whose message names each of ``names``."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error", "message"}
    for name in names:
        assert name in body["message"], body
    return body


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        (f"{ITEMS}?limit=²", 400, "'limit'"),
        (f"{ITEMS}?offset=²", 400, "'offset'"),
        (f"{ITEMS}?precision=²", 400, "'precision'"),
        (f"{ITEMS}?limit=٣", 400, "'limit'"),  # an Arabic-Indic three
        (f"{ITEMS}?dataset_id=²", 400, "'dataset_id'"),
        (f"{ITEMS}?dataset_id=1,²", 400, "'dataset_id'"),
        (f"{ITEMS}/²", 404, "'²'"),
        ("/api/collections/datasets/items/²", 404, "'²'"),
        ("/api/lookup?lon=0.005&lat=0.005&dataset=²", 400, "'dataset'"),
        ("/api/lookup?lon=0.005&lat=0.005&dataset=99999999999999999999", 400, "'dataset'"),
        (f"{ITEMS}?dataset=99999999999999999999", 400, "'dataset'"),
        (f"{ITEMS}?dataset_id=99999999999999999999", 400, "'dataset_id'"),
        (f"{ITEMS}/99999999999999999999", 404, "99999999999999999999"),
        ("/api/datasets/99999999999999999999", 404, ""),
        ("/api/collections/flood_zones/tiles/WebMercatorQuad/99999999999999999999/0/0", 404, ""),
    ],
)
def test_unicode_and_oversized_integers_are_refused(client, zones, path, status, named) -> None:
    assert_refused(client.get(path), status, named)


@pytest.mark.parametrize("path", [f"{ITEMS}?limit=1&limit=5",
                                  "/api/lookup?lon=0&lat=0&lat=1",
                                  "/api/collections?f=json&f=html"])
def test_repeated_parameters_are_refused(client, zones, path) -> None:
    name = path.rsplit("&", 1)[1].split("=")[0]
    assert_refused(client.get(path), 400, f"'{name}'", "2 times")


def test_a_dataset_name_of_unicode_digits_filters_to_nothing(client, zones) -> None:
    response = client.get(f"{ITEMS}?dataset=²")
    assert response.status_code == 200
    assert response.get_json()["features"] == []


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_unicode_digits_in_written_item_ids(client, zones, analyst, method) -> None:
    body = {"type": "Feature", "geometry": None, "properties": {"fld_zone": "X"}}
    response = getattr(client, method)(f"{ITEMS}/²", json=body, headers=analyst)
    assert_refused(response, 404, "'²'")


@pytest.mark.parametrize(
    ("cql", "named"),
    [
        ("static_bfe='abc'", "static_bfe"),
        ("static_bfe>'1'", "static_bfe"),
        ("effective_date='abc'", "effective_date"),
        ("sfha_tf='maybe'", "sfha_tf"),
        ("fld_zone=5", "fld_zone"),
        ("fld_zone=TRUE", "fld_zone"),
        ("dataset_id=1.5", "dataset_id"),
        ("dataset_id=99999999999999999999", "dataset_id"),
        ("static_bfe=fld_zone", "static_bfe"),
        ("static_bfe LIKE 'a%'", "static_bfe"),
        ("fld_zone IN ('AE', 5)", "fld_zone"),
        ("static_bfe BETWEEN 'a' AND 'b'", "static_bfe"),
        ("effective_date > TIMESTAMP('2020-01-01T00:00:00Z') AND fld_zone=DATE('2020-01-01')",
         "fld_zone"),
        ("5 IS NULL", "property"),
        ("'a' LIKE 'b'", "property"),
        ("S_INTERSECTS(geometry,BBOX('a','b','c','d'))", "BBOX"),
        ("S_INTERSECTS(geometry,BBOX(0,0,1))", "BBOX"),
        ("S_INTERSECTS(geometry,BBOX(0,0,500,1))", "BBOX"),
        ("BBOX(geometry, 0, 0, 1, 1, 'EPSG:3857')", "BBOX"),
        ("S_INTERSECTS(geometry, POINT(1 1e999))", "finite"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "invalid geometry"),
    ],
)
def test_cql2_text_literals_of_the_wrong_type(client, zones, cql, named) -> None:
    response = client.get(ITEMS, query_string={"filter": cql})
    body = assert_refused(response, 400, "'filter'", named)
    assert body["error"] == "invalid_parameter"


@pytest.mark.parametrize(
    ("cql", "named"),
    [
        ({"op": "=", "args": [{"property": "static_bfe"}, "abc"]}, "static_bfe"),
        ({"op": "=", "args": [{"property": "sfha_tf"}, "maybe"]}, "sfha_tf"),
        ({"op": "=", "args": [{"property": "fld_zone"}, 5]}, "fld_zone"),
        ({"op": "=", "args": [{"property": "effective_date"}, {"date": "abc"}]}, "filter"),
        ({"op": "s_intersects",
          "args": [{"property": "geometry"}, {"bbox": ["a", "b", "c", "d"]}]}, "filter"),
        ({"op": "nonsense", "args": []}, "filter"),
        ({"op": "in", "args": [{"property": "fld_zone"}, 5]}, "IN"),
        ({"op": "=", "args": [{"property": ["a"]}, 1]}, "unknown property"),
        ({"op": "s_intersects", "args": [{"property": "geometry"},
                                         {"type": "GeometryCollection", "coordinates": []}]},
         "geometry"),
        ([1, 2, 3], "filter"),
    ],
)
def test_cql2_json_literals_of_the_wrong_type(client, zones, cql, named) -> None:
    response = client.get(ITEMS, query_string={"filter": json.dumps(cql),
                                               "filter-lang": "cql2-json"})
    assert_refused(response, 400, "'filter'", named)


def test_cql2_json_filter_works(client, zones) -> None:
    cql = {"op": "and", "args": [{"op": ">=", "args": [{"property": "static_bfe"}, 1]},
                                 {"op": "=", "args": [{"property": "sfha_tf"}, True]}]}
    response = client.get(ITEMS, query_string={"filter": json.dumps(cql),
                                               "filter-lang": "cql2-json"})
    assert response.status_code == 200
    assert sorted(f["properties"]["static_bfe"] for f in response.get_json()["features"]) == [
        1.0, 2.0]


def test_cql2_text_with_well_typed_literals_still_filters(client, zones) -> None:
    cql = ("static_bfe >= 1 AND sfha_tf = TRUE AND fld_zone IN ('AE') AND dataset_id > 0 "
           "AND effective_date IS NULL AND S_INTERSECTS(geometry, BBOX(0.015, 0, 0.03, 0.01))")
    response = client.get(ITEMS, query_string={"filter": cql})
    assert response.status_code == 200
    assert sorted(f["properties"]["static_bfe"] for f in response.get_json()["features"]) == [
        1.0, 2.0]


def test_a_huge_offset_is_refused_before_streaming(client, zones) -> None:
    response = client.get(f"{ITEMS}?offset=99999999999999999999")
    assert_refused(response, 400, "'offset'")


def test_the_largest_offset_streams_a_complete_page(client, zones) -> None:
    response = client.get(f"{ITEMS}?offset=2147483647&limit=10000")
    assert response.status_code == 200
    body = json.loads(response.get_data(as_text=True))  # the whole body, not a cut-off one
    assert body["features"] == [] and body["numberReturned"] == 0


@pytest.mark.parametrize("lat", ["-90", "90", "89.9"])
def test_report_near_a_pole_is_refused(client, zones, lat) -> None:
    response = client.get(f"/report?lon=0&lat={lat}", headers={"Accept": "application/json"})
    assert_refused(response, 400, "'lat'")


@pytest.mark.parametrize(("lon", "lat"), [("-180", "0"), ("180", "0"), ("0", "85.05"),
                                          ("0", "-85.05")])
def test_report_at_the_edges_of_its_map(client, zones, lon, lat) -> None:
    assert client.get(f"/report?lon={lon}&lat={lat}").status_code == 200


@pytest.mark.parametrize(("lon", "lat"), [("0", "90"), ("0", "-90"), ("180", "0"),
                                          ("-180", "0"), ("180", "90"), ("-180", "-90")])
def test_lookup_at_the_edges_of_the_world(client, zones, lon, lat) -> None:
    response = client.get(f"/api/lookup?lon={lon}&lat={lat}")
    assert response.status_code == 200
    assert response.get_json()["status"] == "unmapped"


def test_pdf_report_on_the_antimeridian(client, zones) -> None:
    response = client.get("/report?lon=180&lat=0&format=pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


def batch_point(lon: Any, lat: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {}}


@pytest.mark.parametrize(("lon", "lat", "named"), [
    (int(HUGE), 0.005, "'lon'"), (0.005, -int(HUGE), "'lat'"), (HUGE, 0.005, "'lon'"),
    (float("1e308") * 10, 0.005, "'lon'"),
])
def test_batch_geojson_row_with_a_400_digit_coordinate(client, zones, analyst, lon, lat,
                                                       named) -> None:
    body = {"type": "FeatureCollection",
            "features": [batch_point(0.005, 0.005), batch_point(lon, lat)]}
    text = json.dumps(body)  # Python writes inf as Infinity, which the JSON parser reads back
    response = client.post("/api/lookup/batch", data=text, headers=analyst,
                           content_type="application/geo+json")
    assert response.status_code == 200
    good, bad = response.get_json()["results"]
    assert good["status"] == "high_risk" and good.get("error") is None
    assert named in bad["error"]


@pytest.mark.parametrize("cell", [HUGE, f"-{HUGE}.5", f"1e{HUGE}"])
def test_batch_csv_row_with_a_400_digit_coordinate(client, zones, analyst, cell) -> None:
    text = f"id,lon,lat\na,0.005,0.005\nb,{cell},0.005\n"
    response = client.post("/api/lookup/batch", data=text, headers=analyst,
                           content_type="text/csv")
    assert response.status_code == 200
    good, bad = response.get_json()["results"]
    assert good["status"] == "high_risk"
    assert "'lon'" in bad["error"]


SQUARE = [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]]


def zone_feature(dataset_id: int, geometry: str | None = None, **properties: str) -> str:
    """A zone Feature as JSON text, with raw JSON texts for some values."""
    props = "".join(f', "{key}": {value}' for key, value in properties.items())
    geometry = geometry or json.dumps({"type": "Polygon", "coordinates": SQUARE})
    return (f'{{"type": "Feature", "geometry": {geometry}, '
            f'"properties": {{"fld_zone": "AE", "dataset_id": {dataset_id}{props}}}}}')


HUGE_RING = f'{{"type": "Polygon", "coordinates": [[[0, 0], [{HUGE}, 0], [1, 1], [0, 0]]]}}'


@pytest.mark.parametrize(("geometry", "properties", "named"), [
    (None, {"static_bfe": HUGE}, None),
    (None, {"depth": f"-{HUGE}"}, None),
    (HUGE_RING, {}, "finite"),
    (None, {"NOTE": '"\\ud800"'}, "surrogate"),
    (None, {"\\udfff": "1"}, "surrogate"),
    (None, {"NOTE": '[{"deep": ["a\\u0000b"]}]'}, "NUL"),
    (None, {"\\u0000": "1"}, "NUL"),
])
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_zone_writes_with_huge_numbers_and_lone_surrogates(client, session, zones, analyst,
                                                           method, geometry, properties,
                                                           named) -> None:
    zone_id = client.get(f"{ITEMS}?limit=1").get_json()["features"][0]["id"]
    dataset_id = client.get(f"{ITEMS}/{zone_id}").get_json()["properties"]["dataset_id"]
    path = ITEMS if method == "post" else f"{ITEMS}/{zone_id}"
    body = zone_feature(dataset_id, geometry, **properties)
    response = getattr(client, method)(path, data=body, headers=analyst,
                                       content_type="application/geo+json")
    if named is None:  # a BFE no float holds is no BFE: stored as null, like -9999
        assert response.status_code in (200, 201), response.get_json()
    else:
        assert_refused(response, 400, named)


@pytest.mark.parametrize("body", [HUGE_RING, HUGE_RING.replace(HUGE, "1e400"),
                                  f'{{"type": "Feature", "geometry": {HUGE_RING}}}'])
def test_area_with_a_400_digit_coordinate(client, zones, body) -> None:
    response = client.post("/api/lookup/area", data=body, content_type="application/json")
    assert_refused(response, 400, "finite")


def test_batch_csv_with_a_field_over_the_csv_limit(client, zones, analyst) -> None:
    text = "id,lon,lat\na,0.005,0.005\nb," + "1" * 200_000 + ",0.005\n"
    response = client.post("/api/lookup/batch", data=text, headers=analyst,
                           content_type="text/csv")
    body = assert_refused(response, 400, "line 3", "field limit")
    assert body["error"] == "invalid_csv"


JSON_ROUTES = [
    ("post", "/api/lookup/batch", "application/geo+json"),
    ("post", "/api/lookup/batch", "application/json"),
    ("post", "/api/lookup/area", "application/json"),
    ("post", ITEMS, "application/geo+json"),
    ("put", f"{ITEMS}/1", "application/geo+json"),
    ("patch", f"{ITEMS}/1", "application/merge-patch+json"),
    ("post", "/api/tokens", "application/json"),
]


@pytest.mark.parametrize("text", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize(("method", "path", "media"), JSON_ROUTES)
def test_deeply_nested_json_bodies_are_refused(client, zones, analyst, method, path, media,
                                               text) -> None:
    response = getattr(client, method)(path, data=text, content_type=media, headers=analyst)
    body = assert_refused(response, 400, "nested too deeply")
    assert body["error"] == "invalid_json"


def test_json_nested_within_the_recursion_limit_is_refused_too(client, zones, analyst) -> None:
    feature = {"type": "Feature", "geometry": None,
               "properties": {"fld_zone": "AE", "NOTE": json.loads("[" * 900 + "]" * 900)}}
    text = json.dumps(feature)
    response = client.post(ITEMS, data=text, content_type="application/geo+json",
                           headers=analyst)
    assert_refused(response, 400, "nested too deeply")


# Form fields are at most 500 kB (Werkzeug's limit): 10,000 levels still overflow the parser.
@pytest.mark.parametrize("field_map", ["[" * 10_000 + "]" * 10_000,
                                       '{"a":' * 10_000 + "1" + "}" * 10_000],
                         ids=["array", "object"])
def test_deeply_nested_field_map_is_refused(client: FlaskClient, analyst, field_map) -> None:
    form = {"name": "deep", "field_map": field_map,
            "file": (io.BytesIO(b"{}"), "zones.geojson")}
    response = client.post("/api/datasets", data=form, headers=analyst,
                           content_type="multipart/form-data")
    assert_refused(response, 400, "nested too deeply")


@pytest.mark.parametrize("field_map", ["null", "[]", "0", "not json"])
def test_a_field_map_that_is_no_object_is_refused(client, analyst, field_map) -> None:
    form = {"name": "no map", "field_map": field_map,
            "file": (io.BytesIO(b"{}"), "zones.geojson")}
    response = client.post("/api/datasets", data=form, headers=analyst,
                           content_type="multipart/form-data")
    assert_refused(response, 400, "field_map")


def test_repeated_import_fields_are_refused(client, analyst) -> None:
    form = MultiDict([("name", "once"), ("source_crs", "EPSG:4326"), ("source_crs", "EPSG:3857"),
                      ("file", (io.BytesIO(b"{}"), "z.geojson"))])
    response = client.post("/api/datasets", data=form, headers=analyst,
                           content_type="multipart/form-data")
    assert_refused(response, 400, "'source_crs'", "2 times")


@pytest.mark.parametrize("field", ["name", "encoding", "layer", "source_crs"])
def test_nul_characters_in_import_fields_are_refused(client, analyst, field) -> None:
    form = {"name": "nul", field: "a\x00b",
            "file": (io.BytesIO(b'{"type": "FeatureCollection", "features": []}'), "z.geojson")}
    response = client.post("/api/datasets", data=form, headers=analyst,
                           content_type="multipart/form-data")
    assert_refused(response, 400, field, "NUL")


@pytest.mark.parametrize(("path", "named"), [
    ("/api/collections/datasets/items?limit=abc", "'limit'"),
    ("/api/collections/datasets/items?offset=²", "'offset'"),
    ("/api/collections/datasets/items?crs=EPSG:3857", "'crs'"),
    ("/api/collections/datasets/items/1?crs=true", "'crs'"),
    ("/api/collections/datasets/items/1?bbox=1,2,3,4", "bbox"),
])
def test_datasets_collection_checks_its_parameters(client, zones, path, named) -> None:
    assert_refused(client.get(path), 400, named)


@pytest.mark.parametrize("body", [b'{"name": "a\\u0000b"}', b"\x00\xff random", b"[1, 2]",
                                  b'{"name": 5}', b'"x"'])
def test_a_token_request_that_is_no_object_is_refused(client, analyst, body) -> None:
    response = client.post("/api/tokens", data=body, content_type="application/json",
                           headers=analyst)
    assert response.status_code == 400
    assert response.get_json()["error"] in {"invalid_json", "invalid_parameter"}


def test_deeply_nested_cql2_json_is_refused(client, zones) -> None:
    response = client.get(ITEMS, query_string={"filter": "[" * 2000 + "]" * 2000,
                                               "filter-lang": "cql2-json"})
    assert_refused(response, 400, "'filter'")
