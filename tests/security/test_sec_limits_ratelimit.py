"""Rate limits of the expensive endpoints: 429 + Retry-After, per client, with counters in
PostgreSQL that separate app instances (as separate web processes would be) share."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from geoapp import create_app
from geoapp.extensions import db

PARCEL = {"type": "Polygon",
          "coordinates": [[[0, 0], [0, 0.001], [0.001, 0.001], [0.001, 0], [0, 0]]]}


def a_client_address() -> str:
    """An address no other test uses: counters outlive tests (they are committed)."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


@pytest.fixture()
def make_limited_app(app: Flask, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Factory: an app of its own on the test database, rate limits on (small ones)."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "GEOAPP_TILE_CACHE_MB": 0,
            "GEOAPP_RATELIMIT_ENABLED": True,
            "GEOAPP_RATELIMIT_PARCEL": "3/minute",
            "GEOAPP_RATELIMIT_LARGE_PAGE": "2/minute",
            "GEOAPP_RATELIMIT_EXPORT": "1/minute",
            **overrides,
        }
        application = create_app(config)
        made.append(application)
        return application

    yield factory
    for application in made:
        with application.app_context():
            db.engine.dispose()


def post_parcel(app: Flask, address: str, **kwargs: Any) -> TestResponse:
    return app.test_client().post("/api/lookup/area", json=PARCEL,
                                  environ_base={"REMOTE_ADDR": address}, **kwargs)


def test_counters_are_shared_by_two_app_instances(make_limited_app):
    first, second = make_limited_app(), make_limited_app()
    client = a_client_address()
    statuses = [post_parcel(app, client).status_code for app in (first, first, second)]
    assert statuses == [200, 200, 200]
    # The fourth and fifth hits, in either instance, are over the shared 3/minute.
    refused = post_parcel(first, client)
    assert refused.status_code == 429
    assert post_parcel(second, client).status_code == 429
    body = refused.get_json()
    assert body["error"] == "rate_limited"
    assert "3 per 1 minute" in body["message"] and "GEOAPP_RATELIMIT_PARCEL" in body["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_limits_count_per_client(make_limited_app):
    limited = make_limited_app()
    busy, other = a_client_address(), a_client_address()
    assert [post_parcel(limited, busy).status_code for _ in range(4)] == [200, 200, 200, 429]
    answered = post_parcel(limited, other)
    assert answered.status_code == 200
    assert answered.headers["X-RateLimit-Remaining"] == "2"


def test_only_large_pages_are_limited(make_limited_app):
    limited = make_limited_app()
    client = limited.test_client()
    address = {"REMOTE_ADDR": a_client_address()}
    small = "/api/collections/flood_zones/items?limit=10"
    large = "/api/collections/flood_zones/items?limit=5000"
    for _ in range(4):
        response = client.get(small, environ_base=address)
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers
        response.get_data()
    statuses = []
    for _ in range(3):
        response = client.get(large, environ_base=address)
        response.get_data()
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]


def test_exports_are_limited(make_limited_app):
    limited = make_limited_app()
    client = limited.test_client()
    address = {"REMOTE_ADDR": a_client_address()}
    assert client.get("/api/datasets/999999999/export", environ_base=address).status_code == 404
    refused = client.get("/api/datasets/999999999/export", environ_base=address)
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"


def test_healthz_is_never_limited(make_limited_app):
    limited = make_limited_app(GEOAPP_RATELIMIT_PARCEL="1/minute")
    client = limited.test_client()
    address = {"REMOTE_ADDR": a_client_address()}
    for _ in range(5):
        response = client.get("/healthz", environ_base=address)
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers and "Retry-After" not in response.headers


def test_a_process_local_storage_does_not_share(make_limited_app):
    # What the shared storage prevents: with per-process counters, each instance allows 3.
    first = make_limited_app(GEOAPP_RATELIMIT_STORAGE_URI="memory://")
    second = make_limited_app(GEOAPP_RATELIMIT_STORAGE_URI="memory://")
    client = a_client_address()
    assert [post_parcel(app, client).status_code for app in (first,) * 3 + (second,) * 3] \
        == [200] * 6


@pytest.fixture()
def storage(app: Flask):
    from geoapp.db.ratelimit_storage import PostgresStorage

    with app.app_context():
        return PostgresStorage("geoapp-postgresql://", engine=db.engine)


def test_storage_counts_a_window_and_starts_a_new_one_when_it_ends(storage):
    key = f"test/{uuid.uuid4().hex}"
    assert storage.get(key) == 0
    assert [storage.incr(key, 1) for _ in range(3)] == [1, 2, 3]
    assert storage.get(key) == 3
    assert time.time() < storage.get_expiry(key) <= time.time() + 1.5
    time.sleep(1.1)
    assert storage.get(key) == 0
    assert storage.incr(key, 1) == 1
    storage.clear(key)
    assert storage.get(key) == 0
    assert storage.check()


def test_storage_loses_no_hit_under_concurrency(storage):
    key = f"test/{uuid.uuid4().hex}"
    counts: list[int] = []
    lock = threading.Lock()

    def hit_many() -> None:
        for _ in range(25):
            value = storage.incr(key, 60)
            with lock:
                counts.append(value)

    threads = [threading.Thread(target=hit_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 151))
    assert storage.get(key) == 150


def test_storage_purges_expired_counters(storage):
    key = f"test/{uuid.uuid4().hex}"
    storage.incr(key, 1)
    time.sleep(1.1)
    storage._next_purge = 0.0
    storage.incr(f"test/{uuid.uuid4().hex}", 60)
    with storage.engine.connect() as connection:
        left = connection.execute(sa.text("SELECT count(*) FROM rate_limit_counters "
                                          "WHERE key = :key"), {"key": key}).scalar()
    assert left == 0


def test_an_unreadable_limit_setting_stops_the_app_from_starting(database_url) -> None:
    with pytest.raises(RuntimeError, match="GEOAPP_RATELIMIT_PARCEL='lots' is not a rate limit"):
        create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                    "GEOAPP_RATELIMIT_PARCEL": "lots"})
