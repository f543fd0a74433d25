"""The map page's hooks for the flood depth layer (drawn in the browser: tests/browser)."""

from __future__ import annotations

import json
import re

SQUARE = "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))"


def map_config(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="map-config">(.*?)</script>', page,
                      re.S)
    assert found, "the page has no #map-config block"
    return json.loads(found.group(1))


def test_map_page_passes_the_rasters_url_and_a_hidden_depth_legend(client, make_zone) -> None:
    make_zone(SQUARE)
    page = client.get("/").get_data(as_text=True)
    url = map_config(page)["rastersUrl"]
    assert url == "/api/rasters"
    answer = client.get(url)
    assert answer.status_code == 200 and answer.json["rasters"] == []  # none in scope here
    # Empty and hidden until the script finds a depth grid: no toggle without one.
    assert '<div id="depth-layers" hidden></div>' in page
    assert "depth-toggle" not in page
