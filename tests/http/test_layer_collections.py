"""The package layers as read-only OGC API collections: panels, communities, LOMRs, BFE lines,
cross sections and CBRS units, against the real PostGIS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from openapi_schema_validator import OAS30Validator
from shapely.geometry import LineString, MultiLineString, MultiPolygon, box, shape

from geoapp.db.models import (
    BfeLine,
    CbrsUnit,
    CommunityInfo,
    CrossSection,
    Dataset,
    FirmPanel,
    Lomr,
    PoliticalArea,
)
from geoapp.ogc.collections import LAYER_COLLECTIONS, registry
from geoapp.ogc.layer_features import LAYERS
from geoapp.web.contract.responses import LAYER_ANSWERS

API = "/api/collections"
PANELS = f"{API}/firm_panels/items"
BFE = f"{API}/bfe_lines/items"
COMMUNITIES = f"{API}/communities/items"
LAYER_IDS = ["firm_panels", "communities", "lomrs", "bfe_lines", "cross_sections", "cbrs_units"]


def as_multi(geometry: Any) -> Any:
    if geometry.geom_type == "Polygon":
        return MultiPolygon([geometry])
    if geometry.geom_type == "LineString":
        return MultiLineString([geometry])
    return geometry


@pytest.fixture()
def make_row(session) -> Callable[..., Any]:
    """Factory: a row of a package layer from a shapely geometry (committed)."""

    def factory(model: Any, dataset: Dataset, geometry: Any = None, **values: Any) -> Any:
        if geometry is not None:
            values["geom"] = from_shape(as_multi(geometry), srid=4326)
        row = model(dataset_id=dataset.id, **values)
        session.add(row)
        session.commit()
        return row

    return factory


@pytest.fixture()
def panels(make_dataset, make_row) -> list[FirmPanel]:
    """A row of 7 panels 0.01 degrees wide, in one ready dataset."""
    dataset = make_dataset(name="Panel FIRM")
    return [make_row(FirmPanel, dataset, box(-74.1 + i * 0.01, 40.0, -74.09 + i * 0.01, 40.01),
                     dfirm_id="34025C", firm_pan=f"34025C04{50 + i}F", panel=f"04{50 + i}",
                     suffix="F", eff_date=dt.date(2018, 1, 3), attributes={"N": i})
            for i in range(7)]


def local(url: str) -> str:
    return url.replace("http://localhost", "")


def page_ids(body: dict[str, Any]) -> list[int]:
    return [feature["id"] for feature in body["features"]]


def link_of(body: dict[str, Any], rel: str) -> str | None:
    found = [item["href"] for item in body["links"] if item["rel"] == rel]
    return local(found[0]) if found else None


# --- the registry and the listing ----------------------------------------------------------


def test_the_collections_are_listed_after_the_zones_and_datasets(client) -> None:
    assert registry.ids() == ["flood_zones", "datasets", *LAYER_IDS]
    listed = client.get(API).get_json()["collections"]
    assert [c["id"] for c in listed] == ["flood_zones", "datasets", *LAYER_IDS]
    panels = next(c for c in listed if c["id"] == "firm_panels")
    assert panels["title"] == "FIRM panels" and panels["itemType"] == "feature"
    rels = {item["rel"] for item in panels["links"]}
    assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels
    one = client.get(f"{API}/bfe_lines").get_json()
    assert one["id"] == "bfe_lines" and one["storageCrs"].endswith("CRS84")


def test_a_layer_collection_reports_the_extent_of_its_features(client, panels, make_dataset,
                                                                  make_row) -> None:
    extent = client.get(f"{API}/firm_panels").get_json()["extent"]["spatial"]
    assert extent["bbox"] == [pytest.approx([-74.1, 40.0, -74.03, 40.01])]
    # A layer without features in scope says "anywhere", as the zones do with none.
    empty = client.get(f"{API}/lomrs").get_json()["extent"]["spatial"]["bbox"]
    assert empty == [[-180.0, -90.0, 180.0, 90.0]]
    # Features of a retired dataset are not in scope, so not in the extent.
    make_row(FirmPanel, make_dataset(name="Old FIRM", status="retired"), box(10, 10, 11, 11),
             firm_pan="34025C0001A")
    again = client.get(f"{API}/firm_panels").get_json()["extent"]["spatial"]["bbox"]
    assert again == [pytest.approx([-74.1, 40.0, -74.03, 40.01])]


def test_the_layer_collections_read_and_never_write() -> None:
    for collection in LAYER_COLLECTIONS:
        assert collection.layer is not None
        assert collection.can("items") and collection.can("item")
        assert collection.can("queryables")
        assert not collection.can("tiles") and not collection.can("transactions")


# --- pages: paging, bbox, filters -----------------------------------------------------------


def test_paging_walks_every_panel_once(client, panels) -> None:
    seen: list[int] = []
    url: str | None = f"{PANELS}?limit=3"
    pages = 0
    while url:
        body = client.get(url).get_json()
        assert body["type"] == "FeatureCollection"
        assert body["numberReturned"] == len(body["features"]) <= 3
        assert body["numberMatched"] == 7
        seen += page_ids(body)
        url = link_of(body, "next")
        pages += 1
    assert pages == 3
    assert seen == sorted(panel.id for panel in panels)
    last = client.get(f"{PANELS}?limit=3&offset=6").get_json()
    assert page_ids(last) == [panels[6].id]
    assert link_of(last, "prev").endswith("offset=3&f=json")
    assert link_of(last, "next") is None
    past = client.get(f"{PANELS}?limit=3&offset=50").get_json()
    assert past["features"] == [] and past["numberMatched"] == 7
    # A page of more than 100 features is streamed through a server-side cursor.
    streamed = client.get(f"{PANELS}?limit=150")
    assert streamed.is_streamed
    body = streamed.get_json()
    assert page_ids(body) == [panel.id for panel in panels] and body["numberMatched"] == 7


def test_a_feature_has_its_typed_columns_and_source_attributes(client, panels) -> None:
    response = client.get(f"{PANELS}?limit=1")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    feature = response.get_json()["features"][0]
    assert feature["properties"] == {
        "dfirm_id": "34025C", "firm_pan": "34025C0450F", "panel": "0450", "suffix": "F",
        "eff_date": "2018-01-03", "panel_typ": None, "pnp_reason": None,
        "dataset_id": panels[0].dataset_id, "attributes": {"N": 0},
    }
    assert shape(feature["geometry"]).equals(MultiPolygon([box(-74.1, 40.0, -74.09, 40.01)]))


def test_bbox_gives_the_panels_it_intersects(client, panels) -> None:
    query = box(-74.075, 40.002, -74.052, 40.004)
    expected = [panel.id for i, panel in enumerate(panels)
                if box(-74.1 + i * 0.01, 40.0, -74.09 + i * 0.01, 40.01).intersects(query)]
    assert len(expected) == 3
    body = client.get(f"{PANELS}?bbox=-74.075,40.002,-74.052,40.004").get_json()
    assert page_ids(body) == expected and body["numberMatched"] == 3
    for feature in body["features"]:
        assert shape(feature["geometry"]).intersects(query)
    # The same box in Web Mercator (bbox-crs), and latitude first in EPSG:4326.
    from pyproj import Transformer

    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True).transform
    (x1, x2), (y1, y2) = to_mercator([-74.075, -74.052], [40.002, 40.004])
    mercator = client.get(f"{PANELS}?bbox={x1},{y1},{x2},{y2}"
                          "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857").get_json()
    assert page_ids(mercator) == expected
    lat_first = client.get(f"{PANELS}?bbox=40.002,-74.075,40.004,-74.052"
                           "&bbox-crs=EPSG:4326").get_json()
    assert page_ids(lat_first) == expected
    assert client.get(f"{PANELS}?bbox=0,0,1,1").get_json()["features"] == []


def test_lines_in_a_bbox_are_the_ones_shapely_finds(client, make_dataset, make_row) -> None:
    dataset = make_dataset()
    lines = [LineString([(-74.05 + i * 0.002, 40.0), (-74.05 + i * 0.002, 40.01)])
             for i in range(10)]
    rows = [make_row(BfeLine, dataset, line, elev=5.0 + i, len_unit="Feet", v_datum="NAVD88")
            for i, line in enumerate(lines)]
    query = box(-74.0455, 40.004, -74.0335, 40.006)
    expected = [row.id for row, line in zip(rows, lines, strict=True) if line.intersects(query)]
    assert 0 < len(expected) < len(rows)
    body = client.get(f"{BFE}?bbox=-74.0455,40.004,-74.0335,40.006").get_json()
    assert page_ids(body) == expected
    assert {f["geometry"]["type"] for f in body["features"]} == {"MultiLineString"}


def test_property_filters_give_the_matching_rows(client, panels, make_dataset, make_row) -> None:
    other = make_dataset(name="Other FIRM")
    extra = make_row(FirmPanel, other, box(-74.1, 40.0, -74.09, 40.01), firm_pan="34025C0453F",
                     eff_date=dt.date(2009, 9, 25), panel_typ="Countywide, Panel Printed")
    by_number = client.get(f"{PANELS}?firm_pan=34025C0453F").get_json()
    assert page_ids(by_number) == [panels[3].id, extra.id]
    assert by_number["numberMatched"] == 2
    mine = client.get(f"{PANELS}?firm_pan=34025C0453F&dataset_id={other.id}").get_json()
    assert page_ids(mine) == [extra.id]
    assert page_ids(client.get(f"{PANELS}?dataset_id={other.id}").get_json()) == [extra.id]
    dated = client.get(f"{PANELS}?eff_date=2009-09-25").get_json()
    assert page_ids(dated) == [extra.id]
    boxed = client.get(f"{PANELS}?firm_pan=34025C0453F&bbox=-74.1,40,-74.095,40.01").get_json()
    assert page_ids(boxed) == [extra.id]  # panels[3] is east of the box
    assert client.get(f"{PANELS}?firm_pan=nothing").get_json()["features"] == []


def test_number_and_boolean_filters(client, make_dataset, make_row) -> None:
    dataset = make_dataset()
    line = LineString([(-74.05, 40.0), (-74.05, 40.01)])
    nine = make_row(BfeLine, dataset, line, elev=9.0, len_unit="Feet")
    make_row(BfeLine, dataset, line, elev=10.0, len_unit="Feet")
    assert page_ids(client.get(f"{BFE}?elev=9").get_json()) == [nine.id]
    outside = make_row(PoliticalArea, dataset, box(0, 0, 1, 1), cid="340999", ani_tf=True)
    make_row(PoliticalArea, dataset, box(1, 0, 2, 1), cid="340301", ani_tf=False)
    assert page_ids(client.get(f"{COMMUNITIES}?ani_tf=true").get_json()) == [outside.id]


def test_only_datasets_in_scope_answer(client, panels, make_dataset, make_row) -> None:
    retired = make_dataset(name="Old FIRM", status="retired")
    importing = make_dataset(name="Coming FIRM", status="importing")
    hidden = [make_row(FirmPanel, dataset, box(-74.1, 40.0, -74.09, 40.01), firm_pan="34025C0450E")
              for dataset in (retired, importing)]
    body = client.get(f"{PANELS}?limit=100").get_json()
    assert page_ids(body) == [panel.id for panel in panels]
    assert client.get(f"{PANELS}?firm_pan=34025C0450E").get_json()["features"] == []
    assert client.get(f"{PANELS}?dataset_id={retired.id}").get_json()["features"] == []
    for row in hidden:
        assert client.get(f"{PANELS}/{row.id}").status_code == 404


# --- communities: political areas with their NFIP dates --------------------------------------


def test_communities_carry_their_nfip_dates(client, make_dataset, make_row) -> None:
    dataset, other = make_dataset(), make_dataset()
    dated = make_row(PoliticalArea, dataset, box(0, 0, 1, 1), cid="340301", com_nfo_id="C1",
                     pol_name1="BOROUGH OF MANASQUAN")
    undated = make_row(PoliticalArea, dataset, box(1, 0, 2, 1), cid="340302", com_nfo_id="C2")
    make_row(CommunityInfo, dataset, com_nfo_id="C1", in_id_dat=dt.date(1974, 5, 31),
             in_nfip_dt=dt.date(1975, 3, 14), in_frm_dat=dt.date(1977, 9, 15),
             recent_dat=dt.date(2018, 1, 3))
    # A repeated key gives no second feature; the same key of another dataset is not joined.
    make_row(CommunityInfo, dataset, com_nfo_id="C1", in_nfip_dt=dt.date(1999, 1, 1))
    make_row(CommunityInfo, other, com_nfo_id="C2", in_nfip_dt=dt.date(1980, 1, 1))
    body = client.get(COMMUNITIES).get_json()
    assert page_ids(body) == [dated.id, undated.id] and body["numberMatched"] == 2
    first, second = (feature["properties"] for feature in body["features"])
    assert (first["cid"], first["pol_name1"], first["in_id_dat"], first["in_nfip_dt"],
            first["in_frm_dat"], first["recent_dat"]) == (
        "340301", "BOROUGH OF MANASQUAN", "1974-05-31", "1975-03-14", "1977-09-15",
        "2018-01-03")
    assert (second["in_nfip_dt"], second["recent_dat"]) == (None, None)
    filtered = client.get(f"{COMMUNITIES}?in_nfip_dt=1975-03-14").get_json()
    assert page_ids(filtered) == [dated.id] and filtered["numberMatched"] == 1
    one = client.get(f"{COMMUNITIES}/{dated.id}").get_json()
    assert one["properties"]["in_frm_dat"] == "1977-09-15"


# --- one feature -----------------------------------------------------------------------------


def test_one_feature_by_id(client, panels) -> None:
    response = client.get(f"{PANELS}/{panels[2].id}")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    feature = response.get_json()
    assert feature["id"] == panels[2].id
    assert feature["properties"]["firm_pan"] == "34025C0452F"
    assert {item["rel"] for item in feature["links"]} == {"self", "alternate", "collection"}
    again = client.get(f"{PANELS}/{panels[2].id}",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    flipped = client.get(f"{PANELS}/{panels[2].id}?crs=EPSG:4326")
    assert flipped.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    lat, lon = flipped.get_json()["geometry"]["coordinates"][0][0][0]
    assert 40.0 <= lat <= 40.01 and -74.1 <= lon <= -74.0
    html = client.get(f"{PANELS}/{panels[2].id}?f=html")
    assert html.status_code == 200 and "34025C0452F" in html.get_data(as_text=True)


@pytest.mark.parametrize("item", ["999999999", "abc", "1" * 30, "-1"])
def test_an_unknown_feature_is_404(client, panels, item) -> None:
    response = client.get(f"{PANELS}/{item}")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert "FIRM panel" in response.get_json()["message"]


def test_an_id_of_another_layer_is_not_a_feature_of_this_one(client, session, panels,
                                                            make_row) -> None:
    lomr = make_row(Lomr, session.get(Dataset, panels[0].dataset_id), box(0, 0, 1, 1),
                    case_no="19-02-1234P")
    # Each table numbers its own rows: a panel's id is no LOMR (the only LOMR is another).
    panel_id = next(panel.id for panel in panels if panel.id != lomr.id)
    assert client.get(f"{API}/lomrs/items/{panel_id}").status_code == 404
    assert client.get(f"{API}/lomrs/items/{lomr.id}").get_json()["properties"]["case_no"] == (
        "19-02-1234P")


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "name"), [
    ("limit=0", "limit"),
    ("limit=x", "limit"),
    ("offset=-1", "offset"),
    ("bbox=1,2,3", "bbox"),
    ("bbox=3,2,1,4", "bbox"),
    ("bbox-crs=EPSG:9999&bbox=1,2,3,4", "bbox-crs"),
    ("crs=EPSG:1", "crs"),
    ("dataset_id=two", "dataset_id"),
    ("dataset_id=99999999999", "dataset_id"),
    ("eff_date=yesterday", "eff_date"),
    ("f=xml", "f"),
])
def test_bad_parameters_are_400_naming_them(client, panels, query, name) -> None:
    response = client.get(f"{PANELS}?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_parameter"
    assert f"'{name}'" in body["message"]


def test_bad_typed_values_and_unknown_parameters(client) -> None:
    number = client.get(f"{BFE}?elev=high").get_json()
    assert number == {"error": "invalid_parameter",
                      "message": "parameter 'elev' must be a number, got 'high'"}
    flag = client.get(f"{COMMUNITIES}?ani_tf=maybe").get_json()
    assert flag["error"] == "invalid_parameter" and "'ani_tf'" in flag["message"]
    unknown = client.get(f"{PANELS}?fld_zone=AE")
    assert unknown.status_code == 400
    assert unknown.get_json()["error"] == "unknown_parameter"
    assert "fld_zone" in unknown.get_json()["message"]
    assert "firm_pan" in unknown.get_json()["message"]  # the filterable ones are named
    assert client.get(f"{PANELS}/1?limit=3").get_json()["error"] == "unknown_parameter"
    # The zones keep their own parameters: a layer's queryable is none of theirs.
    zones = client.get("/api/collections/flood_zones/items?firm_pan=34025C0453F").get_json()
    assert zones["error"] == "unknown_parameter"


@pytest.mark.parametrize("collection_id", LAYER_IDS)
def test_writes_are_405(client, make_user, make_token, collection_id) -> None:
    analyst = {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}"}
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]},
               "properties": {}}
    items = f"{API}/{collection_id}/items"
    for response in (client.post(items, json=feature, headers=analyst),
                     client.put(f"{items}/1", json=feature, headers=analyst),
                     client.patch(f"{items}/1", json={"properties": {}}, headers=analyst),
                     client.delete(f"{items}/1", headers=analyst)):
        assert response.status_code == 405
        assert "come with the NFHL package" in response.get_json()["message"]


# --- queryables -------------------------------------------------------------------------------


def test_queryables_are_the_typed_columns(client) -> None:
    response = client.get(f"{API}/firm_panels/queryables")
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    schema = response.get_json()
    assert schema["$id"].endswith("/collections/firm_panels/queryables")
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert list(properties) == ["geometry", "dfirm_id", "firm_pan", "panel", "suffix",
                                "eff_date", "panel_typ", "pnp_reason", "dataset_id"]
    assert properties["geometry"]["$ref"].endswith("MultiPolygon.json")
    assert properties["firm_pan"]["type"] == "string"
    assert properties["firm_pan"]["title"] == "FIRM panel number (FIRM_PAN)"
    assert properties["eff_date"] == {"title": "Effective date (EFF_DATE)", "type": "string",
                                      "format": "date"}
    assert properties["dataset_id"]["type"] == "integer"
    bfe = client.get(f"{API}/bfe_lines/queryables").get_json()["properties"]
    assert bfe["geometry"]["$ref"].endswith("MultiLineString.json")
    assert bfe["elev"]["type"] == "number"
    communities = client.get(f"{API}/communities/queryables").get_json()["properties"]
    assert communities["ani_tf"]["type"] == "boolean"
    assert communities["in_nfip_dt"]["format"] == "date"
    assert client.get(f"{API}/firm_panels/queryables?f=html").status_code == 200


# --- the declared contract --------------------------------------------------------------------


@pytest.fixture()
def one_of_each(make_dataset, make_row) -> dict[str, Any]:
    """A row of every layer, every typed column set."""
    dataset = make_dataset()
    day = dt.date(2018, 1, 3)
    square = box(-74.05, 40.0, -74.04, 40.01)
    line = LineString([(-74.05, 40.0), (-74.04, 40.01)])
    make_row(CommunityInfo, dataset, com_nfo_id="C1", in_id_dat=day, in_nfip_dt=day,
             in_frm_dat=day, recent_dat=day)
    return {
        "firm_panels": make_row(FirmPanel, dataset, square, dfirm_id="34025C",
                                firm_pan="34025C0453F", panel="0453", suffix="F", eff_date=day,
                                panel_typ="Countywide, Panel Printed", pnp_reason="x"),
        "communities": make_row(PoliticalArea, dataset, square, dfirm_id="34025C",
                                cid="340301", comm_no="0301", pol_name1="A", pol_name2="B",
                                pol_name3="C", co_fips="025", st_fips="34", com_nfo_id="C1",
                                ani_tf=False),
        "lomrs": make_row(Lomr, dataset, square, dfirm_id="34025C", lomr_id="L1",
                          case_no="19-02-1234P", eff_date=day, status="Effective",
                          scale="1:6000"),
        "bfe_lines": make_row(BfeLine, dataset, line, dfirm_id="34025C", bfe_ln_id="B1",
                              elev=9.0, len_unit="Feet", v_datum="NAVD88"),
        "cross_sections": make_row(CrossSection, dataset, line, dfirm_id="34025C",
                                   xs_ln_id="X1", xs_ltr="A", xs_ln_typ="LETTERED",
                                   wtr_nm="Manasquan River", stream_stn=1200.0, wsel_reg=9.4,
                                   strmbed_el=1.2, len_unit="Feet", v_datum="NAVD88"),
        "cbrs_units": make_row(CbrsUnit, dataset, square, dfirm_id="34025C", cbrs_id="NJ-07P",
                               cbrs_typ="OPA",
                               cbrs_dt=dt.date(1990, 11, 16)),
    }


def validator(document: dict[str, Any], component: str) -> OAS30Validator:
    return OAS30Validator({"components": document["components"],
                           "$ref": f"#/components/schemas/{component}"})


@pytest.mark.parametrize("collection_id", LAYER_IDS)
def test_served_features_match_their_declaration(client, one_of_each, collection_id) -> None:
    document = client.get("/api/openapi.json").get_json()
    feature_model, page_model = LAYER_ANSWERS[collection_id]
    layer = next(layer for layer in LAYERS if layer.id == collection_id)
    # The declared properties are the served ones, in order.
    assert tuple(feature_model.model_fields["properties"].annotation.model_fields) == (
        layer.properties)
    page = client.get(f"{API}/{collection_id}/items").get_json()
    assert len(page["features"]) == 1
    assert None not in page["features"][0]["properties"].values()  # every column was set
    assert list(validator(document, page_model.__name__).iter_errors(page)) == []
    feature = client.get(f"{API}/{collection_id}/items/{one_of_each[collection_id].id}").get_json()
    assert list(validator(document, feature_model.__name__).iter_errors(feature)) == []
    feature["properties"]["dataset_id"] = "1"
    assert list(validator(document, feature_model.__name__).iter_errors(feature))
    operation = document["paths"][f"/collections/{collection_id}/items"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"limit", "offset", "bbox", "bbox-crs", "crs", "f", *layer.queryables} == names


def test_html_pages_of_a_layer(client, panels) -> None:
    response = client.get(f"{PANELS}?f=html&limit=2")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "FIRM panels" in page and "34025C0451F" in page and "Next page" in page
