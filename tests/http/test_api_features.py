"""OGC API - Features read side through the test client."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from shapely.geometry import Point, box
from sqlalchemy import text

ITEMS = "/api/collections/flood_zones/items"


@pytest.fixture()
def grid(make_dataset, make_zone, analyzed):
    """25 zones in a row, alternating AE (BFE 8+i) and X, in one dataset."""
    dataset = make_dataset(name="Grid FIRM", effective_date=dt.date(2020, 1, 1))
    zones = []
    for i in range(25):
        kwargs = (
            {"fld_zone": "AE", "static_bfe": 8.0 + i, "v_datum": "NAVD88"}
            if i % 2
            else {"fld_zone": "X", "sfha_tf": False, "zone_subty": "AREA OF MINIMAL FLOOD HAZARD"}
        )
        zones.append(
            make_zone(
                box(-74.1 + i * 0.01, 40.0, -74.09 + i * 0.01, 40.01),
                dataset=dataset,
                attributes={"NOTE": f"n{i}"},
                **kwargs,
            )
        )
    analyzed()  # numberMatched follows the planner's estimate
    return zones


def test_landing_conformance_and_collections(client) -> None:
    landing = client.get("/api/").get_json()
    rels = {item["rel"] for item in landing["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    conformance = client.get("/api/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    collections = client.get("/api/collections").get_json()["collections"]
    assert [c["id"] for c in collections][:2] == ["flood_zones", "datasets"]


def test_collection_extent_follows_the_data(client, grid) -> None:
    body = client.get("/api/collections/flood_zones").get_json()
    assert body["extent"]["spatial"]["bbox"][0] == pytest.approx([-74.1, 40.0, -73.85, 40.01])
    assert body["extent"]["temporal"]["interval"][0][0] == "2020-01-01"
    assert client.get("/api/collections/nope").status_code == 404
    assert client.get("/api/collections/nope/items").status_code == 404
    assert client.get("/api/collections/nope/items/1").get_json()["error"] == "not_found"


def test_paging_walks_every_feature_once(client, grid) -> None:
    seen, url, pages = [], f"{ITEMS}?limit=10", 0
    while url:
        body = client.get(url).get_json()
        seen += [feature["id"] for feature in body["features"]]
        assert body["numberReturned"] == len(body["features"])
        assert body["numberMatched"] == 25
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(zone.id for zone in grid)
    last = client.get(f"{ITEMS}?limit=10&offset=20").get_json()
    assert any(link["rel"] == "prev" for link in last["links"])


def test_features_carry_attributes_and_null_not_sentinels(client, grid) -> None:
    feature = client.get(f"{ITEMS}/{grid[1].id}").get_json()
    props = feature["properties"]
    assert props["fld_zone"] == "AE" and props["static_bfe"] == 9.0
    assert props["risk_status"] == "high_risk" and props["dataset"] == "Grid FIRM"
    assert props["attributes"] == {"NOTE": "n1"}
    x = client.get(f"{ITEMS}/{grid[0].id}").get_json()["properties"]
    assert x["static_bfe"] is None


def test_property_filters_and_aliases(client, grid) -> None:
    ae = client.get(f"{ITEMS}?fld_zone=AE&limit=100").get_json()
    assert len(ae["features"]) == 12
    assert {f["properties"]["fld_zone"] for f in ae["features"]} == {"AE"}
    sfha = client.get(f"{ITEMS}?sfha=false").get_json()
    assert len(sfha["features"]) == 13
    both = client.get(f"{ITEMS}?fld_zone=AE,X").get_json()
    assert len(both["features"]) == 25
    assert client.get(f"{ITEMS}?dataset=Grid%20FIRM").get_json()["numberMatched"] == 25
    assert client.get(f"{ITEMS}?dataset=Other").get_json()["features"] == []


def test_bbox_filter_matches_postgis(client, grid) -> None:
    body = client.get(f"{ITEMS}?bbox=-74.075,40.002,-74.055,40.004").get_json()
    # Zones 2..4 span lon -74.08..-74.05 and touch the box; zone 5 starts at -74.05.
    assert sorted(f["id"] for f in body["features"]) == [grid[i].id for i in (2, 3, 4)]
    lat_first = client.get(
        f"{ITEMS}?bbox=40.002,-74.075,40.004,-74.055"
        "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326"
    ).get_json()
    assert sorted(f["id"] for f in lat_first["features"]) == [grid[i].id for i in (2, 3, 4)]
    mercator = client.get(f"{ITEMS}?bbox=-8246300,4866000,-8244000,4866500&bbox-crs=EPSG:3857")
    assert mercator.status_code == 200 and mercator.get_json()["features"]


def test_output_crs_axis_order_and_header(client, grid) -> None:
    response = client.get(f"{ITEMS}/{grid[0].id}?crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    assert response.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    first = response.get_json()["geometry"]["coordinates"][0][0][0]
    assert first[0] == pytest.approx(40.0, abs=0.02) and first[1] < -74  # lat, lon
    mercator = client.get(f"{ITEMS}/{grid[0].id}?crs=EPSG:3857").get_json()
    x, y = mercator["geometry"]["coordinates"][0][0][0]
    assert x == pytest.approx(-8249000, abs=2000) and y == pytest.approx(4865000, abs=2000)
    default = client.get(f"{ITEMS}?limit=1")
    assert default.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_sortby_properties_skip_geometry_precision(client, grid) -> None:
    body = client.get(
        f"{ITEMS}?fld_zone=AE&sortby=-static_bfe&limit=3"
        "&properties=fld_zone,static_bfe&skipGeometry=true"
    ).get_json()
    assert [f["properties"]["static_bfe"] for f in body["features"]] == [31.0, 29.0, 27.0]
    assert all(f["geometry"] is None for f in body["features"])
    assert set(body["features"][0]["properties"]) == {"fld_zone", "static_bfe"}
    # Zones without a BFE come last, whichever the direction.
    every = client.get(f"{ITEMS}?sortby=-static_bfe&limit=25&skipGeometry=true").get_json()
    bfes = [f["properties"]["static_bfe"] for f in every["features"]]
    assert bfes[0] == 31.0 and bfes[-1] is None and bfes.index(None) == 12
    coarse = client.get(f"{ITEMS}/{grid[0].id}?precision=1").get_json()
    assert all(round(v, 1) == v for v in coarse["geometry"]["coordinates"][0][0][0])


def test_datetime_filters_on_effective_date(client, grid, make_dataset, make_zone) -> None:
    make_zone(box(0, 0, 1, 1), dataset=make_dataset(effective_date=dt.date(2024, 5, 1)))
    assert client.get(f"{ITEMS}?datetime=2020-01-01").get_json()["numberMatched"] == 25
    assert client.get(f"{ITEMS}?datetime=2021-01-01/..").get_json()["numberMatched"] == 1
    assert client.get(f"{ITEMS}?datetime=../2022-01-01").get_json()["numberMatched"] == 25


def test_cql2_filters(client, grid) -> None:
    def ids(expression: str) -> list[int]:
        response = client.get(ITEMS, query_string={"filter": expression, "limit": 100})
        assert response.status_code == 200, response.get_json()
        return sorted(f["id"] for f in response.get_json()["features"])

    assert len(ids("fld_zone = 'AE' AND static_bfe > 20")) == 6
    assert len(ids("fld_zone = 'X' OR static_bfe = 9")) == 14
    assert len(ids("static_bfe BETWEEN 9 AND 13")) == 3
    assert len(ids("zone_subty LIKE 'AREA OF%'")) == 13
    assert len(ids("static_bfe IS NULL")) == 13
    assert len(ids("fld_zone IN ('AE')")) == 12
    assert ids("S_INTERSECTS(geometry, BBOX(-74.075, 40.002, -74.055, 40.004))") == [
        grid[i].id for i in (2, 3, 4)
    ]
    assert ids("S_INTERSECTS(geometry, POINT(-74.095 40.005))") == [grid[0].id]


@pytest.fixture()
def rings(make_dataset, make_zone):
    """Two large zones (rings of 1,028 vertices, cut into many pieces) and a small one in the
    hole of the first: boxes may hold a whole ring, cross it, or sit in its hole."""
    dataset = make_dataset(name="Rings FIRM")
    ring = Point(-74.0, 40.0).buffer(0.05, 256).difference(Point(-74.0, 40.0).buffer(0.03, 256))
    other = Point(-73.8, 40.0).buffer(0.02, 256).difference(Point(-73.8, 40.0).buffer(0.01, 256))
    return {
        "ring": make_zone(ring, dataset=dataset),
        "other": make_zone(other, dataset=dataset, fld_zone="X", sfha_tf=False),
        "islet": make_zone(box(-74.005, 39.995, -74.0, 40.0), dataset=dataset, fld_zone="A"),
    }


def test_bbox_and_spatial_filters_on_large_zones_match_postgis(client, session, rings) -> None:
    def api_ids(query: str) -> list[int]:
        response = client.get(f"{ITEMS}?{query}&dataset=Rings%20FIRM&limit=100")
        assert response.status_code == 200, response.get_json()
        return sorted(f["id"] for f in response.get_json()["features"])

    def postgis_ids(wkt: str) -> list[int]:
        return sorted(session.execute(text(
            "SELECT id FROM flood_zones WHERE ST_Intersects(geom, ST_GeomFromText(:wkt, 4326)) "
            "AND id = ANY(:ids)"), {"wkt": wkt, "ids": [z.id for z in rings.values()]}).scalars())

    ring, other, islet = rings["ring"].id, rings["other"].id, rings["islet"].id
    # In the hole: the ring's bounding box holds the box, its pieces do not.
    assert api_ids("bbox=-74.01,39.99,-73.99,40.01") == [islet]
    # Across the ring; around all of it (the box holds its bounding box); around both rings.
    assert api_ids("bbox=-74.06,39.99,-74.04,40.0") == [ring]
    assert api_ids("bbox=-74.06,39.94,-73.94,40.06") == sorted([ring, islet])
    assert api_ids("bbox=-74.1,39.9,-73.7,40.1") == sorted([ring, other, islet])
    # A box in Web Mercator, reprojected: still only what PostGIS says.
    assert api_ids("bbox=-8238500,4865000,-8237000,4866500&bbox-crs=EPSG:3857") == [islet]
    rng = random.Random(5)
    for _ in range(40):
        x, y, size = rng.uniform(-74.07, -73.75), rng.uniform(39.93, 40.05), rng.uniform(0, 0.05)
        shape = box(x, y, x + size, y + size)
        assert api_ids(f"bbox={x},{y},{x + size},{y + size}") == postgis_ids(shape.wkt), shape
    # A shape that is no box: a triangle in the ring's hole whose bounding box crosses it.
    triangle = "POLYGON((-74.02 39.98, -73.96 40.0, -74.02 40.02, -74.02 39.98))"
    assert api_ids(f"filter=S_INTERSECTS(geometry, {triangle})") == postgis_ids(triangle)
    assert postgis_ids(triangle) == sorted([ring, islet])
    # Two squares at opposite corners: their bounding box holds the ring, they miss it.
    corners = ("MULTIPOLYGON(((-74.1 39.9, -74.09 39.9, -74.09 39.91, -74.1 39.91, -74.1 39.9)),"
               "((-73.91 40.09, -73.9 40.09, -73.9 40.1, -73.91 40.1, -73.91 40.09)))")
    assert api_ids(f"filter=S_INTERSECTS(geometry, {corners})") == []


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("bogus=1", "unknown parameter"),
        ("bbox=1,2,3", "4 numbers"),
        ("bbox=1,2,3,4,5", "4 numbers"),
        ("bbox=5,0,1,1", "must not exceed"),
        ("bbox=a,b,c,d", "must be a number"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("crs=EPSG:9999", "unsupported CRS"),
        ("bbox-crs=EPSG:27700&bbox=1,2,3,4", "unsupported CRS"),
        ("sortby=nonsense", "sortby"),
        ("properties=secret", "properties"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2020-01-02/2020-01-01", "ends before"),
        ("filter=fld_zone ==", "cannot parse"),
        ("filter=password = 'x'", "unknown property"),
        ("static_bfe=high", "number"),
        ("sfha=maybe", "true or false"),
        ("filter-lang=cql2-json&filter=x", "cql2-text"),
        ("precision=99", "precision"),
    ],
)
def test_bad_parameters_are_named(client, query: str, fragment: str) -> None:
    response = client.get(f"{ITEMS}?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] in {"invalid_parameter", "unknown_parameter"}
    assert fragment in body["message"]


def test_limit_above_the_maximum_is_served_at_the_maximum(app, client, grid, monkeypatch):
    monkeypatch.setitem(app.config, "GEOAPP_ITEMS_MAX_LIMIT", 5)
    body = client.get(f"{ITEMS}?limit=50").get_json()
    assert body["numberReturned"] == 5
    assert any("limit=5" in link["href"] for link in body["links"] if link["rel"] == "next")


def test_missing_item_is_404(client, grid) -> None:
    assert client.get(f"{ITEMS}/999999").status_code == 404
    assert client.get(f"{ITEMS}/abc").get_json()["error"] == "not_found"


def test_etag_changes_with_the_data(client, grid, session) -> None:
    first = client.get(f"{ITEMS}?limit=5")
    assert first.get_json()["numberReturned"] == 5  # (reads the streamed body to the end)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = client.get(f"{ITEMS}?limit=5", headers={"If-None-Match": etag})
    assert again.status_code == 304
    grid[0].static_bfe = 1.0
    session.commit()
    after = client.get(f"{ITEMS}?limit=5", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert after.get_json()["numberReturned"] == 5


def test_a_single_items_etag_and_time_come_with_it_and_change_with_the_data(
        client, grid, session) -> None:
    page = client.get(f"{ITEMS}?limit=1")
    first = client.get(f"{ITEMS}/{grid[3].id}")
    # The feature's statement reads the data version: the same as the page's.
    assert first.headers["ETag"].split("-")[0] == page.headers["ETag"].split("-")[0]
    assert first.headers["Last-Modified"] == page.headers["Last-Modified"]
    etag = first.headers["ETag"]
    again = client.get(f"{ITEMS}/{grid[3].id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    grid[3].static_bfe = 2.5
    session.commit()
    after = client.get(f"{ITEMS}/{grid[3].id}", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert after.get_json()["properties"]["static_bfe"] == 2.5


def test_etag_changes_when_a_dataset_is_retired(client, grid, session) -> None:
    etag = client.get(f"{ITEMS}?limit=5").headers["ETag"]
    grid[0].dataset.status = "retired"  # no zone row changes, but the answer does
    session.commit()
    after = client.get(f"{ITEMS}?limit=5", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.get_json()["numberReturned"] == 0


def test_small_pages_are_sent_whole_and_larger_ones_streamed(client, grid) -> None:
    small = client.get(f"{ITEMS}?limit=5")
    assert int(small.headers["Content-Length"]) == len(small.data)
    larger = client.get(f"{ITEMS}?limit=101")
    assert "Content-Length" not in larger.headers
    assert [f["id"] for f in larger.get_json()["features"][:5]] == [
        f["id"] for f in small.get_json()["features"]]
    assert larger.get_json()["numberReturned"] == 25


def test_large_pages_are_gzipped(client, grid) -> None:
    response = client.get(f"{ITEMS}?limit=25", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"
    import gzip

    assert json.loads(gzip.decompress(response.data))["numberReturned"] == 25


def test_html_pages(client, grid) -> None:
    page = client.get(f"{ITEMS}?limit=3", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "items-map" in text and "Next" in text
    for url in [
        "/api/?f=html",
        "/api/collections?f=html",
        "/api/collections/flood_zones?f=html",
        f"{ITEMS}/{grid[0].id}?f=html",
        "/api/docs",
        "/api/collections/flood_zones/queryables?f=html",
        "/api/collections/datasets/items?f=html",
    ]:
        assert client.get(url).status_code == 200, url


def test_queryables_schema(client) -> None:
    response = client.get("/api/collections/flood_zones/queryables")
    assert response.mimetype == "application/schema+json"
    schema = response.get_json()
    assert schema["properties"]["static_bfe"]["type"] == "number"
    assert "geometry" in schema["properties"]


def test_datasets_collection(client, grid) -> None:
    body = client.get("/api/collections/datasets/items").get_json()
    [dataset] = [f for f in body["features"] if f["properties"]["name"] == "Grid FIRM"]
    assert dataset["properties"]["feature_count"] == 25
    assert dataset["geometry"]["type"] == "Polygon"
    one = client.get(f"/api/collections/datasets/items/{dataset['id']}").get_json()
    assert one["properties"]["effective_date"] == "2020-01-01"
