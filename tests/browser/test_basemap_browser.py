"""The basemap in a real headless Chromium: none (a note on the map, no request to any other
host), an MBTiles file served tile by tile, and PMTiles archives (raster, vector) read in ranges
by the npm libraries the app serves. Each runs under `flask serve` on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.basemap_files import png, world_tiles, write_mbtiles, write_pmtiles
from tests.conftest import SERVER_SECRET_KEY
from tests.live_server import live_server

pytestmark = pytest.mark.browser
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + event.blockedURI);
});
"""
BASEMAP_LAYER = "Object.keys(window).find(k => /^basemap_layer_[0-9a-f]+$/.test(k))"
IMAGES_LOADED = """(prefix) => Array.from(document.querySelectorAll('img.leaflet-tile-loaded'))
  .some(img => img.src.startsWith(prefix) && img.naturalWidth > 0)"""
BASEMAP_CANVAS_PAINTED = """() => {
  // The earth of the archive's tile, in a colour other than the flavour's background.
  const layer = window[BASEMAP_LAYER];
  if (!layer) return false;
  const background = layer.backgroundColor.toLowerCase();
  const hex = (d, i) => '#' + [d[i], d[i + 1], d[i + 2]]
    .map(v => v.toString(16).padStart(2, '0')).join('');
  return Array.from(layer.getContainer().querySelectorAll('canvas')).some(c => {
    if (!c.width) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0 && hex(d, i) !== background) return true;
    }
    return false; });
}""".replace("BASEMAP_LAYER", BASEMAP_LAYER)


def serve(database_url: str, basemap: str) -> Iterator[str]:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY,
           "GEOAPP_BASEMAP_URL": basemap, "GEOAPP_BASEMAP_ATTRIBUTION": "",
           "GEOAPP_GEOCODER_URL": ""}
    with live_server(env) as base:
        yield base


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    import mapbox_vector_tile

    folder = tmp_path_factory.mktemp("basemaps")
    write_mbtiles(folder / "world.mbtiles", world_tiles(), {
        "name": "World", "format": "png", "minzoom": "0", "maxzoom": "1",
        "attribution": "Test MBTiles"})
    write_pmtiles(folder / "raster.pmtiles", {(0, 0, 0): png((0, 128, 0))}, vector=False,
                  metadata={"attribution": "Test raster PMTiles"})
    # Zooms 0 and 1 (protomaps-leaflet reads a maxDataZoom of 0 as its default, 15), each tile
    # of its own bytes (the writer runs equal tiles together, and its header's zooms with them).
    earth = {zxy: mapbox_vector_tile.encode([{"name": "earth", "features": [{
        "geometry": "POLYGON((0 0, 4096 0, 4096 4096, 0 4096, 0 0))",
        "properties": {"tile": "/".join(map(str, zxy))}}]}]) for zxy in world_tiles()}
    write_pmtiles(folder / "vector.pmtiles", earth, vector=True,
                  metadata={"attribution": "Test vector PMTiles"})
    return folder


# `app` runs the migrations on the test database the servers use.
@pytest.fixture(scope="module")
def no_basemap_server(app, database_url) -> Iterator[str]:
    yield from serve(database_url, "")


@pytest.fixture(scope="module")
def mbtiles_server(app, database_url, files) -> Iterator[str]:
    yield from serve(database_url, str(files / "world.mbtiles"))


@pytest.fixture(scope="module")
def raster_pmtiles_server(app, database_url, files) -> Iterator[str]:
    yield from serve(database_url, str(files / "raster.pmtiles"))


@pytest.fixture(scope="module")
def vector_pmtiles_server(app, database_url, files) -> Iterator[str]:
    yield from serve(database_url, str(files / "vector.pmtiles"))


@pytest.fixture()
def watched(browser):
    """A fresh page recording every request, its answers, CSP violations and errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    seen: dict[str, list] = {"requests": [], "responses": [], "problems": []}
    page.on("request", lambda req: seen["requests"].append(req.url))
    page.on("response", lambda res: seen["responses"].append((res.url, res.status)))
    page.on("console", lambda msg: seen["problems"].append(f"console: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen["problems"].append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: seen["problems"].append(f"failed: {req.url}")
            if req.failure != "net::ERR_ABORTED" else None)

    def problems() -> list[str]:
        return page.evaluate("() => window.__cspViolations") + seen["problems"]

    yield page, seen, problems
    context.close()


def other_hosts(urls: list[str]) -> list[str]:
    """The requests that went to anything but this loopback server (blob:/data: stay here)."""
    return [url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname != "127.0.0.1"]


def test_no_basemap_shows_the_note_and_asks_no_other_host(no_basemap_server, watched) -> None:
    page, seen, problems = watched
    page.goto(no_basemap_server + "/")
    note = page.locator(".leaflet-control-container .basemap-note")
    note.wait_for(state="visible")
    assert note.inner_text().startswith("No basemap configured: set GEOAPP_BASEMAP_URL")
    page.wait_for_load_state("networkidle")
    assert seen["requests"], "the page asked for nothing at all"
    assert other_hosts(seen["requests"]) == []
    assert page.locator("img.leaflet-tile").count() == 0  # no background layer
    assert page.evaluate(f"() => {BASEMAP_LAYER}") is None
    assert problems() == []


def test_mbtiles_basemap_tiles_come_from_the_app(mbtiles_server, watched) -> None:
    page, seen, problems = watched
    with page.expect_response(lambda r: "/basemap/tiles/" in r.url):
        page.goto(mbtiles_server + "/")
    page.wait_for_function(IMAGES_LOADED, arg=mbtiles_server + "/basemap/tiles/")
    page.wait_for_load_state("networkidle")
    tiles = [(url, status) for url, status in seen["responses"] if "/basemap/tiles/" in url]
    assert tiles and all(status == 200 for _, status in tiles), tiles
    # The file has zooms 0 and 1: deeper views scale its tiles up instead of asking for more.
    assert all(urlsplit(url).path.split("/")[3] in ("0", "1") for url, _ in tiles), tiles
    assert page.locator(".basemap-note").count() == 0
    assert "Test MBTiles" in page.locator(".leaflet-control-attribution").inner_text()
    assert other_hosts(seen["requests"]) == []
    assert problems() == []


def test_raster_pmtiles_basemap_is_read_in_ranges(raster_pmtiles_server, watched) -> None:
    page, seen, problems = watched
    page.goto(raster_pmtiles_server + "/")
    page.wait_for_function(IMAGES_LOADED, arg="blob:")  # decoded by pmtiles.js, CSP allows
    archive = [status for url, status in seen["responses"] if "/basemap/archive.pmtiles" in url]
    assert archive and all(status == 206 for status in archive), archive
    assert "Test raster PMTiles" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".basemap-note").count() == 0
    assert other_hosts(seen["requests"]) == []
    assert problems() == []


def test_vector_pmtiles_basemap_is_drawn_by_protomaps_leaflet(vector_pmtiles_server,
                                                             watched) -> None:
    page, seen, problems = watched
    page.goto(vector_pmtiles_server + "/")
    page.wait_for_function(BASEMAP_CANVAS_PAINTED)
    archive = [status for url, status in seen["responses"] if "/basemap/archive.pmtiles" in url]
    assert archive and all(status == 206 for status in archive), archive
    assert "Test vector PMTiles" in page.locator(".leaflet-control-attribution").inner_text()
    assert other_hosts(seen["requests"]) == []
    assert problems() == []
