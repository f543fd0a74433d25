"""The map page and the front-end assets it is served with."""

from __future__ import annotations

import json
import re

SQUARE = "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))"


def embedded_features(page: str) -> list[dict]:
    """The GeoJSON features Folium wrote into the page's script."""
    features = []
    for match in re.finditer(r"_add\((\{\"features\".*?\})\);", page, flags=re.S):
        features.extend(json.loads(match.group(1))["features"])
    return features


def test_map_page_draws_zones_coloured_by_risk(client, make_dataset, make_zone) -> None:
    dataset = make_dataset(name="Test FIRM")
    make_zone(
        SQUARE, dataset=dataset, fld_zone="AE", static_bfe=9.0, len_unit="Feet", v_datum="NAVD88"
    )
    make_zone(
        "POLYGON((-74.0 40.0, -73.9 40.0, -73.9 40.1, -74.0 40.1, -74.0 40.0))",
        dataset=dataset,
        fld_zone="X",
        zone_subty="AREA OF MINIMAL FLOOD HAZARD",
        sfha_tf=False,
    )
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    features = embedded_features(page)
    assert {f["properties"]["status"] for f in features} == {"high_risk", "minimal_risk"}
    ae = next(f for f in features if f["properties"]["zone"] == "AE")
    assert ae["properties"]["bfe"] == "9 Feet NAVD88"
    assert ae["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert "Flood risk" in page and "unmapped (not Zone X)" in page  # the legend
    assert "fitBounds" in page


def test_popups_escape_zone_attributes(client, make_dataset, make_zone) -> None:
    attack = '<script>alert("pwned")</script>'
    dataset = make_dataset(name='<img src=x onerror="alert(1)">')
    make_zone(SQUARE, dataset=dataset, fld_zone="AE", zone_subty=attack)
    page = client.get("/").get_data(as_text=True)
    assert attack not in page
    assert "<img src=x" not in page
    [feature] = embedded_features(page)
    assert feature["properties"]["subtype"] == "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;"
    assert feature["properties"]["dataset"].startswith("&lt;img src=x")


def test_map_page_uses_only_assets_served_by_the_app(client, make_zone) -> None:
    make_zone(SQUARE)
    page = client.get("/").get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources, "the page loads no assets at all"
    assert all(src.startswith("/vendor/") for src in sources), sources
    assert "/vendor/leaflet/dist/leaflet.js" in sources


def test_map_page_without_any_data(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert embedded_features(response.get_data(as_text=True)) == []


def test_vendor_route_serves_only_front_end_packages(client) -> None:
    response = client.get("/vendor/leaflet/dist/leaflet.js")
    assert response.status_code == 200
    assert b"Leaflet" in response.data[:2000]
    response.close()
    assert client.get("/vendor/leaflet/package.json").status_code == 404
    assert client.get("/vendor/../package.json").status_code == 404


def test_html_errors_are_pages_without_internals(client) -> None:
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "Back to the map" in response.get_data(as_text=True)
