"""Jobs never stay stuck, and their files never stay behind, with real `flask worker` processes.

Pen-test finding: a worker killed during an import left the dataset `importing` forever when
the next worker started within 30 s (stalled jobs were only looked for once, at start), and
left its working files. The worker processes see only committed data, so these tests commit
theirs and remove it afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pyogrio
import pytest
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset, ExportJob, FloodZone
from geoapp.db.queries.datasets import refresh_dataset_summary
from geoapp.ingest import jobs
from tests.conftest import SERVER_SECRET_KEY
from tests.db.test_worker import (
    big_shapefile,
    dataset_state,
    queue_import,
    remove_dataset,
    wait_for,
)

FLASK = Path(sys.executable).parent / "flask"
# Short enough for a test, long enough that a busy but living worker is never taken as dead
# (its heartbeat goes every third of it).
STALLED_AFTER_S = "10"


@pytest.fixture()
def dirs(tmp_path) -> dict[str, Path]:
    found = {name: tmp_path / name for name in ("work", "uploads", "exports", "logs")}
    for directory in found.values():
        directory.mkdir()
    return found


@pytest.fixture()
def worker_env(database_url, dirs) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY,
            "FLASK_APP": "geoapp", "GEOAPP_WORK_DIR": str(dirs["work"]),
            "GEOAPP_UPLOAD_DIR": str(dirs["uploads"]),
            "GEOAPP_EXPORT_DIR": str(dirs["exports"]), "GEOAPP_WORKER_SWEEP_S": "1",
            "GEOAPP_RASTER_DIR": str(dirs["work"].parent / "rasters"),
            "GEOAPP_ORPHAN_UPLOAD_AGE_S": "1", "GEOAPP_EXPORT_BATCH_ZONES": "500"}


class Workers:
    """`flask worker` processes started by a test, all stopped at its end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.started = env, logs, []

    def start(self) -> subprocess.Popen:
        log = (self.logs / f"worker-{len(self.started)}.log").open("wb")
        process = subprocess.Popen([str(FLASK), "worker", "--stalled-after", STALLED_AFTER_S],
                                   env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture()
def workers(worker_env, dirs):
    started = Workers(worker_env, dirs["logs"])
    yield started
    started.stop_all()


def scratch_dirs(work: Path) -> set[Path]:
    """The workers' own scratch directories."""
    return {p for p in work.iterdir() if p.name.startswith(jobs.WORKER_DIR_PREFIX)}


def queue_upload(app, engine, uploads: Path, tmp_path: Path, zones: int, name: str) -> tuple[
        int, Path]:
    """A committed pending dataset and its queued import, the upload where the web puts it."""
    source = tmp_path / "src"
    source.mkdir()
    upload = uploads / uuid.uuid4().hex
    dataset_id = queue_import(app, engine, big_shapefile(source, zones), upload, name)
    return dataset_id, upload


def test_import_of_a_killed_worker_is_finished_by_a_worker_already_running(
        app, engine, dirs, workers, tmp_path) -> None:
    dataset_id, upload = queue_upload(app, engine, dirs["uploads"], tmp_path, 30000,
                                      "killed mid-import")
    try:
        first = workers.start()
        # Killed once the import visibly writes, its unpacked files in its scratch dir.
        wait_for(lambda: (dataset_state(engine, dataset_id)[1] or 0) > 0, timeout=120)
        dead_scratch = wait_for(lambda: [
            d for d in scratch_dirs(dirs["work"]) if any(d.glob("geoapp-import-*"))])
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert dataset_state(engine, dataset_id)[0] == "importing"
        # The next worker starts at once, while the dead one's heartbeat still looks fresh:
        # it must notice later, by itself, that the job has no living worker.
        second = workers.start()
        wait_for(lambda: dataset_state(engine, dataset_id)[0] == "ready", timeout=150)
        assert dataset_state(engine, dataset_id)[2] == 30000
        assert second.poll() is None
        # The dead worker's unpacked files go; the finished import's upload goes too.
        wait_for(lambda: not any(d.exists() for d in dead_scratch), timeout=30)
        wait_for(lambda: not upload.exists(), timeout=30)
        assert all(not any(d.glob("geoapp-import-*")) for d in scratch_dirs(dirs["work"]))
    finally:
        remove_dataset(engine, dataset_id)


def committed_dataset(engine, zones: int, name: str) -> int:
    """A ready dataset of `zones` small squares, committed for the worker to see."""
    with Session(engine) as session:
        dataset = Dataset(name=name, status="ready")
        session.add(dataset)
        session.flush()
        session.execute(sa.insert(FloodZone), [{
            "dataset_id": dataset.id, "fld_zone": "AE", "sfha_tf": True,
            "attributes": {"FLD_AR_ID": f"E{i}", "FLD_ZONE": "AE", "DEPTH": i % 3 + 0.5},
            "geom": from_shape(MultiPolygon([box(-81 + (i % 100) * 0.001,
                                                 31 + (i // 100) * 0.001,
                                                 -81 + (i % 100) * 0.001 + 0.0008,
                                                 31 + (i // 100) * 0.001 + 0.0008)]),
                               srid=4326)} for i in range(zones)])
        refresh_dataset_summary(session, dataset)
        session.commit()
        return dataset.id


def test_large_export_goes_through_a_real_worker(app, engine, dirs, workers, monkeypatch,
                                                 tmp_path) -> None:
    for setting, value in (("GEOAPP_EXPORT_INLINE_MAX_ZONES", 1000),
                           ("GEOAPP_EXPORT_DIR", str(dirs["exports"])),
                           ("GEOAPP_WORK_DIR", str(dirs["work"]))):
        monkeypatch.setitem(app.config, setting, value)
    dataset_id = committed_dataset(engine, 2500, "exported by the worker")
    url = f"/api/datasets/{dataset_id}/export?format=gpkg"
    try:
        # Five clients at once, as in the pen test: each gets 202 and the same export.
        answers: list = []
        barrier = threading.Barrier(5)

        def ask() -> None:
            barrier.wait()
            answers.append(app.test_client().get(url))

        threads = [threading.Thread(target=ask) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [a.status_code for a in answers] == [202] * 5
        assert len({a.headers["Location"] for a in answers}) == 1
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(ExportJob)
                               .where(ExportJob.dataset_id == dataset_id)) == 1
        status_url = answers[0].headers["Location"]
        client = app.test_client()
        workers.start()
        state = wait_for(lambda: (body := client.get(status_url).get_json())["status"]
                         in ("ready", "failed") and body, timeout=120)
        assert state["status"] == "ready", state
        download = client.get(state["download"])
        assert download.status_code == 200
        assert int(download.headers["Content-Length"]) == len(download.data)
        copy = tmp_path / "copy.gpkg"
        copy.write_bytes(download.data)
        assert pyogrio.read_info(str(copy))["features"] == 2500
        # Asked again: the same file, no new job.
        again = client.get(url)
        assert again.status_code == 303 and again.headers["Location"] == state["download"]
        # Nothing left in the working directories but the worker's own (empty) scratch.
        left = [p for p in dirs["work"].rglob("*") if p.name != ".owner.lock"]
        assert left == [d for d in scratch_dirs(dirs["work"])]
        assert [p.name for p in dirs["exports"].iterdir()] == [state["id"]]
    finally:
        remove_dataset(engine, dataset_id)
    # Its dataset gone, the export's file is swept.
    wait_for(lambda: not any(dirs["exports"].iterdir()), timeout=30)


def export_work_dirs(work: Path) -> set[Path]:
    """Directories of exports being written."""
    return {p for p in work.iterdir() if p.name.startswith(jobs.EXPORT_DIR_PREFIX)}


def test_export_of_a_killed_worker_is_written_again_and_its_work_dir_removed(
        app, engine, dirs, workers, monkeypatch, tmp_path) -> None:
    for setting, value in (("GEOAPP_EXPORT_INLINE_MAX_ZONES", 1000),
                           ("GEOAPP_EXPORT_DIR", str(dirs["exports"])),
                           ("GEOAPP_WORK_DIR", str(dirs["work"]))):
        monkeypatch.setitem(app.config, setting, value)
    # One zone per batch: a genuinely long export (seconds), so it can be killed midway.
    workers.env["GEOAPP_EXPORT_BATCH_ZONES"] = "1"
    dataset_id = committed_dataset(engine, 40000, "export killed midway")
    client = app.test_client()
    try:
        status_url = client.get(f"/api/datasets/{dataset_id}/export?format=gpkg"
                                ).headers["Location"]
        first = workers.start()
        dead_dirs = wait_for(lambda: client.get(status_url).get_json()["status"] == "running"
                             and export_work_dirs(dirs["work"]), timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert client.get(status_url).get_json()["status"] == "running"
        assert all(d.exists() for d in dead_dirs)
        workers.start()
        state = wait_for(lambda: (body := client.get(status_url).get_json())["status"]
                         in ("ready", "failed") and body, timeout=150)
        assert state["status"] == "ready", state
        copy = tmp_path / "copy.gpkg"
        copy.write_bytes(client.get(state["download"]).data)
        assert pyogrio.read_info(str(copy))["features"] == 40000
        wait_for(lambda: not any(d.exists() for d in dead_dirs), timeout=30)
        assert export_work_dirs(dirs["work"]) == set()
    finally:
        remove_dataset(engine, dataset_id)


def stall(engine, dataset_id: int, attempts: int) -> int:
    """Make a dataset's queued import look taken by a worker that died `attempts` runs in."""
    with engine.begin() as conn:
        worker_id = conn.scalar(sa.text(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '1 hour') RETURNING id"))
        job_id = conn.scalar(sa.text(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :worker, "
            "attempts = :attempts WHERE task_name = :task AND status = 'todo' "
            "AND (args->>'dataset_id')::int = :dataset RETURNING id"),
            {"worker": worker_id, "attempts": attempts, "task": jobs.IMPORT_TASK,
             "dataset": dataset_id})
    return job_id


def job_status(engine, job_id: int) -> str:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT status FROM procrastinate_jobs WHERE id = :id"),
                           {"id": job_id})


def test_a_job_that_keeps_killing_workers_is_given_up_not_retried_forever(
        app, engine, dirs, tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    again_id, again_upload = queue_upload(app, engine, dirs["uploads"], tmp_path / "a", 10,
                                          "stalled once")
    given_up_id, given_up_upload = queue_upload(app, engine, dirs["uploads"], tmp_path / "b",
                                                10, "stalled three times")
    try:
        again_job = stall(engine, again_id, attempts=0)
        given_up_job = stall(engine, given_up_id, attempts=jobs.MAX_ATTEMPTS - 1)
        found = jobs.retry_stalled_jobs(app, 60)
        assert found.retried >= 1
        assert [j.id for j in found.abandoned] == [given_up_job]
        assert job_status(engine, again_job) == "todo" and again_upload.is_dir()
        assert job_status(engine, given_up_job) == "failed"
        with engine.connect() as conn:
            status, error = conn.execute(sa.select(Dataset.status, Dataset.error)
                                         .where(Dataset.id == given_up_id)).one()
        assert status == "failed" and f"stopped {jobs.MAX_ATTEMPTS} times" in error
        assert not given_up_upload.exists()
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE procrastinate_jobs SET status = 'cancelled' "
                                 "WHERE status IN ('todo', 'doing') AND task_name = :task "
                                 "AND (args->>'dataset_id')::int IN (:a, :b)"),
                         {"task": jobs.IMPORT_TASK, "a": again_id, "b": given_up_id})
        for dataset_id in (again_id, given_up_id):
            remove_dataset(engine, dataset_id)
