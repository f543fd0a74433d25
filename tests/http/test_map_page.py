"""The map page and the front-end assets it is served with."""

from __future__ import annotations

import re

SQUARE = "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))"


def test_map_page_draws_zones_from_vector_tiles(client, make_dataset, make_zone) -> None:
    make_zone(SQUARE, dataset=make_dataset(name="Test FIRM"), fld_zone="AE")
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "L.vectorGrid.protobuf" in page
    assert "/api/collections/flood_zones/tiles/WebMercatorQuad/{z}/{y}/{x}" in page
    assert "Flood risk" in page and "unmapped (not Zone X)" in page  # the legend
    assert "fitBounds" in page


def test_page_size_does_not_grow_with_the_data(client, make_dataset, make_zone) -> None:
    dataset = make_dataset()
    make_zone(SQUARE, dataset=dataset)
    one = len(client.get("/").data)
    for i in range(30):
        make_zone(f"POLYGON(({i} 0, {i}.5 0, {i}.5 0.5, {i} 0.5, {i} 0))", dataset=dataset,
                  zone_subty="x" * 100)
    many = len(client.get("/").data)
    assert abs(many - one) < 200  # only the extent's numbers change
    assert many < 100_000


def test_report_text_is_written_with_text_content_only(client, make_dataset, make_zone) -> None:
    attack = '<script>alert("pwned")</script>'
    make_zone(SQUARE, dataset=make_dataset(name=attack), fld_zone="AE", zone_subty=attack)
    page = client.get("/").get_data(as_text=True)
    assert attack not in page
    # The page's own script is a static file (the CSP allows no inline code of ours).
    script_url = re.search(r'<script src="(/static/js/map-page\.js)"', page).group(1)
    response = client.get(script_url)
    script = response.get_data(as_text=True)
    response.close()
    assert "innerHTML" not in script.split("never innerHTML")[1]


def test_shared_link_opens_on_a_point(client, make_zone) -> None:
    make_zone(SQUARE)
    page = client.get("/?lon=-74.05&lat=40.05&zoom=14").get_data(as_text=True)
    assert '"lat": 40.05' in page and '"zoom": 14.0' in page
    bad = client.get("/?lon=500&lat=40", headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "lon" in bad.get_data(as_text=True)


def test_map_page_uses_only_assets_served_by_the_app(client, make_zone) -> None:
    make_zone(SQUARE)
    page = client.get("/").get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources, "the page loads no assets at all"
    assert all(src.startswith(("/vendor/", "/static/")) or src == "data:," for src in sources), \
        sources
    assert "/vendor/leaflet/dist/leaflet.js" in sources
    assert "/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" in sources


def test_map_page_without_any_data(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No flood map is loaded yet" in response.get_data(as_text=True)


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


def test_printable_report(client, make_dataset, make_zone) -> None:
    make_zone(SQUARE, dataset=make_dataset(name="Report <FIRM>"), fld_zone="AE",
              static_bfe=9.0, len_unit="Feet", v_datum="NAVD88")
    page = client.get("/report?lon=-74.05&lat=40.05").get_data(as_text=True)
    assert "Flood hazard report" in page and "not an official flood zone determination" in page
    assert "9.0 Feet NAVD88" in page and "Report &lt;FIRM&gt;" in page
    assert "@media print" in page
    unmapped = client.get("/report?lon=10&lat=10").get_data(as_text=True)
    assert "<strong>not</strong> a Zone X" in unmapped
    assert client.get("/report?lon=10", headers={"Accept": "text/html"}).status_code == 400


def test_legend_lists_maps_when_there_are_several(client, make_dataset, make_zone) -> None:
    make_zone(SQUARE, dataset=make_dataset(name="County <A>"))
    make_zone(SQUARE, dataset=make_dataset(name="County B"))
    page = client.get("/").get_data(as_text=True)
    assert 'class="dataset-toggle"' in page
    assert "County &lt;A&gt;" in page and "County B" in page


def test_map_opens_on_its_view_before_any_layer_loads(client, make_dataset, make_zone) -> None:
    make_zone(SQUARE, dataset=make_dataset())
    page = client.get("/").get_data(as_text=True)
    # Fitted before the zone layer is added: no tiles fetched for a default view first.
    assert page.index(".fitBounds(") < page.index("L.vectorGrid.protobuf")
    shared = client.get("/?lon=-74.05&lat=40.05&zoom=16").get_data(as_text=True)
    assert ".fitBounds(\n" not in shared and "center: [40.05, -74.05]" in shared
    assert '"zoom": 16' in shared
