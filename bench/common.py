"""Shared plumbing of the benchmarks: a bench database, the large dataset, a gunicorn server."""

from __future__ import annotations

import contextlib
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


def bench_database_url() -> str:
    """URL of the bench database, created and migrated on first use."""
    admin = sa.create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": BENCH_DB})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{BENCH_DB}"'))
    admin.dispose()
    url = server_url().set(database=BENCH_DB).render_as_string(hide_password=False)
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


def gunicorn(url: str, workers: int = 2,
             threads: int = 4) -> contextlib.AbstractContextManager[tuple[str, subprocess.Popen]]:
    """FloodManager under gunicorn on a free loopback port; yields (base URL, process)."""
    return gunicorn_app(VENV_BIN / "gunicorn", "geoapp:create_app()",
                        {"DATABASE_URL": url, "SECRET_KEY": BENCH_SECRET_KEY}, "/healthz",
                        workers, threads)


def parse_wrk(output: str) -> dict:
    """Requests/s, latency percentiles (ms) and non-2xx count from `wrk --latency` output."""
    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rate": rate, "p50": p50, "p99": p99, "non_2xx": int(errors.group(1)) if errors else 0}


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn worker processes of a master."""
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


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
