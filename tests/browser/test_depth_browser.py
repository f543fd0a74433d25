"""The flood depth layer of the map page in a real headless Chromium: the sample NFHL package
with its DEM and 1% depth grid committed for the module, served by `flask serve` on loopback
from the same raster directory the loader wrote to, and no basemap (every request must stay on
127.0.0.1). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from geoapp.cli import SAMPLE_EFFECTIVE_DATE, SAMPLE_FILE, SAMPLE_PACKAGE, SAMPLE_RASTERS
from geoapp.db.models import Dataset
from geoapp.ingest import files, jobs, runs
from geoapp.ingest.request import ImportRequest
from tests.conftest import SERVER_SECRET_KEY
from tests.live_server import live_server

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # as the other browser tests
POINTS = {p["name"]: p for p in json.loads(
    (SAMPLE_FILE.parent / "depth_points.json").read_text(encoding="utf-8"))}
DEPTH_PANE = "floodDepthPane"
# Tiles of the depth pane drawn from a PNG (a 204 leaves an image with no width).
DEPTH_IMAGES = f"""() => Array.from(document.querySelectorAll('.leaflet-pane img.leaflet-tile'))
  .filter(img => img.closest('.leaflet-pane') === window[MAP].getPane('{DEPTH_PANE}')
                 && img.complete && img.naturalWidth > 0).length"""
METRES_PER_FOOT = 0.3048


@pytest.fixture(scope="module")
def sample_with_rasters(app, database_url) -> Iterator[dict[str, int]]:
    """The sample package and its rasters, committed (each its own dataset) until the end."""
    engine = sa.create_engine(database_url)
    limits = files.UnpackLimits.from_config(app.config)
    loaded: dict[str, int] = {}
    with app.app_context(), Session(engine) as session:
        request = ImportRequest.parse({"name": "Depth sample <i>", "repair": False,
                                       "effective_date": SAMPLE_EFFECTIVE_DATE})
        dataset = runs.create_pending(session, request, SAMPLE_PACKAGE.name, None)
        runs.run_import(session, dataset, SAMPLE_PACKAGE, request, limits)
        loaded["zones"] = dataset.id
        for file_name, kind, event, name in SAMPLE_RASTERS:
            request = ImportRequest.parse({"name": name, "kind": kind, "event": event,
                                           "effective_date": SAMPLE_EFFECTIVE_DATE})
            dataset = runs.create_pending(session, request, file_name, None)
            runs.run_import(session, dataset, SAMPLE_FILE.parent / file_name, request, limits,
                            raster_target=jobs.raster_target(app))
            loaded[kind] = dataset.id
    yield loaded
    with engine.begin() as conn:
        conn.execute(sa.delete(Dataset).where(Dataset.id.in_(list(loaded.values()))))
    engine.dispose()


@pytest.fixture(scope="module")
def server(app, database_url, sample_with_rasters) -> Iterator[str]:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY,
           "GEOAPP_BASEMAP_URL": "", "GEOAPP_GEOCODER_URL": "",
           # The directory the fixture's imports wrote the COGs to.
           "GEOAPP_RASTER_DIR": str(jobs.raster_dir(app))}
    with live_server(env, threads=8) as base:
        yield base


@pytest.fixture()
def watched(browser):
    """A fresh page recording every request and response, console errors and failures."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    seen: dict[str, list] = {"requests": [], "responses": [], "problems": []}
    page.on("request", lambda req: seen["requests"].append(req.url))
    page.on("response", lambda res: seen["responses"].append(res))
    page.on("console", lambda msg: seen["problems"].append(f"console: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen["problems"].append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: seen["problems"].append(f"failed: {req.url}")
            if req.failure != "net::ERR_ABORTED" else None)
    page.on("response", lambda res: seen["problems"].append(f"HTTP {res.status}: {res.url}")
            if res.status >= 400 else None)
    yield page, seen
    page.close()


def other_hosts(urls: list[str]) -> list[str]:
    return [url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).hostname != "127.0.0.1"]


def map_name(page) -> str:
    return page.evaluate("() => Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))")


def depth_images(page) -> int:
    return page.evaluate(DEPTH_IMAGES.replace("MAP", repr(map_name(page))))


def click_point(page, point: dict) -> None:
    """Centre the map on a point at street zoom and click it."""
    name = map_name(page)
    page.evaluate(f"() => {name}.setView([{point['lat']}, {point['lon']}], 16)")
    page.wait_for_timeout(300)
    xy = page.evaluate(f"() => {name}.latLngToContainerPoint([{point['lat']}, {point['lon']}])")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])


def test_depth_layer_is_drawn_and_toggled_from_the_legend(server, watched,
                                                         sample_with_rasters) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, seen = watched
    listed = page.request.get(server + "/api/rasters").json()
    depth_id = next(r["id"] for r in listed["rasters"] if r["kind"] == "depth")
    page.goto(server + "/")
    toggle = page.locator("#depth-layers .layer-toggle.depth-toggle")
    toggle.wait_for(state="visible")
    assert toggle.count() == 1 and toggle.is_checked()
    assert "Flood depth (1% annual chance)" in page.locator("#depth-layers label").inner_text()
    classes = page.locator("#depth-layers .depth-class")
    assert classes.all_inner_texts() == [item["label"] for item in listed["depth_legend"]]
    colours = page.evaluate("""() => Array.from(document.querySelectorAll(
        '#depth-layers .depth-class .swatch')).map(s => getComputedStyle(s).backgroundColor)""")
    assert len(set(colours)) == len(listed["depth_legend"])  # one colour per class
    assert classes.first.is_visible()

    # At street zoom over the sample, tiles of the depth grid come back as PNGs into its pane.
    point = POINTS["ae_bfe_10"]
    name = map_name(page)
    tile_path = f"/api/rasters/{depth_id}/tiles/"
    with page.expect_response(lambda r: tile_path in r.url and r.status == 200) as first:
        page.evaluate(f"() => {name}.setView([{point['lat']}, {point['lon']}], 14)")
    assert first.value.headers["content-type"] == "image/png"
    assert urlsplit(first.value.url).hostname == "127.0.0.1"
    page.wait_for_function(DEPTH_IMAGES.replace("MAP", repr(name)))
    assert page.evaluate(f"() => {name}.getZoom()") >= 13
    assert page.locator(".depth-zoom-in").is_hidden()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "map-depth.png"))

    # Unticked, the layer leaves the map; ticked again, it is back.
    toggle.uncheck()
    page.wait_for_function(f"() => !({DEPTH_IMAGES.replace('MAP', repr(name))})()")
    assert page.evaluate(f"""() => {name}.getPane('{DEPTH_PANE}')
        .querySelectorAll('img').length""") == 0
    toggle.check()
    page.wait_for_function(DEPTH_IMAGES.replace("MAP", repr(name)))
    # Hiding the depth grid's map in the "Maps" list hides its layer too.
    by_map = page.locator(f".dataset-toggle[value='{sample_with_rasters['depth']}']")
    by_map.uncheck()
    page.wait_for_function(f"() => !({DEPTH_IMAGES.replace('MAP', repr(name))})()")
    by_map.check()
    page.wait_for_function(DEPTH_IMAGES.replace("MAP", repr(name)))

    # Far out (below the tiles' first zoom), the legend says to zoom in.
    page.evaluate(f"() => {name}.setZoom({listed['tiles']['minzoom'] - 1})")
    page.locator(".depth-zoom-in").wait_for(state="visible")
    tiles = [r for r in seen["responses"] if tile_path in r.url]
    assert tiles and all(r.status in (200, 204, 304) for r in tiles), \
        [(r.url, r.status) for r in tiles]
    assert other_hosts(seen["requests"]) == []
    assert seen["problems"] == []


def test_click_report_shows_depth_and_loma_candidate(server, watched) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, seen = watched
    page.goto(server + "/")
    page.locator("#depth-layers .depth-toggle").wait_for(state="visible")
    point = POINTS["ae_bfe_10"]
    click_point(page, point)
    page.wait_for_selector("#report .report-depth")
    depth = page.locator("#report .report-depth").inner_text()
    assert f"1% annual chance: depth {point['depth_1pct_ft']:.2f} ft (depth grid)" in depth
    ground_ft = f"{point['ground_m'] / METRES_PER_FOOT:.2f}"
    assert f"Ground elevation: {ground_ft} ft NAVD88 (DEM)" in depth
    assert "Water surface: 10 ft NAVD88 (BFE)" in depth
    assert "LOMA" not in depth  # below the water surface: no candidate
    page.screenshot(path=str(ARTIFACTS / "map-depth-report.png"))

    loma = POINTS["loma_candidate"]
    click_point(page, loma)
    page.wait_for_function(
        "() => /Possible LOMA candidate/.test(document.getElementById('report').innerText)")
    text = page.locator("#report .report-depth").inner_text()
    assert "Letter of Map Amendment" in text and "Elevation Certificate" in text
    assert page.locator("#report .report-loma").count() == 1

    outside = POINTS["outside_dem"]  # no raster here: the panel says so, nothing breaks
    click_point(page, outside)
    page.wait_for_function(
        "() => /no DEM covers this point/.test(document.getElementById('report').innerText)")
    assert page.locator("#report .report-loma").count() == 0
    assert other_hosts(seen["requests"]) == []
    assert seen["problems"] == []


def test_no_depth_grid_in_scope_shows_no_depth_legend(server, watched) -> None:
    page, seen = watched
    answer = {"rasters": [], "tiles": {"minzoom": 8, "maxzoom": 19}, "depth_legend": [
        {"label": "0–1 ft", "colour": "#c6dbef", "min_ft": 0.0, "max_ft": 1.0}]}
    page.route("**/api/rasters", lambda route: route.fulfill(json=answer))
    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/rasters"):
        page.goto(server + "/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#depth-layers").is_hidden()
    assert page.locator(".depth-toggle").count() == 0
    assert page.locator(".depth-class").count() == 0
    point = POINTS["ae_bfe_10"]
    click_point(page, point)  # the rest of the page still works
    page.wait_for_selector("#report .report-zone")
    assert not any("/api/rasters/" in url for url in seen["requests"])
    assert seen["problems"] == []


def test_phone_layout_keeps_the_depth_legend_on_screen(server, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    point = POINTS["ae_bfe_10"]
    page.goto(f"{server}/?lon={point['lon']}&lat={point['lat']}&zoom=15")
    page.wait_for_selector("#report .report-depth")
    page.locator("#depth-layers .depth-class").first.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    legend = page.locator(".map-legend").bounding_box()
    assert legend["x"] >= 0 and legend["x"] + legend["width"] <= 390
    assert legend["y"] + legend["height"] <= 844
    page.screenshot(path=str(ARTIFACTS / "map-depth-phone.png"))
    page.close()
