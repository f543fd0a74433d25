"""A storage backend of the `limits` library on PostgreSQL, so that every web process (and
every server) counts against the same numbers without Redis.

Registered under the URI scheme ``geoapp-postgresql``:

- ``geoapp-postgresql://`` with an ``engine=`` option: counters in that SQLAlchemy engine's
  database (the app passes its own, so no extra pool is opened);
- ``geoapp-postgresql://user:password@host:port/database``: counters in another database,
  through a small pool of its own.

Fixed windows: one row per key (client, kind of request, window length) holding the hits and
when the window ends; an atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` counts a
hit, starting a new window when the old one has expired. Knows nothing of Flask.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import Engine, case, create_engine, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from geoapp.db.models import RateLimitCounter

SCHEME = "geoapp-postgresql"
# Expired rows are deleted at most this often (seconds) by each storage instance.
PURGE_INTERVAL_S = 60.0
# A counter statement that waits longer than this (ms) is cancelled: limits must not stall.
COUNTER_STATEMENT_TIMEOUT_MS = 2000


def seconds_from_now(seconds: float) -> Any:
    """The database's clock plus some seconds (one clock for every process)."""
    return func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, seconds)


class PostgresStorage(Storage):
    """Fixed-window rate-limit counters in a PostgreSQL table (`rate_limit_counters`)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 engine: Engine | None = None, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        rest = (uri or "").split("://", 1)[-1]
        if engine is None and not rest:
            raise ValueError(f"{SCHEME}:// needs a database in the URI or an engine= option")
        if engine is None:
            engine = create_engine(
                make_url(f"postgresql+psycopg2://{rest}"), pool_size=1, max_overflow=4,
                pool_pre_ping=True,
                connect_args={"options": f"-c statement_timeout={COUNTER_STATEMENT_TIMEOUT_MS}",
                              "application_name": "floodmanager-ratelimit"},
            )
        self.engine = engine
        self._next_purge = 0.0
        self._purge_lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Errors of the database driver, wrapped by `limits` when asked to."""
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` hits on a key; a window of `expiry` seconds starts at its first."""
        table = RateLimitCounter.__table__
        fresh = insert(table).values(key=key, hits=amount, expires_at=seconds_from_now(expiry))
        expired = table.c.expires_at <= func.clock_timestamp()
        statement = fresh.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "hits": case((expired, fresh.excluded.hits),
                             else_=table.c.hits + fresh.excluded.hits),
                "expires_at": case((expired, fresh.excluded.expires_at),
                                   else_=table.c.expires_at),
            },
        ).returning(table.c.hits)
        with self.engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
        self._purge_now_and_then()
        return int(hits)

    def get(self, key: str) -> int:
        """Hits on a key in its current window (0 once the window has expired)."""
        statement = select(RateLimitCounter.hits).where(
            RateLimitCounter.key == key, RateLimitCounter.expires_at > func.clock_timestamp())
        with self.engine.connect() as connection:
            hits = connection.execute(statement).scalar()
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        """When a key's window ends (Unix time); now when there is no current window."""
        ends = func.extract("epoch", RateLimitCounter.expires_at)
        statement = select(ends).where(RateLimitCounter.key == key,
                                       RateLimitCounter.expires_at > func.clock_timestamp())
        with self.engine.connect() as connection:
            value = connection.execute(statement).scalar()
        return float(value) if value is not None else time.time()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(select(literal(1)))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; returns how many there were."""
        with self.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        """Forget one key's counter."""
        with self.engine.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    def _purge_now_and_then(self) -> None:
        """Delete expired counters, at most once a PURGE_INTERVAL_S per instance."""
        now = time.monotonic()
        if now < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._next_purge = now + PURGE_INTERVAL_S
            with self.engine.begin() as connection:
                connection.execute(delete(RateLimitCounter).where(
                    RateLimitCounter.expires_at <= func.clock_timestamp()))
        finally:
            self._purge_lock.release()
