"""Uploads are untrusted: a file must not make GDAL or PROJ read other files or the network.

Each hostile file goes through the real routes (POST /api/datasets with an analyst token, the
upload form) and the CLI (`flask zones import`). Files that would leak something hold a
marker: a secret in a local file, or a loopback HTTP server (a separate process, so that
GDAL waiting on it cannot block it) that records every request it gets.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyogrio
import pyogrio.raw
import pyproj.network
import pytest
from shapely.geometry import box
from sqlalchemy import func, select

from geoapp.db.models import Dataset, FloodZone
from tests.conftest import TEST_PASSWORD
from tests.upload_files import (
    geojson_document,
    kml_document,
    nfhl_squares,
    shapefile_parts,
    vrt_document,
    write_layer,
    zip_files,
)

SQUARE = [(-80.0, 30.0), (-79.99, 30.0), (-79.99, 30.01), (-80.0, 30.01), (-80.0, 30.0)]
SERVER = r"""
import http.server, sys
log, body = sys.argv[1], sys.argv[2].encode()
class Recorder(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(log, "a") as out:
            out.write(f"{self.command} {self.path}\n")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    do_GET = do_HEAD = do_POST = answer
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
print(server.server_port, flush=True)
server.serve_forever()
"""


@dataclass
class Loopback:
    """A local HTTP server that answers every request with a marked KML document."""

    url: str
    log: Path
    marker: str

    def requests(self) -> list[str]:
        """Every request received so far."""
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture()
def loopback(tmp_path) -> Iterator[Loopback]:
    marker = f"REMOTE-{uuid.uuid4().hex.upper()}"
    log = tmp_path / "requests.log"
    body = kml_document().replace("<name>zone</name>", f"<name>{marker}</name>")
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(log), body],
                               stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        yield Loopback(f"http://127.0.0.1:{port}", log, marker)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@dataclass
class Secret:
    """A server-side file holding a marker (as a secret key would)."""

    path: Path
    marker: str


@pytest.fixture()
def secret(tmp_path) -> Secret:
    """A file outside any upload, readable as CSV: its row would import as a zone."""
    marker = f"SECRET-{uuid.uuid4().hex.upper()}"
    path = tmp_path / "instance" / "secret_key"
    path.parent.mkdir()
    path.write_text('WKT,FLD_ZONE\n"POLYGON((-80 30,-79.99 30,-79.99 30.01,-80 30))",'
                    f"{marker}\n")
    return Secret(path, marker)


@pytest.fixture()
def analyst(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}"}


def upload(client, headers, path: Path, name: str, **fields):
    data = {"name": name, **fields, "file": (io.BytesIO(path.read_bytes()), path.name)}
    return client.post("/api/datasets", data=data, headers=headers,
                       content_type="multipart/form-data")


def imported(session, name: str) -> int:
    """Ready datasets of that name plus their zones (0 when nothing was imported)."""
    ready = session.scalars(select(Dataset.id).where(Dataset.name == name,
                                                     Dataset.status == "ready")).all()
    zones = session.scalar(select(func.count()).select_from(FloodZone)
                           .where(FloodZone.dataset_id.in_(ready))) if ready else 0
    return len(ready) + zones


def assert_refused(response, session, name: str, *secrets: str) -> dict:
    """A 4xx JSON error naming no server path and no secret; nothing imported."""
    text = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, text
    body = response.get_json()
    assert set(body) == {"error", "message"} and body["error"] != "internal_error"
    assert "/tmp/" not in text and "geoapp-import-" not in text
    for marker in secrets:  # zone codes are upper-cased on import: compare in any case
        assert marker.lower() not in text.lower()
    assert imported(session, name) == 0
    return body


def cli_import(app, session, path: Path, name: str, *options: str, secrets: tuple = ()):
    """`flask zones import` refused: an error, no secret or server path printed, no import."""
    result = app.test_cli_runner().invoke(
        args=["zones", "import", str(path), "--name", name, *options])
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output
    message = result.output.split("Error:", 1)[1]
    assert "/tmp/" not in message and "geoapp-import-" not in message
    for marker in secrets:
        assert marker.lower() not in result.output.lower()
    assert imported(session, name) == 0
    return message


def zipped(tmp_path: Path, member: str, content: str, archive: str = "upload.zip") -> Path:
    target = tmp_path / archive
    with zipfile.ZipFile(target, "w") as bundle:
        bundle.writestr(member, content)
    return target


# --- GDAL itself, whatever reaches it -----------------------------------------------------


def test_gdal_keeps_only_the_drivers_the_app_needs(app) -> None:
    drivers = set(pyogrio.list_drivers())
    assert {"OGR_VRT", "CSV", "GPKG", "GeoJSON"} & drivers == {"CSV", "GPKG", "GeoJSON"}
    for unwanted in ("GML", "GPSBabel", "SQLite", "WFS", "OAPIF", "HTTP", "GDALG", "MEM"):
        assert unwanted not in drivers


def test_gdal_does_not_open_a_vrt(app, secret, tmp_path) -> None:
    vrt = tmp_path / "zones.vrt"
    vrt.write_text(vrt_document(f"CSV:{secret.path}", "secret_key"))
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.raw.read(str(vrt))


def test_gdal_and_proj_make_no_network_request(app, loopback, tmp_path) -> None:
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_info(f"/vsicurl/{loopback.url}/direct.kml")
    # GDAL's own HTTP client (CPLHTTPFetch), used by the GeoJSON driver for a linked CRS.
    linked = tmp_path / "linked.geojson"
    linked.write_text(json.dumps(geojson_document([SQUARE], {
        "type": "link", "properties": {"href": f"{loopback.url}/crs.wkt", "type": "ogcwkt"}})))
    pyogrio.read_info(str(linked))
    assert loopback.requests() == []
    assert pyproj.network.is_network_enabled() is False
    assert os.environ.get("PROJ_NETWORK") == "OFF"  # for PROJ in child processes too


# --- Hostile files through the API and the CLI ----------------------------------------------


@pytest.mark.parametrize("disguise", ["kml", "vrt", "kml in zip"])
def test_vrt_reading_a_server_file_is_refused(client, app, session, analyst, secret,
                                              tmp_path, disguise) -> None:
    document = vrt_document(f"CSV:{secret.path}", "secret_key")
    if disguise == "kml in zip":
        path = zipped(tmp_path, "S_FLD_HAZ_AR.kml", document)
    else:
        path = tmp_path / f"S_FLD_HAZ_AR.{disguise}"
        path.write_text(document)
    body = assert_refused(upload(client, analyst, path, "vrt"), session, "vrt", secret.marker)
    assert body["error"] in {"wrong_content", "unsupported_format", "unsafe_archive"}
    cli_import(app, session, path, "vrt cli", secrets=(secret.marker,))
    listing = client.get("/api/datasets").get_data(as_text=True)
    assert secret.marker.lower() not in listing.lower()


def test_vrt_member_of_an_archive_is_refused(client, app, session, analyst, secret,
                                             tmp_path) -> None:
    # The .vrt is not the member that would be opened: it is refused all the same.
    geojson = tmp_path / "zones.geojson"
    geojson.write_text(json.dumps(geojson_document([SQUARE])))
    extra = tmp_path / "extra.vrt"
    extra.write_text(vrt_document(f"CSV:{secret.path}", "secret_key"))
    archive = zip_files(tmp_path / "mixed.zip", [geojson, extra])
    body = assert_refused(upload(client, analyst, archive, "mixed"), session, "mixed",
                          secret.marker)
    assert body["error"] == "unsafe_archive" and "extra.vrt" in body["message"]
    cli_import(app, session, archive, "mixed cli")


def test_vrt_reading_a_url_is_refused(client, app, session, analyst, loopback,
                                      tmp_path) -> None:
    path = tmp_path / "remote.kml"
    path.write_text(vrt_document(f"/vsicurl/{loopback.url}/remote.kml", "remote"))
    mapping = '{"FLD_ZONE": "Name"}'
    assert_refused(upload(client, analyst, path, "remote", field_map=mapping), session,
                   "remote", loopback.marker)
    cli_import(app, session, path, "remote cli", "--field-map", mapping,
               secrets=(loopback.marker,))
    assert loopback.requests() == []


@pytest.mark.parametrize("reference", ["networklink", "styleurl", "schemaurl"])
def test_kml_linking_to_other_documents_is_refused(client, app, session, analyst, loopback,
                                                   tmp_path, reference) -> None:
    link = f"{loopback.url}/linked.kml"
    document = {
        "networklink": kml_document(document_extra=f"<NetworkLink><name>more</name><Link>"
                                    f"<href>{link}</href></Link></NetworkLink>"),
        "styleurl": kml_document(placemark_extra=f"<styleUrl>{link}#zone</styleUrl>"),
        "schemaurl": kml_document().replace(
            "<ExtendedData>", f'<ExtendedData><SchemaData schemaUrl="{link}#s"></SchemaData>'),
    }[reference]
    path = tmp_path / "zones.kml"
    path.write_text(document)
    body = assert_refused(upload(client, analyst, path, "kml link"), session, "kml link",
                          loopback.marker)
    assert body["error"] == "external_reference"
    kmz = zipped(tmp_path, "doc.kml", document, "zones.kmz")
    assert_refused(upload(client, analyst, kmz, "kmz link"), session, "kmz link")
    cli_import(app, session, path, "kml link cli")
    assert loopback.requests() == []


def test_kml_with_a_dtd_is_refused(client, session, analyst, tmp_path) -> None:
    path = tmp_path / "zones.kml"
    path.write_text(kml_document().replace(
        "<kml ", '<!DOCTYPE kml [<!ENTITY zone SYSTEM "file:///etc/hostname">]>\n<kml ', 1))
    body = assert_refused(upload(client, analyst, path, "dtd"), session, "dtd")
    assert body["error"] == "wrong_content"


@pytest.mark.parametrize("where", ["local file", "loopback url"])
def test_geojson_with_a_linked_crs_is_refused(client, app, session, analyst, loopback,
                                              tmp_path, where) -> None:
    marker = f"CRS-{uuid.uuid4().hex.upper()}"
    definition = tmp_path / "crs.wkt"
    definition.write_text(f'GEOGCS["{marker}",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
                          '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925]]')
    href = str(definition) if where == "local file" else f"{loopback.url}/crs.wkt"
    path = tmp_path / "linked.geojson"
    path.write_text(json.dumps(geojson_document([SQUARE], {
        "type": "link", "properties": {"href": href, "type": "ogcwkt"}})))
    body = assert_refused(upload(client, analyst, path, "linked crs"), session, "linked crs",
                          marker)
    assert body["error"] == "external_reference"
    cli_import(app, session, path, "linked crs cli", secrets=(marker,))
    assert loopback.requests() == []


def test_geojson_with_a_named_crs_still_imports(client, session, analyst, tmp_path) -> None:
    path = tmp_path / "named.geojson"
    path.write_text(json.dumps(geojson_document([SQUARE], {
        "type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}})))
    response = upload(client, analyst, path, "named crs")
    assert response.status_code == 202 and response.get_json()["status"] == "ready"


@pytest.mark.filterwarnings("ignore:Unable to parse srs_id")
def test_geopackage_crs_naming_a_file_is_not_read(client, session, analyst, tmp_path) -> None:
    # GDAL takes gpkg_spatial_ref_sys definitions as WKT only; this pins that it never
    # reads a file or URL named there.
    import sqlite3

    marker = f"CRS-{uuid.uuid4().hex.upper()}"
    definition = tmp_path / "crs.wkt"
    definition.write_text(f'GEOGCS["{marker}",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
                          '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925]]')
    gpkg = write_layer(tmp_path / "zones.gpkg", *nfhl_squares(), crs="EPSG:3424",
                       driver="GPKG", layer="S_FLD_HAZ_AR")
    with sqlite3.connect(gpkg) as connection:
        connection.execute("UPDATE gpkg_spatial_ref_sys SET definition = ?, organization = "
                           "'NONE' WHERE srs_id = 3424", (str(definition),))
    connection.close()
    body = assert_refused(upload(client, analyst, gpkg, "gpkg crs"), session, "gpkg crs",
                          marker)
    assert body["error"] == "missing_crs"


def test_source_crs_reading_a_file_is_refused(client, app, session, analyst,
                                              tmp_path) -> None:
    init_file = tmp_path / "defs"
    init_file.write_text("<zone> +proj=longlat +datum=WGS84 +no_defs <>\n")
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(geojson_document([SQUARE])))
    for value in (f"+init={init_file}:zone", f"+proj=longlat +nadgrids={init_file}"):
        body = assert_refused(upload(client, analyst, path, "init", source_crs=value),
                              session, "init")
        assert body["error"] == "invalid_crs"
    cli_import(app, session, path, "init cli", "--source-crs", f"+init={init_file}:zone")


# --- Bad content is a clear 400, never a 500 ------------------------------------------------


def shapefile_with_prj(tmp_path: Path, prj: bytes) -> Path:
    shp = write_layer(tmp_path / "S_FLD_HAZ_AR.shp", *nfhl_squares(), crs="EPSG:4326")
    shp.with_suffix(".prj").write_bytes(prj)
    return zip_files(tmp_path / "garbage_prj.zip", shapefile_parts(shp))


@pytest.mark.parametrize("prj", [bytes(range(256)) * 2, b'GEOGCS["x"'],
                         ids=["random bytes", "truncated wkt"])
def test_garbage_prj_is_a_400_naming_the_prj(client, session, analyst, make_user, tmp_path,
                                             prj) -> None:
    archive = shapefile_with_prj(tmp_path, prj)
    body = assert_refused(upload(client, analyst, archive, "prj"), session, "prj")
    assert body["error"] == "invalid_crs"
    assert "S_FLD_HAZ_AR" in body["message"] and ".prj" in body["message"]
    client.post("/login", data={"email": make_user("analyst").email,
                                "password": TEST_PASSWORD})
    page = client.post("/upload", data={
        "name": "prj form", "repair": "y",
        "file": (io.BytesIO(archive.read_bytes()), archive.name)},
        content_type="multipart/form-data")
    assert page.status_code == 400
    assert ".prj" in page.get_data(as_text=True)
    assert imported(session, "prj form") == 0


def test_prj_making_proj_read_a_file_is_refused(client, session, analyst, tmp_path) -> None:
    # PROJ opens a grid named in a WKT's EXTENSION["PROJ4", ...] when it builds the transform.
    grid = tmp_path / "grid"
    grid.write_text("not a grid")
    prj = ('PROJCS["x",GEOGCS["y",DATUM["d",SPHEROID["s",6378137,298.257]],PRIMEM["G",0],'
           'UNIT["degree",0.0174532925]],PROJECTION["Mercator_1SP"],UNIT["m",1],'
           f'EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +nadgrids={grid}"]]')
    archive = shapefile_with_prj(tmp_path, prj.encode())
    body = assert_refused(upload(client, analyst, archive, "grid prj"), session, "grid prj")
    assert body["error"] == "invalid_crs" and ".prj" in body["message"]


def test_coordinates_outside_longitude_latitude_are_refused(client, session, analyst,
                                                            tmp_path) -> None:
    wild = [(-740.0, 400.0), (-739.0, 400.0), (-739.0, 401.0), (-740.0, 400.0)]
    only_wild = tmp_path / "wild.geojson"
    only_wild.write_text(json.dumps(geojson_document([wild])))
    body = assert_refused(upload(client, analyst, only_wild, "wild"), session, "wild")
    assert body["error"] == "nothing_imported" and "outside longitude" in body["message"]
    mixed = tmp_path / "mixed.geojson"
    mixed.write_text(json.dumps(geojson_document([SQUARE, wild])))
    strict = assert_refused(upload(client, analyst, mixed, "strict", repair="false"), session,
                            "strict")
    assert strict["error"] == "invalid_geometries" and "feature 1" in strict["message"]
    repaired = upload(client, analyst, mixed, "lenient").get_json()
    assert repaired["status"] == "ready" and repaired["feature_count"] == 1
    report = repaired["report"]
    assert [r["index"] for r in report["rejected"]] == [1]
    west, south, east, north = report["bbox"]
    assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90


def test_gdal_errors_name_the_file_not_the_server_path(client, app, session, analyst,
                                                       tmp_path) -> None:
    broken = kml_document().replace("</Document></kml>", "<Placemark><name>cut")
    archive = zipped(tmp_path, "folder/doc.kml", broken)
    body = assert_refused(upload(client, analyst, archive, "broken"), session, "broken")
    assert body["error"] == "unreadable_file" and "doc.kml" in body["message"]
    assert app.instance_path not in body["message"] and str(tmp_path) not in body["message"]
    message = cli_import(app, session, archive, "broken cli")
    assert "doc.kml" in message and str(tmp_path) not in message


def test_a_folder_of_shapefiles_imports_as_a_package(app, session, tmp_path) -> None:
    # An NFHL package unzipped on the server: the folder is read as the zip would be.
    folder = tmp_path / "shapes"
    (folder / "34025C").mkdir(parents=True)
    write_layer(folder / "34025C" / "S_FLD_HAZ_AR.shp", *nfhl_squares())
    result = app.test_cli_runner().invoke(args=["zones", "import", str(folder), "--name",
                                                "folder"])
    assert result.exit_code == 0, result.output
    assert imported(session, "folder") > 1


def test_a_folder_without_vector_data_is_refused(app, session, tmp_path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("no map here")
    assert "no shapefile" in cli_import(app, session, folder, "notes")


def test_a_file_gdal_reads_with_another_driver_is_refused(client, session, analyst,
                                                          tmp_path) -> None:
    # An Esri JSON file named .json: the GeoJSON driver is the only one allowed for it.
    esri = tmp_path / "zones.json"
    esri.write_text(json.dumps({
        "geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 4326},
        "fields": [{"name": "FLD_ZONE", "type": "esriFieldTypeString"}],
        "features": [{"attributes": {"FLD_ZONE": "AE"},
                      "geometry": {"rings": [[list(p) for p in SQUARE]]}}]}))
    body = assert_refused(upload(client, analyst, esri, "esri"), session, "esri")
    assert body["error"] in {"wrong_content", "unreadable_file"}


def test_ordinary_uploads_still_import(client, analyst, tmp_path) -> None:
    kml = write_layer(tmp_path / "doc.kml", *nfhl_squares(2), driver="KML")
    assert upload(client, analyst, kml, "plain kml").get_json()["status"] == "ready"
    fgb = write_layer(tmp_path / "zones.fgb", [box(-80, 30, -79.9, 30.1)],
                      {"FLD_ZONE": ["AE"]}, driver="FlatGeobuf")
    assert upload(client, analyst, fgb, "plain fgb").get_json()["status"] == "ready"
