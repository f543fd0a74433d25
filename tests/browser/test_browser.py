"""The map page in a real headless Chromium (Debian's), driven by Playwright.

The app runs under `flask serve` on loopback against the test database, with the sample data
committed for the module's duration, and no basemap: every request the page makes must be
answered by the app itself (the offline case). Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from geoapp.cli import SAMPLE_FILE
from geoapp.db.models import Dataset
from geoapp.ingest import pipeline, runs
from geoapp.ingest.request import ImportRequest
from tests.conftest import SERVER_SECRET_KEY
from tests.gazetteer import running_gazetteer
from tests.live_server import live_server

pytestmark = pytest.mark.browser
PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
KNOWN = {p["name"]: p for p in json.loads(
    (SAMPLE_FILE.parent / "known_points.json").read_text(encoding="utf-8"))}
TILES_DRAWN = "() => document.querySelectorAll('.leaflet-tile-pane canvas').length > 0"
TILES_PAINTED = """() => Array.from(document.querySelectorAll('.leaflet-tile-pane canvas'))
  .some(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; } return false; })"""
@pytest.fixture(scope="module")
def sample_in_db(app, database_url):
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        options = ImportRequest(name="Browser sample <b>")
        dataset = runs.create_pending(session, options, SAMPLE_FILE.name, None)
        pipeline.import_layer(session, dataset, SAMPLE_FILE, options)
        session.commit()
        dataset_id = dataset.id
    yield dataset_id
    with engine.begin() as conn:
        conn.execute(sa.delete(Dataset).where(Dataset.id == dataset_id))
    engine.dispose()


@pytest.fixture(scope="module")
def geocoder():
    with running_gazetteer(KNOWN) as (url, _requests):
        yield url


@pytest.fixture(scope="module")
def server(database_url, sample_in_db, geocoder):
    env = {"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY,
           "GEOAPP_BASEMAP_URL": "", "GEOAPP_GEOCODER_URL": geocoder}
    with live_server(env, threads=8) as base:
        yield base


@pytest.fixture()
def page_watch(browser):
    """A fresh page that records console errors and failed requests."""
    def open_page(width: int = 1280, height: int = 800):
        page = browser.new_page(viewport={"width": width, "height": height})
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
        page.on("response", lambda res: problems.append(f"HTTP {res.status}: {res.url}")
                if res.status >= 400 else None)
        return page, problems
    return open_page


def drawn_tiles(page) -> int:
    """How many vector tile canvases have painted pixels."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.leaflet-tile-pane canvas'))
        .filter(c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; }
                       return false; }).length""")


def map_name(page) -> str:
    return page.evaluate("() => Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))")


def test_map_draws_tiles_and_click_reports_the_zone(server, page_watch) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, problems = page_watch()
    with page.expect_response(lambda r: "/tiles/WebMercatorQuad/" in r.url and r.status == 200):
        page.goto(server + "/")
    page.wait_for_function(TILES_DRAWN)
    page.wait_for_timeout(500)
    assert drawn_tiles(page) > 0
    point = KNOWN["ae_with_bfe"]
    name = map_name(page)
    page.evaluate(f"() => {name}.setView([{point['lat']}, {point['lon']}], 15)")
    page.wait_for_timeout(300)
    xy = page.evaluate(f"() => {name}.latLngToContainerPoint([{point['lat']}, {point['lon']}])")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + xy["x"], box["y"] + xy["y"])
    page.wait_for_selector("#report .report-zone")
    report = page.locator("#report").inner_text()
    assert "Zone AE" in report and "10" in report and "High risk" in report
    assert "Browser sample <b>" in report  # shown as text, not markup
    printable = page.locator("#report a", has_text="Printable report").get_attribute("href")
    assert printable.startswith("/report?lon=-74.0696")
    shared = parse_qs(urlsplit(page.url).query)  # the shareable link follows the click
    assert abs(float(shared["lat"][0]) - point["lat"]) < 1e-4
    page.screenshot(path=str(ARTIFACTS / "map-desktop.png"))
    # Hiding every risk status empties the tiles; showing them again draws them back.
    for box in page.locator(".status-toggle").all():
        box.uncheck()
    page.wait_for_function("() => !(" + TILES_PAINTED + ")()")
    for box in page.locator(".status-toggle").all():
        box.check()
    page.wait_for_function(TILES_PAINTED)
    assert problems == []
    page.close()


def test_address_search_goes_to_the_place_and_reports_it(server, page_watch) -> None:
    page, problems = page_watch()
    page.goto(server + "/")
    page.fill("#search-text", "Riverside")
    page.press("#search-text", "Enter")
    page.wait_for_selector("#report .report-zone")
    text = page.locator("#report").inner_text()
    assert "Zone AE" in text  # the first place, 12 Riverside Drive, is in the AE zone
    assert "Riverside Marina, Brielle" in page.locator("#report .place-choices").inner_text()
    page.click("#report .place-choices button")
    page.wait_for_function("() => /floodway/i.test(document.getElementById('report').innerText)")
    page.fill("#search-text", "Atlantis")
    page.press("#search-text", "Enter")
    page.wait_for_function(
        "() => /No place found/.test(document.getElementById('report').innerText)")
    assert problems == []
    page.close()


def test_drawn_parcel_gets_its_exposure(server, page_watch) -> None:
    page, problems = page_watch()
    point = KNOWN["ae_with_bfe"]
    page.goto(f"{server}/?lon={point['lon']}&lat={point['lat']}&zoom=16")
    page.wait_for_selector("#report .report-zone")
    page.click("a.leaflet-draw-draw-rectangle")
    box = page.locator(".folium-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 60, cy - 40)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 40, steps=5)
    page.mouse.up()
    page.wait_for_selector("#report .exposure-sfha")
    text = page.locator("#report").inner_text()
    assert "Parcel:" in text and "Zone AE" in text and "Special Flood Hazard Area" in text
    page.screenshot(path=str(ARTIFACTS / "map-parcel.png"))
    assert problems == []
    page.close()


def test_phone_layout_opens_a_shared_point(server, page_watch) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, problems = page_watch(390, 844)
    point = KNOWN["x_minimal"]
    page.goto(f"{server}/?lon={point['lon']}&lat={point['lat']}&zoom=15")
    page.wait_for_selector("#report .report-zone")
    panel = page.locator("#report").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 390
    assert panel["y"] + panel["height"] <= 844
    text = page.locator("#report").inner_text()
    assert "Zone X" in text and "Nearest high-risk zone" in text
    page.screenshot(path=str(ARTIFACTS / "map-phone.png"))
    assert problems == []
    page.close()


def test_printable_report_in_the_browser(server, page_watch) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, problems = page_watch()
    point = KNOWN["floodway"]
    page.goto(f"{server}/report?lon={point['lon']}&lat={point['lat']}")
    assert "AE" in page.locator(".report-zone").first.inner_text()
    # The static map: zone shapes drawn as SVG, with a visible size.
    shapes = page.locator(".report-svg path.zone-shape")
    assert shapes.count() >= 2
    assert page.locator(".report-svg").bounding_box()["width"] > 300
    pdf = page.request.get(server + page.locator("a", has_text="PDF").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "report-print.png"), full_page=True)
    assert problems == []
    page.close()


@pytest.fixture()
def bfe_line(database_url, sample_in_db):
    """A BFE line of the sample's dataset across the AE zone, committed for one test. Package
    layers change only with their dataset's import, whose write to the dataset changes the
    served data's version (and so the tiles' cache keys): the fixture touches it likewise."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import LineString, MultiLineString

    from geoapp.db.models import BfeLine

    point = KNOWN["ae_with_bfe"]
    line = MultiLineString([LineString([(point["lon"] + 0.0005, point["lat"] - 0.002),
                                        (point["lon"] + 0.0005, point["lat"] + 0.002)])])
    engine = sa.create_engine(database_url)
    touch = sa.update(Dataset).where(Dataset.id == sample_in_db).values(name=Dataset.name)
    with engine.begin() as conn:
        line_id = conn.execute(sa.insert(BfeLine).values(
            dataset_id=sample_in_db, elev=11.5, len_unit="Feet", v_datum="NAVD88",
            geom=from_shape(line, 4326)).returning(BfeLine.id)).scalar_one()
        conn.execute(touch)
    yield point
    with engine.begin() as conn:
        conn.execute(sa.delete(BfeLine).where(BfeLine.id == line_id))
        conn.execute(touch)
    engine.dispose()


def test_bfe_lines_are_shown_from_the_legend_and_labelled_up_close(server, page_watch,
                                                                  bfe_line) -> None:
    page, problems = page_watch()
    page.goto(f"{server}/?zoom=16&lon={bfe_line['lon']}&lat={bfe_line['lat']}")
    page.wait_for_selector("#report .report-zone")
    page.wait_for_function(TILES_PAINTED)
    assert page.locator(".layer-toggle:checked").count() == 0  # off at first
    assert page.locator(".bfe-label-text").count() == 0
    page.check(".layer-toggle[value=bfe_lines]")
    page.wait_for_selector(".bfe-label-text")
    assert page.locator(".bfe-label-text").all_inner_texts() == ["11.5"]
    page.screenshot(path=str(ARTIFACTS / "map-bfe-lines.png"))
    name = map_name(page)
    page.evaluate(f"() => {name}.setZoom(13)")  # lines still drawn, too small to label
    page.wait_for_function("() => document.querySelectorAll('.bfe-label-text').length === 0")
    page.evaluate(f"() => {name}.setZoom(16)")
    page.wait_for_selector(".bfe-label-text")
    page.uncheck(".layer-toggle[value=bfe_lines]")
    page.wait_for_function("() => document.querySelectorAll('.bfe-label-text').length === 0")
    page.check(".layer-toggle[value=panels]")  # the sample has no panels: nothing breaks
    page.wait_for_timeout(300)
    assert problems == []
    page.close()
