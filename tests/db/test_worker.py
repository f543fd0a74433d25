"""Imports through the real job queue and a real `flask worker` process.

The worker is another process, so these tests commit their data (and remove it after).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, box
from sqlalchemy.orm import Session

from geoapp.db.models import PACKAGE_MODELS, Dataset, FloodZone, PackagePiece
from geoapp.ingest import jobs, runs
from geoapp.ingest.request import ImportRequest
from tests.conftest import SERVER_SECRET_KEY
from tests.upload_files import write_layer

FLASK = Path(sys.executable).parent / "flask"


@pytest.fixture()
def worker_env(database_url, tmp_path) -> dict[str, str]:
    # A raster directory of its own: the worker's sweep removes files its database does not
    # know, and the project's instance/rasters belongs to `make run`'s database.
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY,
            "FLASK_APP": "geoapp", "GEOAPP_RASTER_DIR": str(tmp_path / "worker-rasters")}


def big_shapefile(directory: Path, count: int) -> Path:
    """`count` small round AE zones on a grid."""
    geometries = [box(-80 + (i % 200) * 0.001, 30 + (i // 200) * 0.001,
                      -80 + (i % 200) * 0.001 + 0.0009, 30 + (i // 200) * 0.001 + 0.0009)
                  .buffer(0.0001, quad_segs=16) for i in range(count)]
    return write_layer(directory / "zones.shp", geometries,
                       {"FLD_ZONE": ["AE"] * count, "FLD_AR_ID": [f"W{i}" for i in range(count)]})


def queue_import(app, engine, source: Path, upload_dir: Path, name: str) -> int:
    """A committed pending dataset and its queued job; the upload, a zipped shapefile of
    `source`'s folder, waits in `upload_dir` (made here) as geoapp.web.uploads leaves it."""
    upload_dir.mkdir(parents=True)
    archive = Path(shutil.make_archive(str(upload_dir / "zones"), "zip", source.parent))
    options = ImportRequest.parse({"name": name})
    with Session(engine) as session:
        dataset = runs.create_pending(session, options, archive.name, None)
        session.commit()
        dataset_id = dataset.id
    jobs.enqueue_import(app, dataset_id, archive, options)
    return dataset_id


def dataset_state(engine, dataset_id: int) -> tuple[str, float | None, int]:
    with engine.connect() as conn:
        status, progress = conn.execute(sa.select(Dataset.status, Dataset.progress)
                                        .where(Dataset.id == dataset_id)).one()
        zones = conn.scalar(sa.select(sa.func.count()).select_from(FloodZone)
                            .where(FloodZone.dataset_id == dataset_id))
    return status, progress, zones


def wait_for(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def remove_dataset(engine, dataset_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(Dataset).where(Dataset.id == dataset_id))


def test_worker_imports_a_queued_upload(app, engine, worker_env, tmp_path) -> None:
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    dataset_id = queue_import(app, engine, big_shapefile(source_dir, 500), tmp_path / "upload",
                              "queued")
    assert dataset_state(engine, dataset_id)[0] == "queued"
    worker = subprocess.Popen([str(FLASK), "worker"], env=worker_env)
    try:
        wait_for(lambda: dataset_state(engine, dataset_id)[0] == "ready")
        assert dataset_state(engine, dataset_id) == ("ready", 1.0, 500)
        # The upload is removed once the job ends (just after the commit).
        wait_for(lambda: not (tmp_path / "upload").exists(), timeout=10)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        remove_dataset(engine, dataset_id)


def test_killed_worker_leaves_nothing_behind(app, engine, worker_env, tmp_path) -> None:
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    with engine.connect() as conn:
        zones_before = conn.scalar(sa.select(sa.func.count()).select_from(FloodZone))
    dataset_id = queue_import(app, engine, big_shapefile(source_dir, 30000), tmp_path / "upload",
                              "killed")
    worker = subprocess.Popen([str(FLASK), "worker"], env=worker_env)
    try:
        # Kill it once the import has visibly started writing (first chunk copied).
        wait_for(lambda: (dataset_state(engine, dataset_id)[1] or 0) > 0)
        worker.kill()
        worker.wait(timeout=30)
        status, progress, zones = dataset_state(engine, dataset_id)
        assert status == "importing" and progress < 1
        # The server aborts the dead connection's transaction: no zone of it stays.
        wait_for(lambda: dataset_state(engine, dataset_id)[2] == 0, timeout=30)
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(FloodZone)) == zones_before
        # Once the dead worker's heartbeat is old enough, the next worker imports it again.
        time.sleep(3)
        worker = subprocess.Popen([str(FLASK), "worker", "--stalled-after", "2"], env=worker_env)
        wait_for(lambda: dataset_state(engine, dataset_id)[0] == "ready", timeout=120)
        assert dataset_state(engine, dataset_id)[2] == 30000
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        remove_dataset(engine, dataset_id)


def package_rows(engine, dataset_id: int) -> dict[str, int]:
    """Rows of every package table (and of the pieces) that belong to a dataset."""
    with engine.connect() as conn:
        return {model.__tablename__: conn.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.dataset_id == dataset_id))
            for model in [*PACKAGE_MODELS.values(), PackagePiece]}


def inserting_into(engine, table: str) -> bool:
    """Whether another connection is running an INSERT into `table` right now."""
    with engine.connect() as conn:
        return bool(conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND query LIKE :insert AND pid <> pg_backend_pid()"),
            {"insert": f"INSERT INTO {table} %"}))


def test_worker_killed_while_it_loads_a_package_leaves_no_row_of_any_layer(
        app, engine, worker_env, tmp_path) -> None:
    # A package whose other layers take seconds to load after its zones: 60,000 BFE lines.
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    zones = big_shapefile(source_dir, 2000)
    zones.rename(source_dir / "S_FLD_HAZ_AR.shp")
    for part in source_dir.glob("zones.*"):
        part.rename(part.with_name("S_FLD_HAZ_AR" + part.suffix))
    lines = [LineString([(-80 + (i % 300) * 0.0006, 30 + (i // 300) * 0.0002),
                         (-80 + (i % 300) * 0.0006 + 0.0005, 30 + (i // 300) * 0.0002)])
             for i in range(60000)]
    write_layer(source_dir / "S_BFE.shp", lines, {"ELEV": [float(i % 40) for i in range(60000)],
                                                   "LEN_UNIT": ["Feet"] * 60000})
    write_layer(source_dir / "S_FIRM_PAN.shp", [box(-80, 30, -79.8, 30.1)],
                {"FIRM_PAN": ["12345C0001F"]})
    dataset_id = queue_import(app, engine, source_dir / "S_FLD_HAZ_AR.shp", tmp_path / "upload",
                              "package killed")
    worker = subprocess.Popen([str(FLASK), "worker"], env=worker_env)
    try:
        # Kill it while the server runs one of its inserts of BFE lines: the zones are
        # written by then, in the same transaction as the layers.
        wait_for(lambda: inserting_into(engine, "bfe_lines"), timeout=120)
        worker.kill()
        worker.wait(timeout=30)
        wait_for(lambda: dataset_state(engine, dataset_id)[2] == 0, timeout=30)
        assert set(package_rows(engine, dataset_id).values()) == {0}
        # The next worker imports the whole package again, every layer.
        time.sleep(3)
        worker = subprocess.Popen([str(FLASK), "worker", "--stalled-after", "2"], env=worker_env)
        wait_for(lambda: dataset_state(engine, dataset_id)[0] == "ready", timeout=180)
        rows = package_rows(engine, dataset_id)
        assert rows["bfe_lines"] == 60000 and rows["firm_panels"] == 1
        assert dataset_state(engine, dataset_id)[2] == 2000
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        remove_dataset(engine, dataset_id)


def test_two_workers_share_the_queue_without_doing_a_job_twice(app, engine, worker_env,
                                                                tmp_path) -> None:
    ids = []
    for n in range(4):
        source_dir = tmp_path / f"src{n}"
        source_dir.mkdir()
        job_dir = tmp_path / f"job{n}"
        job_dir.mkdir()
        ids.append(queue_import(app, engine, big_shapefile(source_dir, 3000), job_dir / "upload",
                                f"shared {n}"))
    workers = [subprocess.Popen([str(FLASK), "worker"], env=worker_env) for _ in range(2)]
    try:
        wait_for(lambda: all(dataset_state(engine, i)[0] == "ready" for i in ids))
        assert [dataset_state(engine, i)[2] for i in ids] == [3000] * 4

        def job_runs() -> tuple[int, int]:
            """(jobs recorded as succeeded, times any of them was started)."""
            with engine.connect() as conn:
                return conn.execute(sa.text(
                    "SELECT count(*) FILTER (WHERE j.status = 'succeeded'), "
                    "(SELECT count(*) FROM procrastinate_events e "
                    " WHERE e.job_id = ANY(array_agg(j.id)) AND e.type = 'started') "
                    "FROM procrastinate_jobs j WHERE j.task_name = 'geoapp:import_dataset' "
                    "AND (j.args->>'dataset_id')::int = ANY(:ids)"), {"ids": ids}).one()

        # A worker records its job done just after the import commits: wait for all four.
        succeeded, started = wait_for(lambda: (runs := job_runs())[0] == 4 and runs)
        assert started == 4  # each job started once: none run twice
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        for dataset_id in ids:
            remove_dataset(engine, dataset_id)


def test_every_app_in_a_process_queues_imports_where_workers_read(database_url) -> None:
    from geoapp import create_app

    apps = [create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SERVER_SECRET_KEY})
            for _ in range(2)]
    for app in apps:
        task = jobs.queue_for(app).tasks[jobs.IMPORT_TASK]
        assert task.queue == jobs.QUEUE


def noisy_dem(path: Path, cells: int) -> Path:
    """A DEM of random heights (slow to compress: its COG takes seconds to write)."""
    import numpy as np
    import rasterio
    from affine import Affine

    values = np.random.default_rng(5).random((cells, cells), dtype="float32") * 30
    with rasterio.open(path, "w", driver="GTiff", width=cells, height=cells, count=1,
                       dtype="float32", crs="EPSG:26918+5703", tiled=True,
                       transform=Affine(1, 0, 580000, 0, -1, 4440000)) as target:
        target.write(values, 1)
    return path


def test_worker_killed_while_it_writes_a_raster_leaves_no_file_or_row(
        app, engine, worker_env, tmp_path) -> None:
    from geoapp.db.models import RasterLayer

    rasters = tmp_path / "rasters"
    env = {**worker_env, "GEOAPP_RASTER_DIR": str(rasters)}
    upload_dir = tmp_path / "upload"
    upload_dir.mkdir()
    upload = noisy_dem(upload_dir / "dem.tif", 6000)
    request = ImportRequest.parse({"name": "raster killed", "kind": "dem"})
    with Session(engine) as session:
        dataset = runs.create_pending(session, request, upload.name, None)
        session.commit()
        dataset_id = dataset.id
    jobs.enqueue_import(app, dataset_id, upload, request)

    def raster_rows() -> int:
        with engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(RasterLayer)
                               .where(RasterLayer.dataset_id == dataset_id))

    def partial_files() -> list[Path]:
        return [p for p in (rasters / ".partial").glob("*") if p.stat().st_size > 0]

    worker = subprocess.Popen([str(FLASK), "worker"], env=env)
    try:
        # Kill it while GDAL writes the COG: the file is there, half written.
        wait_for(partial_files, timeout=120)
        worker.kill()
        worker.wait(timeout=30)
        assert dataset_state(engine, dataset_id)[0] == "importing"
        assert raster_rows() == 0
        assert not list(rasters.glob("*.tif"))
        # The next worker retries the import; it removes what the killed one left first.
        time.sleep(3)
        worker = subprocess.Popen([str(FLASK), "worker", "--stalled-after", "2"], env=env)
        wait_for(lambda: dataset_state(engine, dataset_id)[0] == "ready", timeout=180)
        with engine.connect() as conn:
            stored = conn.scalars(sa.select(RasterLayer.file_name)
                                  .where(RasterLayer.dataset_id == dataset_id)).all()
        assert len(stored) == 1
        assert sorted(p.name for p in rasters.glob("*.tif")) == stored
        assert list((rasters / ".partial").glob("*")) == []
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        remove_dataset(engine, dataset_id)
