"""Real servers and clients for tests: the app under `flask serve` on loopback, as `make run`
and compose serve it, and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"


# Debian's Chromium, headless, never reaching out on its own (no network here).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"]


def chromium_path() -> str:
    """Debian's Chromium, installed by scripts/browser.sh when missing."""
    found = subprocess.run(["bash", str(PROJECT / "scripts" / "browser.sh")],
                           capture_output=True, text=True, check=False)
    if found.returncode != 0:
        pytest.fail(f"Chromium is not available: {found.stderr}")
    return found.stdout.strip()


def free_port() -> int:
    """A loopback port nobody listens on (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Return once `/healthz` answers; fail the test if the server dies or never answers."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("the app did not start under `flask serve`")
            time.sleep(0.2)


@contextmanager
def live_server(env: Mapping[str, str], *, workers: int = 1, threads: int = 4,
                without: tuple[str, ...] = ()) -> Iterator[str]:
    """The base URL of `flask --app geoapp serve` with `env` added to this process's environment
    (less the variables named in `without`); stopped when the block ends."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key not in without}
    environment.update({"PYTHONPATH": str(PROJECT), **env})
    command = [str(FLASK), "--app", "geoapp", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--workers", str(workers), "--threads", str(threads),
               "--no-access-log"]
    process = subprocess.Popen(command, cwd=PROJECT, env=environment,
                               stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
