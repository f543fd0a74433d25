"""The Content-Security-Policy in a real headless Chromium: pages work with zero violations.

The app runs under `flask serve` on loopback with a basemap served from another origin (a small
tile server on another port), so the policy's img-src must name it for the map to draw.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from geoapp.db.models import User
from geoapp.users import accounts
from tests.browser.test_browser import KNOWN, TILES_DRAWN, sample_in_db
from tests.conftest import SERVER_SECRET_KEY, TEST_PASSWORD
from tests.live_server import live_server

pytestmark = pytest.mark.browser
PROJECT = Path(__file__).resolve().parents[2]
# Recorded before any page script runs (Playwright's init scripts are not subject to CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + event.blockedURI);
});
"""
BASEMAP_DRAWN = "() => document.querySelectorAll('img.leaflet-tile-loaded').length > 0"
__all__ = ["sample_in_db"]  # a fixture shared with tests/browser/test_browser.py


def png_tile() -> bytes:
    """A 1x1 opaque blue PNG, as a basemap tile."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x20\x40\xc0")) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def basemap() -> Iterator[tuple[str, list[str]]]:
    """A tile server on another origin; yields its URL template and the paths asked for."""
    tile, requested = png_tile(), []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            requested.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png", requested
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def analyst(database_url) -> Iterator[str]:
    """A committed analyst account for the module (deleted at the end); yields its email."""
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        user = accounts.create_user(session, "csp-analyst@example.org", TEST_PASSWORD, "analyst")
        session.commit()
        user_id = user.id
    yield "csp-analyst@example.org"
    with engine.begin() as conn:
        conn.execute(sa.delete(User).where(User.id == user_id))
    engine.dispose()


@pytest.fixture(scope="module")
def server(database_url, sample_in_db, basemap, analyst) -> Iterator[str]:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY,
           "GEOAPP_BASEMAP_URL": basemap[0], "GEOAPP_GEOCODER_URL": ""}
    with live_server(env) as base:
        yield base


@pytest.fixture()
def watched(browser):
    """A fresh page (own cookies) that records CSP violations and other problems."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" or "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    # Requests aborted by leaving a page are not problems; blocked ones are (ERR_BLOCKED_BY_CSP).
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url} {req.failure}")
            if req.failure != "net::ERR_ABORTED" else None)

    def violations() -> list[str]:
        return page.evaluate("() => window.__cspViolations") + problems

    def wait_for(condition: str) -> None:
        """Wait for a page condition; when it never comes, say what the policy blocked."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            page.wait_for_function(condition, timeout=15000)
        except PlaywrightTimeout:
            assert violations() == [], f"{condition} never held"
            raise

    yield page, violations, wait_for
    context.close()


def test_map_page_draws_with_zero_violations(server, basemap, watched) -> None:
    page, violations, wait_for = watched
    point = KNOWN["ae_with_bfe"]
    page.goto(f"{server}/?lon={point['lon']}&lat={point['lat']}&zoom=15")
    wait_for(TILES_DRAWN)
    wait_for(BASEMAP_DRAWN)  # img-src names the basemap's origin
    page.wait_for_selector("#report .report-zone")  # the page's script ran, and asked
    assert "Zone AE" in page.locator("#report").inner_text()
    assert basemap[1], "no basemap tile was requested"
    page.locator(".status-toggle").first.uncheck()  # the legend script is wired up
    assert violations() == []


def test_report_page_has_zero_violations(server, watched) -> None:
    page, violations, _ = watched
    point = KNOWN["floodway"]
    page.goto(f"{server}/report?lon={point['lon']}&lat={point['lat']}")
    assert page.locator(".report-svg path.zone-shape").count() >= 2
    page.evaluate("() => { window.print = function () { window.__printed = true; }; }")
    page.click("button[data-print]")  # page.js, not an inline onclick, does the printing
    assert page.evaluate("() => window.__printed") is True
    assert violations() == []


def test_items_page_map_has_zero_violations(server, watched) -> None:
    page, violations, wait_for = watched
    page.goto(f"{server}/api/collections/flood_zones/items?f=html&limit=5")
    wait_for("() => document.querySelectorAll('#items-map path').length > 0")
    assert violations() == []


def test_analyst_pages_have_zero_violations(server, sample_in_db, analyst, watched) -> None:
    page, violations, wait_for = watched
    page.goto(f"{server}/login?next=/upload")
    page.fill("input[name=email]", analyst)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")  # form-action 'self' allows the post and its redirect
    page.wait_for_url(f"{server}/upload")
    page.set_input_files("#file-input", {"name": "zones.geojson", "mimeType": "application/json",
                                         "buffer": b"{}"})
    assert page.locator("#drop-label").inner_text() == "zones.geojson"  # upload.js ran
    # The fields of the kind of file chosen: a zone file's, a DEM's, a depth grid's.
    assert page.locator("#field_map").is_visible() and not page.locator("#unit").is_visible()
    page.select_option("#kind", "dem")
    assert page.locator("#unit").is_visible() and page.locator("#vertical_datum").is_visible()
    assert not page.locator("#event").is_visible() and not page.locator("#field_map").is_visible()
    page.select_option("#kind", "depth")
    assert page.locator("#event").is_visible()
    page.goto(f"{server}/datasets/{sample_in_db}")
    wait_for("() => document.querySelectorAll('.folium-map path').length > 0")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("text=Delete dataset")  # asks first; dismissed, so nothing is deleted
    page.wait_for_timeout(300)
    assert asked == ["Delete this dataset and all its zones?"]
    assert page.url == f"{server}/datasets/{sample_in_db}"
    assert violations() == []


def test_api_reference_renders_offline_with_zero_violations(server, watched) -> None:
    """Swagger UI, served from /vendor, draws every operation and asks no other origin."""
    page, violations, wait_for = watched
    elsewhere: list[str] = []
    page.on("request", lambda req: elsewhere.append(req.url)
            if not req.url.startswith((server, "data:")) else None)
    page.goto(f"{server}/api/docs")
    wait_for("() => document.querySelectorAll('.opblock-summary').length > 20")
    assert page.locator(".opblock-summary-path[data-path='/lookup']").count() == 1
    assert elsewhere == []
    assert violations() == []
