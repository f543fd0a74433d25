"""Shared plumbing of the benchmarks: a bench database, the large dataset (or another map's
database), FloodManager served as shipped, peers under gunicorn."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
BENCH_DB = os.environ.get("GEOAPP_BENCH_DB", "floodmanager_bench")
# The second map's database, filled by bench/generate_gpkg.py through `flask zones import`.
CLI_BENCH_DB = "floodmanager_bench_cli"
# Databases named so are the benches' own: they may be migrated (other ones are only read).
BENCH_PREFIX = "floodmanager_bench"
LARGE_NAME = "bench large (synthetic)"

# A fixed key of the length the app requires outside testing (bench servers are throw-away).
BENCH_SECRET_KEY = "bench-only-key-7c1e9a4f2b6d8035e4a1c9d0"


def server_url() -> sa.URL:
    """The PostgreSQL server benchmarks use: GEOAPP_TEST_DATABASE_URL or the private cluster."""
    raw = os.environ.get("GEOAPP_TEST_DATABASE_URL") or (
        f"postgresql+psycopg2://postgres@127.0.0.1:{os.environ.get('GEOAPP_PG_PORT', '54329')}"
        "/postgres"
    )
    return sa.engine.make_url(raw)


def database_exists(name: str) -> bool:
    """Whether the server has a database of this name."""
    admin = sa.create_engine(server_url())
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name})
    admin.dispose()
    return bool(exists)


def bench_database_url(name: str = BENCH_DB, create: bool = True) -> str | None:
    """URL of a bench database (by default `BENCH_DB`), migrated; created on first use unless
    ``create`` is false, in which case a missing database gives None."""
    exists = database_exists(name)
    if not exists and not create:
        return None
    if not exists:
        admin = sa.create_engine(server_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    url = server_url().set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "geoapp"}
    subprocess.run([str(VENV_BIN / "flask"), "db", "upgrade"], cwd=PROJECT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return url


def ensure_large_dataset(url: str, zones: int) -> int:
    """The id of the large synthetic dataset, generating it when absent (takes minutes)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(
            sa.text("SELECT id FROM datasets WHERE name = :n AND status = 'ready' "
                    "AND feature_count >= :z"), {"n": LARGE_NAME, "z": zones})
    engine.dispose()
    if found:
        return int(found)
    sys.path.insert(0, str(PROJECT / "bench"))
    from generate_large import generate

    print(f"generating the large dataset ({zones} zones) ...", flush=True)
    return generate(url, zones=zones, seed=1, name=LARGE_NAME, replace=True)


@dataclasses.dataclass(frozen=True)
class BenchMap:
    """The map a bench runs on: its database URL, served extent and zone counts."""

    database: str
    url: str
    bbox: tuple[float, float, float, float]
    # Zones of ready datasets (what FloodManager serves), and rows of the table (what peers
    # publishing the bare table serve): they differ when a retired or failed dataset remains.
    zones: int
    table_rows: int


def bench_map(database: str = BENCH_DB, zones: int = 50000) -> BenchMap:
    """The map of a bench database: `BENCH_DB` gets the large synthetic dataset (generated when
    absent); any other database must already hold ready zones (the CLI-imported map of
    `generate_gpkg.py`, for one), else the bench stops saying how to make them. The benches'
    own databases (named floodmanager_bench...) are migrated first; others are left as they
    are."""
    if database == BENCH_DB:
        url = bench_database_url()
        ensure_large_dataset(url, zones)
    elif database.startswith(BENCH_PREFIX):
        # A bench database of its own (generate_gpkg.py's): migrated like the default one.
        url = bench_database_url(database, create=False)
        if url is None:
            sys.exit(f"database {database!r} does not exist; {how_to_fill(database)}")
    else:
        # Someone else's database is read as it is, never migrated.
        if not database_exists(database):
            sys.exit(f"database {database!r} does not exist; {how_to_fill(database)}")
        url = server_url().set(database=database).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if conn.scalar(sa.text("SELECT to_regclass('public.flood_zones') IS NULL "
                               "OR to_regclass('public.datasets') IS NULL")):
            sys.exit(f"database {database!r} has no FloodManager tables; {how_to_fill(database)}")
        ready = conn.execute(sa.text(
            "SELECT count(*), ST_XMin(ST_Extent(d.bbox)), ST_YMin(ST_Extent(d.bbox)), "
            "ST_XMax(ST_Extent(d.bbox)), ST_YMax(ST_Extent(d.bbox)) FROM datasets d "
            "WHERE d.status = 'ready'")).one()
        served = conn.scalar(sa.text(
            "SELECT count(*) FROM flood_zones z JOIN datasets d ON d.id = z.dataset_id "
            "WHERE d.status = 'ready'"))
        rows = conn.scalar(sa.text("SELECT count(*) FROM flood_zones"))
    engine.dispose()
    if not served or ready[1] is None:
        sys.exit(f"database {database!r} has no zones of a ready dataset; "
                 f"{how_to_fill(database)}")
    return BenchMap(database, url, tuple(float(v) for v in ready[1:]), int(served), int(rows))


def add_map_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose a bench's map: --database and --zones."""
    parser.add_argument("--database", default=BENCH_DB,
                        help=f"bench database (default {BENCH_DB}, with the large dataset; "
                             "or e.g. floodmanager_bench_cli, made by generate_gpkg.py)")
    parser.add_argument("--zones", type=int, default=50000,
                        help="size of the large dataset generated in the default database")


def how_to_fill(database: str) -> str:
    """What makes a bench database's map."""
    if database == CLI_BENCH_DB:
        return "create it with: .venv/bin/python bench/generate_gpkg.py"
    return (f"import a map into it with `flask zones import` (DATABASE_URL pointing at it), or "
            f"use {CLI_BENCH_DB} (.venv/bin/python bench/generate_gpkg.py) or the "
            f"default {BENCH_DB}")


def dataset_extent(conn: sa.Connection, dataset_id: int) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a dataset's bounding box."""
    row = conn.execute(sa.text(
        "SELECT ST_XMin(bbox), ST_YMin(bbox), ST_XMax(bbox), ST_YMax(bbox) FROM datasets "
        "WHERE id = :id"), {"id": dataset_id}).one()
    return tuple(float(v) for v in row)


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn_app(gunicorn_bin: Path | str, app: str, env: dict[str, str], ready_path: str,
                 workers: int = 2, threads: int = 4,
                 cwd: Path = PROJECT) -> Iterator[tuple[str, subprocess.Popen]]:
    """A WSGI app under gunicorn on a free loopback port; yields (base URL, master process)."""
    port = free_port()
    process = subprocess.Popen(
        [str(gunicorn_bin), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--log-level", "warning", app],
        cwd=cwd, env={**os.environ, **env},
    )
    with serving(process, f"http://127.0.0.1:{port}", ready_path, app) as base:
        yield base, process


@contextlib.contextmanager
def serving(process: subprocess.Popen, base: str, ready_path: str, name: str,
            start_timeout_s: float = 60) -> Iterator[str]:
    """Wait until a started server answers `ready_path`, yield its base URL, then stop it."""
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                urllib.request.urlopen(base + ready_path, timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def floodmanager(url: str, workers: int = 2, threads: int = 4, env: dict[str, str] | None = None
                 ) -> Iterator[tuple[str, subprocess.Popen]]:
    """FloodManager as it is shipped (`flask serve`: Granian, WSGI) on a free loopback port,
    without the access log; yields (base URL, process).

    ``env`` adds to the server's environment (configuration such as GEOAPP_TILE_CACHE_MB)."""
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "flask"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--threads", str(threads), "--no-access-log"],
        cwd=PROJECT,
        env={**os.environ, "FLASK_APP": "geoapp", "DATABASE_URL": url,
             "SECRET_KEY": BENCH_SECRET_KEY, **(env or {})},
    )
    with serving(process, f"http://127.0.0.1:{port}", "/healthz", "FloodManager") as base:
        yield base, process


def parse_wrk(output: str) -> dict:
    """Requests/s, latency percentiles (ms), requests completed, non-2xx and socket error
    counts (timeouts among them) from `wrk --latency` output."""
    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    done = re.search(r"(\d+) requests in", output)
    p50 = ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        output)
    return {"rate": rate, "p50": p50, "p99": p99, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
            "timeouts": int(sockets.group(4)) if sockets else 0,
            "requests": int(done.group(1)) if done else 0}


def worker_pids(master_pid: int) -> list[int]:
    """The worker processes of a server's main process (gunicorn's, Granian's)."""
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def database_ports(pids: list[int], db_port: int) -> set[int]:
    """Local TCP ports of the connections that processes hold to the database server's port
    (their sockets, found in /proc, matched against the kernel's TCP tables)."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == db_port:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_idle(process: subprocess.Popen, url: str, timeout_s: float = 180) -> float:
    """Wait until no query of a server (its master and workers) is running in PostgreSQL;
    the seconds waited.

    When wrk stops, the requests it leaves in flight go on in the database (neither the server
    nor PostgreSQL cancels them), and would weigh on the next run: they are waited for."""
    db = sa.engine.make_url(url)
    engine = sa.create_engine(db)
    start = time.monotonic()
    try:
        with engine.connect() as conn:
            while time.monotonic() - start < timeout_s:
                ports = database_ports([process.pid, *worker_pids(process.pid)], db.port or 5432)
                busy = ports and conn.scalar(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                    "AND client_port = ANY(:ports) AND pid <> pg_backend_pid()"),
                    {"ports": sorted(ports)})
                conn.rollback()
                if not busy:
                    break
                time.sleep(0.2)
            else:
                print(f"  (still busy in the database after {timeout_s:.0f} s)", flush=True)
    finally:
        engine.dispose()
    return time.monotonic() - start


def peak_rss_mib(pids: list[int]) -> float:
    """Largest peak resident memory (VmHWM) among processes, in MiB."""
    peaks = []
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks, default=0.0)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p99/mean of latencies in milliseconds."""
    ordered = sorted(samples_ms)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "mean": statistics.fmean(ordered),
    }


def require_tool(name: str, package: str) -> str:
    """Path of a command-line tool, installing its Debian package when missing."""
    found = shutil.which(name)
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   stdout=subprocess.DEVNULL)
    return shutil.which(name) or sys.exit(f"{name} is not available")


def pg_tool(name: str) -> str:
    """A PostgreSQL client program of the newest installed major version."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]))
    if not candidates:
        sys.exit(f"{name} not found under /usr/lib/postgresql")
    return str(candidates[-1])


def viewer_token(url: str) -> str:
    """The secret of an API token of a new account, for the write-guarded batch endpoint."""
    from sqlalchemy.orm import Session

    from geoapp.users import accounts

    engine = sa.create_engine(url)
    with Session(engine) as session:
        user = accounts.create_user(session, f"bench-{time.time_ns()}@example.org",
                                    "benchmark-pw")
        secret = accounts.create_token(session, user, "bench").secret
        session.commit()
    engine.dispose()
    return secret


def timed_batch(url: str, body: bytes, content_type: str) -> tuple[dict, float, float, float]:
    """One POST /api/lookup/batch to a server of one worker and one thread: the answer, the
    seconds it took, and the worker's memory (MiB) before and at its peak."""
    secret = viewer_token(url)
    with floodmanager(url, workers=1, threads=1) as (base, process):
        [worker] = worker_pids(process.pid)
        idle = peak_rss_mib([worker])
        request = urllib.request.Request(
            base + "/api/lookup/batch", data=body, method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Bearer {secret}"})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            result = json.load(response)
        elapsed = time.perf_counter() - start
        peak = peak_rss_mib([worker])
    return result, elapsed, idle, peak
