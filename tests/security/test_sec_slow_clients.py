"""Slow and idle clients cannot stop `flask serve` from answering /healthz.

The real command runs as a subprocess against the test database. 200 connections that send
nothing and 64 that send their headers a byte a second are held open for about 10 s while
/healthz must answer within 1 s, again and again; then an ordinary request must still work.
Under gunicorn's gthread workers (`--workers 2 --threads 4`, what ran before) each of these
connections held a thread, and /healthz timed out.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import SERVER_SECRET_KEY
from tests.live_server import live_server

PROJECT = Path(__file__).resolve().parents[2]
IDLE_CONNECTIONS = 200
SLOW_HEADER_CONNECTIONS = 64
ATTACK_SECONDS = 10.0
HEALTHZ_DEADLINE_S = 1.0


def get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    """Status and body of one GET on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture()
def served_port(app: Flask, database_url: str) -> Iterator[int]:
    """`flask --app geoapp serve` on a free loopback port (the schema exists via `app`)."""
    env = {"DATABASE_URL": database_url, "SECRET_KEY": SERVER_SECRET_KEY}
    with live_server(env, workers=2) as base:
        yield int(base.rsplit(":", 1)[1])


def test_healthz_answers_while_slow_and_idle_clients_hold_connections(served_port: int) -> None:
    port = served_port
    held: list[socket.socket] = []
    slow: list[socket.socket] = []
    answered: list[float] = []
    failures: list[str] = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        for _ in range(SLOW_HEADER_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(sock)
        held.extend(slow)
        end = time.monotonic() + ATTACK_SECONDS
        while time.monotonic() < end:
            for sock in slow:
                try:
                    sock.sendall(b"X")  # one more byte of a header line that never ends
                except OSError:
                    pass  # the server closed it (header timeout): fine
            started = time.monotonic()
            try:
                status, body = get(port, "/healthz", timeout=HEALTHZ_DEADLINE_S)
                if status != 200 or b'"ok"' not in body:
                    failures.append(f"/healthz answered {status}")
            except OSError as exc:
                failures.append(f"/healthz did not answer within {HEALTHZ_DEADLINE_S} s: {exc}")
            elapsed = time.monotonic() - started
            answered.append(elapsed)
            time.sleep(max(0.0, 1.0 - elapsed))
    finally:
        for sock in held:
            sock.close()
    assert len(answered) >= 5, "the attack loop did not run long enough"
    assert not failures, failures
    assert max(answered) < HEALTHZ_DEADLINE_S

    status, body = get(port, "/api/lookup?lon=-74.05&lat=40.11", timeout=5)
    assert status == 200 and b'"status"' in body
