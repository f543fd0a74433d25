"""Error messages shown to users never name server folders, whatever raised them."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.exceptions import NotFound

from geoapp import PROJECT_DIR, create_app
from geoapp.errors import InvalidInput
from geoapp.extensions import db
from geoapp.web.guards.redaction import strip_server_paths

TEMP = tempfile.gettempdir()


@pytest.fixture()
def failing_app(database_url: str, session) -> Iterator[Flask]:
    """An app with routes whose errors quote server paths, as GDAL or the OS would."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                      "SECRET_KEY": "test-secret", "GEOAPP_UPLOAD_DIR": "/srv/flood/uploads"})
    instance = app.instance_path

    @app.get("/test/typed")
    def typed() -> None:
        raise InvalidInput(f"{instance}/uploads/3f2a/zones.shp: not recognized as being in a "
                           f"supported file format (also tried /vsizip/{TEMP}/up-9/a.zip/b.shp)")

    @app.get("/test/http")
    def http() -> None:
        raise NotFound(f"no file {PROJECT_DIR}/data/secret.gpkg; see /srv/flood/uploads/x.log")

    @app.get("/test/unexpected")
    def unexpected() -> None:
        raise OSError(f"[Errno 2] No such file or directory: '{sys.prefix}/lib/x.so'")

    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_forced_errors_show_no_server_paths(failing_app, accept) -> None:
    client = failing_app.test_client()
    for path, status, kept in [("/test/typed", 400, ["zones.shp", "b.shp"]),
                               ("/test/http", 404, ["secret.gpkg", "x.log"]),
                               ("/test/unexpected", 500, [])]:
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == status
        body = response.get_data(as_text=True)
        for folder in (str(PROJECT_DIR), failing_app.instance_path, TEMP + "/", "/srv/flood",
                       sys.prefix, "/vsizip/"):
            assert folder not in body, (path, folder, body)
        for name in kept:  # the file's name is what the user can act on
            assert name in body, (path, name)


def test_failed_dataset_page_shows_no_server_paths(app, client, make_dataset) -> None:
    dataset = make_dataset(
        status="failed", error=f"{app.instance_path}/uploads/ab12/zones.shp: unsupported",
        import_report={"rejected": [{"index": 3, "reason": f"{TEMP}/x/zones.dbf: bad record"}]})
    page = client.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    assert "zones.shp: unsupported" in page and "zones.dbf: bad record" in page
    assert app.instance_path not in page and f"{TEMP}/x" not in page


@pytest.mark.parametrize(("message", "expected"), [
    ("/work/app/instance/uploads/ab/zones.shp: not recognized", "zones.shp: not recognized"),
    ("cannot open '/tmp/tmpx1/in.gpkg'", "cannot open 'in.gpkg'"),
    ("/vsizip//tmp/u/a.zip/layer.shp failed", "layer.shp failed"),
    ("see /home/alice/ and /root", "see alice and root"),
    # Not server paths: API routes, URLs, dates, values that merely contain a slash.
    ("use /api/lookup?lon=..&lat=..", "use /api/lookup?lon=..&lat=.."),
    ("see https://flood.example.org/tmp/x", "see https://flood.example.org/tmp/x"),
    ("dates like 2024/01/02 and 1/2", "dates like 2024/01/02 and 1/2"),
    ("/tmpfile is not a root", "/tmpfile is not a root"),
])
def test_strip_server_paths(message, expected) -> None:
    assert strip_server_paths(message) == expected


def test_configured_roots_are_stripped_too() -> None:
    message = "no such file /flood/state/uploads/u1/z.shp"
    assert strip_server_paths(message) == message  # not a system folder ...
    assert strip_server_paths(message, ["/flood/state"]) == "no such file z.shp"  # ... but ours
    # A home folder of "/" (common in containers) does not make every path a server path.
    assert strip_server_paths("use /api/lookup", ["/", ""]) == "use /api/lookup"


def test_a_recorded_import_error_is_shown_without_server_paths(client, make_dataset) -> None:
    dataset = make_dataset(status="failed",
                           error="GDAL cannot read /tmp/geoapp-import-x1/unpacked/zones.shp")
    body = client.get(f"/api/datasets/{dataset.id}").get_json()
    assert body["error"] == "GDAL cannot read zones.shp"
