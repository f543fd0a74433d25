"""Address search: the Nominatim parser (no server), and /api/geocode against a real local
geocoder, configured and not."""

from __future__ import annotations

import json

import pytest

from geoapp.cli import SAMPLE_FILE
from geoapp.risk.geocoding import nominatim_bbox, place_from_hit
from tests.gazetteer import SLOW_SECONDS, running_gazetteer

KNOWN = {p["name"]: p for p in json.loads(
    (SAMPLE_FILE.parent / "known_points.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def geocoder():
    with running_gazetteer(KNOWN) as (url, requests):
        yield url, requests


@pytest.fixture()
def with_geocoder(app, geocoder, monkeypatch):
    monkeypatch.setitem(app.config, "GEOAPP_GEOCODER_URL", geocoder[0])
    monkeypatch.setitem(app.config, "GEOAPP_GEOCODER_TIMEOUT_S", 1.0)
    return geocoder


def test_nominatim_hits_are_parsed_and_bad_ones_dropped() -> None:
    place = place_from_hit({"display_name": "A <b>", "lon": "-74.1", "lat": "40.2",
                            "boundingbox": ["40.1", "40.3", "-74.2", "-74.0"]})
    assert (place.label, place.lon, place.lat) == ("A <b>", -74.1, 40.2)
    assert place.bbox == (-74.2, 40.1, -74.0, 40.3)
    assert place_from_hit({"lon": "200", "lat": "40"}) is None
    assert place_from_hit({"lon": "nan", "lat": "40"}) is None
    assert place_from_hit({"lat": "40"}) is None
    assert place_from_hit(["-74", "40"]) is None
    assert place_from_hit({"lon": "-74", "lat": "40"}).label == "40.00000, -74.00000"
    assert nominatim_bbox(["40.3", "40.1", "-74.2", "-74.0"]) is None  # south above north
    assert nominatim_bbox(["a", "b", "c", "d"]) is None
    assert nominatim_bbox(None) is None


def test_without_a_geocoder_address_search_says_so(client) -> None:
    response = client.get("/api/geocode?q=Riverside")
    assert response.status_code == 404
    assert response.json["error"] == "geocoder_not_configured"
    assert "coordinates" in response.json["message"]
    assert "Coordinates" in client.get("/").get_data(as_text=True)  # the search box's label


def test_places_come_from_the_configured_geocoder(client, with_geocoder) -> None:
    url, requests = with_geocoder
    response = client.get("/api/geocode?q=Riverside%20Manasquan")
    assert response.status_code == 200
    places = response.json["places"]
    assert [p["label"] for p in places] == ["12 Riverside Drive, Manasquan, NJ 08736"]
    assert places[0]["lon"] == pytest.approx(KNOWN["ae_with_bfe"]["lon"])
    assert places[0]["bbox"][0] < places[0]["lon"] < places[0]["bbox"][2]
    assert "format=jsonv2" in requests[-1] and "limit=5" in requests[-1]
    both = client.get("/api/geocode?q=riverside&limit=1").json["places"]
    assert len(both) == 1
    assert client.get("/api/geocode?q=nowhere%20at%20all").json["places"] == []
    assert "Address or coordinates" in client.get("/").get_data(as_text=True)


def test_repeated_searches_are_answered_from_memory(client, with_geocoder) -> None:
    _, requests = with_geocoder
    first = client.get("/api/geocode?q=Hillside").json
    asked = len(requests)
    assert client.get("/api/geocode?q=%20Hillside%20").json == {**first, "query": " Hillside "}
    assert len(requests) == asked


@pytest.mark.parametrize("query", ["http500", "notjson", "notalist", "slow"])
def test_a_failing_geocoder_gives_502(client, with_geocoder, query) -> None:
    response = client.get(f"/api/geocode?q={query}")
    assert response.status_code == 502, response.json
    assert response.json["error"] == "geocoder_failed"
    assert SLOW_SECONDS > 1.0  # the timeout configured above is shorter than the delay


def test_an_unreachable_geocoder_gives_502(client, app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "GEOAPP_GEOCODER_URL", "http://127.0.0.1:9/search")
    response = client.get("/api/geocode?q=anything")
    assert response.status_code == 502
    assert "could not be reached" in response.json["message"]


@pytest.mark.parametrize("query", ["q=", "q=%20%20", "q=" + "x" * 201, "q=a&limit=0",
                                   "q=a&limit=11", "q=a&limit=two"])
def test_bad_searches_are_refused(client, with_geocoder, query) -> None:
    response = client.get(f"/api/geocode?{query}")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_parameter"
