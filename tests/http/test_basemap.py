"""The basemap setting: none (a note, nothing external), a tile URL, an MBTiles file whose tiles
the app serves, a PMTiles archive served whole with Range requests; and unusable files."""

from __future__ import annotations

import logging
import re
import sqlite3

import pytest

from geoapp.db.queries import mbtiles as mbtiles_sql
from geoapp.web import basemap as basemaps
from tests.basemap_files import png, world_tiles, write_mbtiles, write_pmtiles

SQUARE = "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))"
EXTERNAL_URL = re.compile(r"\b(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}",
                          re.IGNORECASE)
ATTRIBUTION = '<a href="https://maps.example.org/">&copy; Example Maps</a> <b>2026</b>'


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.fixture()
def use_basemap(app, monkeypatch):
    """Set GEOAPP_BASEMAP_URL (and its attribution) for one test; the app decides again."""
    def configure(url: str, attribution: str = "") -> basemaps.Basemap:
        monkeypatch.setitem(app.config, "GEOAPP_BASEMAP_URL", url)
        monkeypatch.setitem(app.config, "GEOAPP_BASEMAP_ATTRIBUTION", attribution)
        return basemaps.basemap_of(app)
    return configure


@pytest.fixture()
def mbtiles(tmp_path):
    return write_mbtiles(tmp_path / "world.mbtiles", world_tiles(), {
        "name": "World", "format": "png", "minzoom": "0", "maxzoom": "1",
        "bounds": "-180,-85.05,180,85.05", "attribution": ATTRIBUTION})


@pytest.fixture()
def pmtiles_raster(tmp_path):
    return write_pmtiles(tmp_path / "world.pmtiles", {(0, 0, 0): png()}, vector=False,
                         metadata={"attribution": ATTRIBUTION})


# --- no basemap


def test_no_basemap_is_the_default(app) -> None:
    from geoapp.config import DEFAULTS

    assert DEFAULTS["GEOAPP_BASEMAP_URL"] == ""
    assert basemaps.basemap_of(app).kind == basemaps.NONE


@pytest.mark.parametrize("setting", ["", "none", " NONE "])
def test_map_page_without_a_basemap_shows_the_note_and_nothing_external(
        client, make_zone, use_basemap, setting) -> None:
    make_zone(SQUARE)
    use_basemap(setting)
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert "No basemap configured: set GEOAPP_BASEMAP_URL" in page
    assert "basemap-note" in page
    assert "L.tileLayer" not in page and "leafletRasterLayer" not in page
    assert "pmtiles.js" not in page and "protomaps" not in page
    assert EXTERNAL_URL.findall(page) == []
    policy = directives(response)
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert EXTERNAL_URL.findall(response.headers["Content-Security-Policy"]) == []


def test_dataset_page_map_also_says_it_has_no_basemap(client, make_dataset, make_zone,
                                                      use_basemap) -> None:
    dataset = make_dataset(name="Extent")
    make_zone(SQUARE, dataset=dataset)
    use_basemap("")
    page = client.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    assert "No basemap configured" in page and EXTERNAL_URL.findall(page) == []


# --- a tile URL


def test_tile_url_template_is_drawn_and_allowed_by_the_policy(client, make_zone,
                                                              use_basemap) -> None:
    make_zone(SQUARE)
    template = "https://tiles.example.net/osm/{z}/{x}/{y}.png"
    chosen = use_basemap(template, "&copy; Example contributors")
    assert chosen.kind == basemaps.TILES
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert "L.tileLayer" in page and f'"{template}"' in page
    assert "\\u0026copy; Example contributors" in page  # HTML, as Leaflet shows it
    assert "No basemap" not in page
    policy = directives(response)
    assert policy["img-src"] == ["'self'", "data:", "https://tiles.example.net"]
    assert policy["connect-src"] == ["'self'"]  # tiles are images, never fetched by scripts


@pytest.mark.parametrize("setting", [
    "https://tiles.example.net/osm/{z}/{y}.png",  # no {x}
    "ftp://tiles.example.net/{z}/{x}/{y}.png",
    "tiles.example.net/{z}/{x}/{y}.png",
    "https://tiles.example.net/{z}/{x}/{y}.png\" onerror=\"alert(1)",
    "https://tiles.example.net/world.pmtiles",  # archives are served from files only
    "/srv/maps/world.geojson",
])
def test_anything_else_means_no_basemap_and_one_warning(client, make_zone, use_basemap,
                                                        caplog, setting) -> None:
    make_zone(SQUARE)
    with caplog.at_level(logging.WARNING):
        chosen = use_basemap(setting)
        use_basemap(setting)  # decided once: no second warning
    assert chosen.kind == basemaps.NONE
    warnings = [r for r in caplog.records if "GEOAPP_BASEMAP_URL" in r.getMessage()]
    assert len(warnings) == 1 and "cannot be used" in warnings[0].getMessage()
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert "No basemap: the configured basemap cannot be used" in page
    assert "tiles.example.net" not in page and "/srv/maps" not in page
    assert directives(response)["img-src"] == ["'self'", "data:"]


def test_a_warning_is_logged_when_the_app_starts(database_url, tmp_path, caplog) -> None:
    from geoapp import create_app

    with caplog.at_level(logging.WARNING):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                    "GEOAPP_BASEMAP_URL": str(tmp_path / "missing.mbtiles")})
    warnings = [r.getMessage() for r in caplog.records if "GEOAPP_BASEMAP_URL" in r.getMessage()]
    assert len(warnings) == 1
    assert "missing.mbtiles is not a readable file" in warnings[0]


# --- MBTiles


def test_mbtiles_tiles_are_served_with_flipped_rows(client, mbtiles, use_basemap) -> None:
    chosen = use_basemap(str(mbtiles))
    assert (chosen.kind, chosen.min_zoom, chosen.max_zoom) == (basemaps.MBTILES, 0, 1)
    tiles = world_tiles()
    for (z, x, y), data in tiles.items():
        response = client.get(f"/basemap/tiles/{z}/{x}/{y}")
        assert response.status_code == 200, (z, x, y)
        assert response.mimetype == "image/png"
        assert response.data == data, f"tile {z}/{x}/{y} is not the XYZ tile of that row"
    # The row stored as tile_row 1 at zoom 1 is the northern one, XYZ y = 0.
    with sqlite3.connect(mbtiles) as conn:
        north = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = 1 AND "
                             "tile_column = 0 AND tile_row = 1").fetchone()[0]
    assert client.get("/basemap/tiles/1/0/0").data == north != tiles[(1, 0, 1)]


def test_mbtiles_tile_caching_headers(client, mbtiles, use_basemap) -> None:
    use_basemap(str(mbtiles))
    response = client.get("/basemap/tiles/0/0/0")
    assert response.cache_control.max_age == basemaps.MAX_AGE_S > 0
    assert response.cache_control.public
    etag = response.headers["ETag"]
    again = client.get("/basemap/tiles/0/0/0", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/basemap/tiles/1/0/0")
    assert other.headers["ETag"] != etag


@pytest.mark.parametrize("path", ["/basemap/tiles/2/0/0",  # a zoom the file does not have
                                  "/basemap/tiles/1/2/0",  # outside the zoom's grid
                                  "/basemap/tiles/1/0/2",
                                  "/basemap/tiles/31/0/0",
                                  "/basemap/tiles/99999/0/0"])
def test_absent_mbtiles_tiles_are_404(client, mbtiles, use_basemap, path) -> None:
    use_basemap(str(mbtiles))
    assert client.get(path).status_code == 404


def test_map_page_draws_the_mbtiles_basemap(client, make_zone, mbtiles, use_basemap) -> None:
    make_zone(SQUARE)
    use_basemap(str(mbtiles))
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert '"/basemap/tiles/{z}/{x}/{y}"' in page and "L.tileLayer" in page
    assert '"maxNativeZoom": 1' in page
    # The file's attribution, its markup dropped (files come from anywhere).
    assert "\\u00a9 Example Maps 2026" in page
    assert "maps.example.org" not in page and "2026\\u003c/b" not in page
    assert "No basemap" not in page and EXTERNAL_URL.findall(page) == []
    assert directives(response)["img-src"] == ["'self'", "data:"]


def test_configured_attribution_wins_over_the_file(client, mbtiles, use_basemap) -> None:
    assert use_basemap(str(mbtiles), "Our survey").attribution == "Our survey"


def test_mbtiles_path_relative_to_the_instance_folder(app, client, mbtiles, use_basemap,
                                                     tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    chosen = use_basemap("world.mbtiles")
    assert chosen.kind == basemaps.MBTILES and chosen.source == str(mbtiles.resolve())
    assert client.get("/basemap/tiles/0/0/0").status_code == 200


@pytest.mark.parametrize(("fmt", "media_type"), [("jpg", "image/jpeg"), ("webp", "image/webp"),
                                                  ("image/png", "image/png"), ("", "image/png")])
def test_mbtiles_content_type_follows_its_format(client, tmp_path, use_basemap, fmt,
                                                 media_type) -> None:
    metadata = {"format": fmt} if fmt else {}  # no format: told by the tiles' bytes
    path = write_mbtiles(tmp_path / "f.mbtiles", {(0, 0, 0): png()}, metadata)
    assert use_basemap(str(path)).media_type == media_type
    assert client.get("/basemap/tiles/0/0/0").mimetype == media_type


def test_vector_mbtiles_is_refused_with_a_clear_message(client, tmp_path, use_basemap,
                                                        caplog) -> None:
    path = write_mbtiles(tmp_path / "vector.mbtiles", {(0, 0, 0): b"\x1a\x00"},
                         {"format": "pbf"})
    with caplog.at_level(logging.WARNING):
        assert use_basemap(str(path)).kind == basemaps.NONE
    assert "vector tiles (format pbf)" in caplog.text and ".pmtiles" in caplog.text
    assert client.get("/basemap/tiles/0/0/0").status_code == 404
    assert "No basemap: the configured basemap cannot be used" in client.get(
        "/").get_data(as_text=True)


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100])
def test_unreadable_mbtiles_means_no_basemap(tmp_path, use_basemap, content) -> None:
    path = tmp_path / "broken.mbtiles"
    path.write_bytes(content)
    assert use_basemap(str(path)).kind == basemaps.NONE


def test_the_mbtiles_file_is_opened_read_only(client, mbtiles, use_basemap) -> None:
    before = mbtiles.read_bytes()
    use_basemap(str(mbtiles))
    client.get("/basemap/tiles/0/0/0")
    assert mbtiles.read_bytes() == before
    assert not mbtiles.with_name(mbtiles.name + "-journal").exists()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        mbtiles_sql.open_read_only(mbtiles).execute("DELETE FROM tiles")


# --- PMTiles


def test_pmtiles_archive_answers_range_requests(client, pmtiles_raster, use_basemap) -> None:
    assert use_basemap(str(pmtiles_raster)).kind == basemaps.PMTILES_RASTER
    content = pmtiles_raster.read_bytes()

    def get(**headers: str):
        response = client.get("/basemap/archive.pmtiles", headers=headers)
        response.get_data()  # read, then the file sent is closed
        response.close()
        return response

    response = get(Range="bytes=0-126")
    assert response.status_code == 206
    assert len(response.data) == 127 and response.data[:8] == b"PMTiles\x03"
    assert response.headers["Content-Range"] == f"bytes 0-126/{len(content)}"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers.get("Content-Encoding") is None  # never gzipped: ranges are bytes
    middle = get(Range="bytes=127-200")
    assert middle.status_code == 206 and middle.data == content[127:201]
    whole = get()
    assert whole.status_code == 200 and whole.data == content
    assert whole.cache_control.max_age == basemaps.MAX_AGE_S and whole.headers["ETag"]
    assert get(Range=f"bytes={len(content) + 10}-").status_code == 416


def test_map_page_reads_a_raster_pmtiles_archive(client, make_zone, pmtiles_raster,
                                                 use_basemap) -> None:
    make_zone(SQUARE)
    chosen = use_basemap(str(pmtiles_raster))
    assert (chosen.min_zoom, chosen.max_zoom) == (0, 0)
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert re.search(r'<script [^>]*src="/vendor/pmtiles/dist/pmtiles.js"', page)
    assert "pmtiles.leafletRasterLayer" in page and '"/basemap/archive.pmtiles"' in page
    assert "protomaps" not in page and EXTERNAL_URL.findall(page) == []
    assert "Example Maps 2026" in page  # the archive's attribution (from its metadata)
    # The library decodes tiles into blob: URLs; they load from this server only.
    policy = directives(response)
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["connect-src"] == ["'self'"]
    script = client.get("/vendor/pmtiles/dist/pmtiles.js")
    assert script.status_code == 200 and b"leafletRasterLayer" in script.data
    script.close()


def test_map_page_reads_a_vector_pmtiles_archive(client, make_zone, tmp_path,
                                                 use_basemap) -> None:
    make_zone(SQUARE)
    tiles = {(0, 0, 0): b"\x1a\x00", (1, 0, 0): b"\x1a\x01"}  # vector tiles, never decoded
    path = write_pmtiles(tmp_path / "vector.pmtiles", tiles, vector=True, metadata={})
    chosen = use_basemap(str(path))
    assert chosen.kind == basemaps.PMTILES_VECTOR and chosen.attribution == ""
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert re.search(r'<script [^>]*src="/vendor/protomaps-leaflet/dist/protomaps-leaflet.js"',
                     page)
    assert "protomapsL.leafletLayer" in page and '"/basemap/archive.pmtiles"' in page
    assert '"maxDataZoom": 1' in page and EXTERNAL_URL.findall(page) == []
    assert directives(response)["img-src"] == ["'self'", "data:"]  # drawn on canvases
    script = client.get("/vendor/protomaps-leaflet/dist/protomaps-leaflet.js")
    assert script.status_code == 200 and b"protomapsL" in script.data
    script.close()


def test_archive_route_is_404_without_a_pmtiles_basemap(client, mbtiles, use_basemap) -> None:
    use_basemap(str(mbtiles))
    assert client.get("/basemap/archive.pmtiles").status_code == 404
    use_basemap("")
    assert client.get("/basemap/archive.pmtiles").status_code == 404
    assert client.get("/basemap/tiles/0/0/0").status_code == 404


@pytest.mark.parametrize("content", [b"", b"PMTiles\x02" + bytes(200), b"GIF89a" + bytes(200)])
def test_unusable_pmtiles_means_no_basemap(tmp_path, use_basemap, caplog, content) -> None:
    path = tmp_path / "bad.pmtiles"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert use_basemap(str(path)).kind == basemaps.NONE
    assert "cannot be used" in caplog.text


@pytest.mark.parametrize(("offset", "value"), [(99, 0),  # tile type: unknown
                                               (98, 3),  # tiles compressed with brotli
                                               (98, 4)])  # with zstd
def test_pmtiles_header_the_browser_cannot_read_is_refused(tmp_path, pmtiles_raster,
                                                          use_basemap, offset, value) -> None:
    assert use_basemap(str(pmtiles_raster)).kind == basemaps.PMTILES_RASTER
    data = bytearray(pmtiles_raster.read_bytes())
    data[offset] = value
    path = tmp_path / "unreadable.pmtiles"
    path.write_bytes(bytes(data))
    assert use_basemap(str(path)).kind == basemaps.NONE
