"""Exports that cannot take the web tier down (pen-test finding: five parallel exports of a
60,000-zone dataset killed a gunicorn worker and left 857 MB of temporary files).

Small datasets are still written in the request; large ones by the worker (the job is run in
this process here; tests/security/test_sec_jobs_*.py run it in real `flask worker`s).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyogrio
import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, insert, select
from werkzeug.http import parse_options_header
from werkzeug.test import EnvironBuilder

from geoapp.db.models import ExportJob, FloodZone
from geoapp.db.queries.datasets import refresh_dataset_summary
from geoapp.ingest import export_jobs, exports, jobs, workdirs


@pytest.fixture()
def export_dirs(app, monkeypatch, tmp_path) -> dict[str, Path]:
    """Export, work and system temp directories of this test only, to see what stays there."""
    dirs = {name: tmp_path / name for name in ("exports", "work", "tmp")}
    for directory in dirs.values():
        directory.mkdir()
    monkeypatch.setitem(app.config, "GEOAPP_EXPORT_DIR", str(dirs["exports"]))
    monkeypatch.setitem(app.config, "GEOAPP_WORK_DIR", str(dirs["work"]))
    # Where tempfile.mkdtemp writes (the export of old wrote its files there).
    monkeypatch.setattr(tempfile, "tempdir", str(dirs["tmp"]))
    return dirs


def leftovers(dirs: dict[str, Path]) -> list[Path]:
    """Files and directories left in the scratch places (finished exports are not scratch)."""
    return sorted(p for name in ("work", "tmp") for p in dirs[name].rglob("*"))


def add_zones(session, dataset, count: int, attributes=None) -> None:
    """`count` small AE squares with source attributes, in one statement."""
    rows = [{
        "dataset_id": dataset.id, "fld_zone": "AE", "sfha_tf": True,
        "attributes": attributes(i) if attributes else {"FLD_AR_ID": f"Z{i}", "FLD_ZONE": "AE",
                                                         "STATIC_BFE": 4 + i % 7},
        "geom": from_shape(MultiPolygon([box(-80 + (i % 100) * 0.001, 30 + (i // 100) * 0.001,
                                             -80 + (i % 100) * 0.001 + 0.0008,
                                             30 + (i // 100) * 0.001 + 0.0008)]), srid=4326),
    } for i in range(count)]
    session.execute(insert(FloodZone), rows)
    refresh_dataset_summary(session, dataset)
    session.commit()


def read_back(path: Path) -> tuple[int, list[str]]:
    info = pyogrio.read_info(str(path))
    return info["features"], list(info["fields"])


def test_export_is_written_in_batches_never_all_rows_at_once(session, make_dataset,
                                                             tmp_path) -> None:
    dataset = make_dataset(name="batched")
    add_zones(session, dataset, 1050)
    written = exports.write_export(session, dataset.id, exports.FORMATS["gpkg"], tmp_path,
                                   batch_zones=200)
    assert (written.zones, written.batches, written.largest_batch) == (1050, 6, 200)
    count, fields = read_back(written.path)
    assert count == 1050 and sorted(fields) == ["FLD_AR_ID", "FLD_ZONE", "STATIC_BFE"]


def test_small_export_is_still_written_in_the_request(client, session, make_dataset,
                                                      export_dirs, tmp_path) -> None:
    dataset = make_dataset(name="small one")
    add_zones(session, dataset, 30)
    response = client.get(f"/api/datasets/{dataset.id}/export?format=geojson",
                          headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="small one.geojson"'
    # Sent as written (not gzipped on the fly), so its length is known and ranges work.
    assert "Content-Encoding" not in response.headers
    assert int(response.headers["Content-Length"]) == len(response.data)
    (tmp_path / "out.geojson").write_bytes(response.data)
    assert read_back(tmp_path / "out.geojson")[0] == 30
    part = client.get(f"/api/datasets/{dataset.id}/export?format=geojson",
                      headers={"Range": "bytes=0-9"}, buffered=False)
    assert part.status_code == 206 and part.get_data() == response.data[:10]
    part.close()
    assert leftovers(export_dirs) == []


def test_aborted_small_download_leaves_no_file(app, client, session, make_dataset,
                                               export_dirs) -> None:
    dataset = make_dataset(name="aborted")
    add_zones(session, dataset, 20)
    url = f"/api/datasets/{dataset.id}/export?format=gpkg"
    # Through WSGI directly: the test client always reads a first block, a server whose
    # client went away may read none before it closes the response.
    statuses: list[str] = []
    body = app.wsgi_app(EnvironBuilder(path=url).get_environ(),
                        lambda status, headers, exc_info=None: statuses.append(status))
    assert statuses == ["200 OK"]
    body.close()
    assert leftovers(export_dirs) == []
    # Read in part, then closed.
    response = client.get(url, buffered=False)
    assert next(response.response)
    response.close()
    assert leftovers(export_dirs) == []
    # HEAD: headers only, the file is never read.
    head = client.head(url)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > 0
    assert leftovers(export_dirs) == []


@pytest.fixture()
def failing_writer(monkeypatch):
    """GDAL writing fails half-way: the real writer runs on a stream cut after its first batch."""
    real = exports.pyogrio.raw.write_arrow

    def write_then_fail(stream, path, **options):
        def first_batch_then_error():
            yield next(iter(stream))
            raise OSError("No space left on device")

        cut = pa.RecordBatchReader.from_batches(stream.schema, first_batch_then_error())
        real(cut, path, **options)

    monkeypatch.setattr(exports.pyogrio.raw, "write_arrow", write_then_fail)


def test_failed_small_export_leaves_no_file(client, session, make_dataset, export_dirs,
                                            failing_writer) -> None:
    dataset = make_dataset(name="refused")
    add_zones(session, dataset, 20)
    response = client.get(f"/api/datasets/{dataset.id}/export?format=gpkg")
    assert response.status_code == 500
    assert response.get_json()["error"] == "internal_error"
    assert str(export_dirs["work"]) not in response.get_data(as_text=True)
    assert leftovers(export_dirs) == []


def test_an_attribute_named_fid_is_exported_to_geopackage(session, make_dataset,
                                                          tmp_path) -> None:
    # GeoPackage's own key column is "fid" by default; files from GIS tools often have one.
    dataset = make_dataset(name="fid clash")
    add_zones(session, dataset, 5, attributes=lambda i: {"fid": f"x{i}", "FID_1": i})
    written = exports.write_export(session, dataset.id, exports.FORMATS["gpkg"], tmp_path)
    count, fields = read_back(written.path)
    assert count == 5 and {"fid", "FID_1"} <= set(fields)
    values = pyogrio.raw.read(str(written.path), columns=["fid"])[3][0]
    assert sorted(values) == [f"x{i}" for i in range(5)]


@pytest.fixture()
def large(app, monkeypatch) -> None:
    """Datasets of more than 10 zones count as large."""
    monkeypatch.setitem(app.config, "GEOAPP_EXPORT_INLINE_MAX_ZONES", 10)
    monkeypatch.setitem(app.config, "GEOAPP_EXPORT_BATCH_ZONES", 25)


def test_large_export_is_queued_once_and_served_by_its_status_url(
        app, client, session, make_dataset, export_dirs, large) -> None:
    dataset = make_dataset(name="Zoë's large map")
    add_zones(session, dataset, 120)
    dataset_id = dataset.id
    url = f"/api/datasets/{dataset_id}/export?format=fgb"
    answers = [client.get(url) for _ in range(5)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.headers["Location"] for a in answers}) == 1
    body = answers[0].get_json()
    assert body["status"] == "queued" and "download" not in body
    assert session.scalar(select(func.count()).select_from(ExportJob)
                          .where(ExportJob.dataset_id == dataset_id)) == 1
    status = client.get(answers[0].headers["Location"])
    assert status.status_code == 200 and status.get_json()["id"] == body["id"]
    early = client.get(f"/api/exports/{body['id']}/download")
    assert early.status_code == 409 and early.get_json()["error"] == "export_not_ready"

    jobs.perform_export(app, body["id"])  # what the worker does with the queued job

    ready = client.get(answers[0].headers["Location"]).get_json()
    assert ready["status"] == "ready" and ready["size_bytes"] > 0
    again = client.get(url)
    assert again.status_code == 303 and again.headers["Location"] == ready["download"]
    download = client.get(ready["download"])
    assert download.status_code == 200
    assert int(download.headers["Content-Length"]) == len(download.data) == ready["size_bytes"]
    disposition = parse_options_header(download.headers["Content-Disposition"])
    assert disposition == ("attachment", {"filename": "Zoë's large map.fgb"})
    target = export_dirs["exports"] / "copy.fgb"
    target.write_bytes(download.data)
    assert read_back(target)[0] == 120
    tail = client.get(ready["download"], headers={"Range": "bytes=-100"}, buffered=False)
    assert tail.status_code == 206 and tail.get_data() == download.data[-100:]
    tail.close()
    unchanged = client.get(ready["download"],
                           headers={"If-None-Match": download.headers["ETag"]})
    assert unchanged.status_code == 304
    assert leftovers(export_dirs) == []


def test_large_export_page_for_browsers_refreshes_until_ready(
        client, session, make_dataset, export_dirs, large) -> None:
    dataset = make_dataset(name="browser")
    add_zones(session, dataset, 20)
    page = client.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    link = f"/api/datasets/{dataset.id}/export?format=kml"
    assert link in page and "written in the background" in page
    response = client.get(link, headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 202 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'http-equiv="refresh"' in html and "browser.kml" in html


def test_failed_large_export_is_recorded_and_leaves_no_file(
        app, client, session, make_dataset, export_dirs, large,
        failing_writer) -> None:
    dataset = make_dataset(name="refused large")
    add_zones(session, dataset, 60)
    url = f"/api/datasets/{dataset.id}/export?format=gpkg"
    body = client.get(url).get_json()
    with pytest.raises(RuntimeError):  # pyogrio: "Error while accessing batch from stream"
        jobs.perform_export(app, body["id"])
    state = client.get(f"/api/exports/{body['id']}").get_json()
    assert state["status"] == "failed" and "internal error" in state["error"]
    assert client.get(f"/api/exports/{body['id']}/download").status_code == 404
    assert leftovers(export_dirs) == [] and list(export_dirs["exports"].iterdir()) == []
    # A failed export is not reused: asking again queues a new one.
    retry = client.get(url).get_json()
    assert retry["id"] != body["id"] and retry["status"] == "queued"


def test_expired_export_is_not_reused_and_its_file_is_swept(
        app, client, session, make_dataset, export_dirs, large, monkeypatch) -> None:
    dataset = make_dataset(name="expiring")
    add_zones(session, dataset, 20)
    url = f"/api/datasets/{dataset.id}/export?format=csv"
    first = client.get(url).get_json()
    monkeypatch.setitem(app.config, "GEOAPP_EXPORT_TTL_S", 0.5)
    jobs.perform_export(app, first["id"])
    assert (export_dirs["exports"] / first["id"]).is_dir()
    time.sleep(0.6)  # past its expiry, not yet past the time its row is kept after it
    assert client.get(f"/api/exports/{first['id']}/download").status_code == 404
    jobs.sweep_files(app, set())
    assert not (export_dirs["exports"] / first["id"]).exists()
    assert client.get(f"/api/exports/{first['id']}").get_json()["status"] == "expired"
    second = client.get(url).get_json()
    assert second["id"] != first["id"]


def test_changed_data_is_a_new_export(app, client, session, make_dataset, export_dirs,
                                      large) -> None:
    dataset = make_dataset(name="versioned")
    add_zones(session, dataset, 20)
    url = f"/api/datasets/{dataset.id}/export?format=gpkg"
    first = client.get(url).get_json()
    jobs.perform_export(app, first["id"])
    assert client.get(url).status_code == 303
    dataset = session.merge(dataset)
    add_zones(session, dataset, 5)  # bumps the flood_zones data version
    second = client.get(url).get_json()
    assert second["id"] != first["id"] and second["status"] == "queued"


def test_unknown_exports_are_404(client) -> None:
    for export_id in ("0" * 32, "nothex", "../../etc/passwd"):
        for suffix in ("", "/download"):
            response = client.get(f"/api/exports/{export_id}{suffix}")
            assert response.status_code == 404, export_id
            assert response.get_json()["error"] == "not_found"


NAMES = [
    'Zoë "Crue" près – 洪水',
    "Rivière\r\nSet-Cookie: x=1",
    "plain-name",
    "semi;colon,comma\\back",
    "東京" * 120,
    "..",
]


@pytest.mark.parametrize("name", NAMES)
def test_any_dataset_name_gives_a_valid_rfc6266_header(client, session, make_dataset,
                                                       export_dirs, name) -> None:
    dataset = make_dataset(name=name[:200])
    add_zones(session, dataset, 2)
    response = client.get(f"/api/datasets/{dataset.id}/export?format=gpkg")
    assert response.status_code == 200 and response.data
    header = response.headers["Content-Disposition"]
    header.encode("ascii")  # raises if not: HTTP header values are ASCII here
    assert "\r" not in header and "\n" not in header
    expected = exports.download_filename(name[:200], exports.FORMATS["gpkg"])
    assert expected.endswith(".gpkg") and "/" not in expected and "\n" not in expected
    assert len(expected.encode()) <= 255  # what file systems allow
    # What browsers and mail clients decode: the name, not a mangled or injected one.
    value, options = parse_options_header(header)
    assert value == "attachment" and options["filename"] == expected
    extended = header.split("filename*=", 1)[1] if "filename*=" in header else None
    if extended is not None:
        charset, _language, encoded = extended.split("'", 2)
        assert charset == "UTF-8" and unquote(encoded, encoding=charset) == expected
    # The plain fallback is ASCII without quotes or backslashes (RFC 6266 appendix D).
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and "\\" not in fallback and fallback.endswith(".gpkg")
    if "洪水" in name:
        assert "洪水" in expected and "Zoë" in expected


def test_sweep_removes_what_dead_processes_left(app, session, export_dirs, monkeypatch,
                                                tmp_path) -> None:
    uploads_dir = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "GEOAPP_UPLOAD_DIR", str(uploads_dir))
    monkeypatch.setitem(app.config, "GEOAPP_ORPHAN_UPLOAD_AGE_S", 60.0)
    work = export_dirs["work"]
    alive = workdirs.create(work, jobs.WORKER_DIR_PREFIX)
    # A dead owner: its lock file exists but nobody holds the lock any more.
    dead = workdirs.create(work, jobs.EXPORT_DIR_PREFIX)
    (dead.path / "half-written.gpkg").write_bytes(b"x" * 1000)
    dead.release(remove=False)
    orphan_export = export_dirs["exports"] / ("f" * 32)
    orphan_export.mkdir()
    old_unneeded, old_needed, young = (uploads_dir / n for n in ("a", "b", "c"))
    for directory in (old_unneeded, old_needed, young):
        directory.mkdir(parents=True)
        (directory / "upload.zip").write_bytes(b"PK")
    # Import directories of web requests in the system's temporary directory: no lock.
    system_temp = tmp_path / "system-tmp"
    old_import, young_import, not_ours = (system_temp / n for n in (
        "geoapp-import-old", "geoapp-import-young", "someone-else"))
    for directory in (old_import, young_import, not_ours):
        directory.mkdir(parents=True)
    for directory in (old_unneeded, old_needed, old_import, not_ours):
        os.utime(directory, (0, 0))
    try:
        jobs.sweep_files(app, {old_needed.resolve()}, system_temp)
        assert alive.path.is_dir() and not dead.path.exists()
        assert not orphan_export.exists()
        assert not old_unneeded.exists() and old_needed.is_dir() and young.is_dir()
        assert not old_import.exists() and young_import.is_dir() and not_ours.is_dir()
    finally:
        alive.release()


def test_export_jobs_table_has_one_live_row_per_key(session, make_dataset) -> None:
    dataset = make_dataset(name="key")
    first, created = export_jobs.request_export(session, dataset, exports.FORMATS["gpkg"])
    second, created_again = export_jobs.request_export(session, dataset,
                                                       exports.FORMATS["gpkg"])
    other, _ = export_jobs.request_export(session, dataset, exports.FORMATS["shp"])
    assert created and not created_again and first.id == second.id != other.id
