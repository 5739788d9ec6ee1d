"""Keys, counters and credits in one SQLite file: the single-machine store, no Redis needed.

Every worker process opens the same file (`<data_dir>/metering.sqlite3`) in WAL mode; a
charge is one `BEGIN IMMEDIATE` transaction (the write lock first, so two workers can never
both read a counter and then both write it), deciding with `windows.evaluate`. Commits are
durable across a crash of the service (WAL, `synchronous=NORMAL`); a power cut may lose the
last moments of counters, never corrupt them.

SQLite calls block, so each store runs them on a thread of its own, one at a time, off the
event loop. A lock held longer than `busy_timeout` is `StoreUnavailable`, not a wait.
Window rows expire two periods after their last use and are swept every few hundred
charges: the file holds the keys plus the subjects of the last two periods, not history.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, TypeVar

from metering.keys import MAX_CREDITS, KeyRecord, over_maximum
from metering.store import (
    NOT_REVOKED,
    AdminError,
    Charge,
    StoreUnavailable,
    Usage,
    Verdict,
    check_credit,
    decide,
    stored_record,
)
from metering.windows import State

_T = TypeVar("_T")
FILENAME = "metering.sqlite3"
_SWEEP_EVERY = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    digest    TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    plan      TEXT,
    credits   INTEGER,
    revoked   INTEGER NOT NULL DEFAULT 0,
    created   REAL NOT NULL,
    last_used REAL,
    requests  INTEGER NOT NULL DEFAULT 0,
    spent     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS windows (
    subject  TEXT NOT NULL,
    class    TEXT NOT NULL,
    period   INTEGER NOT NULL,
    window   INTEGER NOT NULL,
    current  INTEGER NOT NULL,
    previous INTEGER NOT NULL,
    expires  INTEGER NOT NULL,
    PRIMARY KEY (subject, class, period)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS windows_expiry ON windows (expires);
"""
_SELECT_KEYS = (
    "SELECT digest, name, plan, credits, revoked, created, last_used, requests, spent FROM api_keys"
)


class SqliteStore:
    """`MeterStore` and `KeyAdmin` on a SQLite file shared by this machine's workers."""

    def __init__(
        self,
        directory: Path,
        *,
        busy_timeout: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = directory / FILENAME
        self.where = str(self.path)
        self._clock = clock
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="metering-sqlite")
        self._charges = 0
        self._db = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        with contextlib.suppress(OSError):  # digests and balances are the operator's business
            os.chmod(self.path, 0o600)

    async def lookup(self, digest: str) -> KeyRecord | None:
        return await self._run(lambda: self._select("digest", digest))

    async def charge(self, charge: Charge) -> Verdict:
        return await self._run(lambda: self._charge(charge))

    async def ping(self) -> None:
        await self._run(lambda: self._db.execute("SELECT 1").fetchone())

    async def aclose(self) -> None:
        await self._run(self._db.close)
        self._executor.shutdown(wait=True)

    async def create(self, record: KeyRecord) -> None:
        if record.credits is not None and record.credits > MAX_CREDITS:
            raise AdminError(over_maximum(record.credits))

        def insert() -> None:
            try:
                self._db.execute(
                    "INSERT INTO api_keys (digest, name, plan, credits, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (record.digest, record.name, record.plan, record.credits, record.created),
                )
            except sqlite3.IntegrityError:
                raise AdminError(
                    f"a key named {record.name!r} exists (a name is taken until its key is "
                    "revoked and deleted)"
                ) from None

        await self._run(insert, admin=True)

    async def records(self) -> list[KeyRecord]:
        def select() -> list[KeyRecord]:
            rows = self._db.execute(_SELECT_KEYS + " ORDER BY created")
            return [_record(row) for row in rows]

        return await self._run(select, admin=True)

    async def revoke(self, name: str) -> KeyRecord:
        def update() -> KeyRecord:
            self._db.execute("UPDATE api_keys SET revoked = 1 WHERE name = ?", (name,))
            return self._named(name)

        return await self._run(update, admin=True)

    async def delete(self, name: str) -> KeyRecord:
        def remove() -> KeyRecord:
            with _immediate(self._db):
                record = self._named(name)
                if not record.revoked:
                    raise AdminError(NOT_REVOKED.format(name=name))
                self._db.execute("DELETE FROM api_keys WHERE name = ?", (name,))
            return record

        return await self._run(remove, admin=True)

    async def credit(self, name: str, amount: int) -> KeyRecord:
        def update() -> KeyRecord:
            with _immediate(self._db):
                record = self._named(name)
                check_credit(record, amount)
                self._db.execute(
                    "UPDATE api_keys SET credits = credits + ? WHERE name = ?", (amount, name)
                )
            return self._named(name)

        return await self._run(update, admin=True)

    # --- on the store's thread ----------------------------------------------------------

    def _charge(self, charge: Charge) -> Verdict:
        now = round(self._clock() * 1000)
        with _immediate(self._db):
            credits = None
            if charge.digest is not None:
                record = self._select("digest", charge.digest)
                if record is None or record.revoked:
                    return Verdict("invalid_key", now=now)
                if record.damaged:
                    return Verdict("unreadable", now=now)
                credits = record.credits
                if credits is not None and credits < charge.cost:
                    return Verdict("insufficient_credits", credits=credits, now=now)
            saved = [self._window(charge.subject, usage) for usage in charge.usage]
            quotas, states = decide(charge.usage, saved, now)
            if states is None:
                return Verdict("rate_limited", quotas, credits, now)
            for usage, state in zip(charge.usage, states, strict=True):
                self._save(charge.subject, usage, state)
            if charge.digest is not None:
                self._db.execute(
                    "UPDATE api_keys SET credits = credits - ?, spent = spent + ?, "
                    "requests = requests + 1, last_used = ? WHERE digest = ?",
                    (
                        charge.cost if credits is not None else 0,
                        charge.cost,
                        now / 1000,
                        charge.digest,
                    ),
                )
                credits = None if credits is None else credits - charge.cost
        self._charges += 1
        if self._charges % _SWEEP_EVERY == 0:
            self._db.execute(
                "DELETE FROM windows WHERE (subject, class, period) IN "
                "(SELECT subject, class, period FROM windows WHERE expires < ? LIMIT 1000)",
                (now,),
            )
        return Verdict("admitted", quotas, credits, now)

    def _window(self, subject: str, usage: Usage) -> State | None:
        row = self._db.execute(
            "SELECT window, current, previous FROM windows "
            "WHERE subject = ? AND class = ? AND period = ?",
            (subject, usage.rate_class, usage.period),
        ).fetchone()
        return State(*row) if row else None

    def _save(self, subject: str, usage: Usage, state: State) -> None:
        self._db.execute(
            "INSERT INTO windows (subject, class, period, window, current, previous, expires) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subject, class, period) DO UPDATE SET "
            "window = excluded.window, current = excluded.current, "
            "previous = excluded.previous, expires = excluded.expires",
            (
                subject,
                usage.rate_class,
                usage.period,
                state.window,
                state.current,
                state.previous,
                (state.window + 2) * usage.period,
            ),
        )

    def _select(self, column: Literal["digest", "name"], value: str) -> KeyRecord | None:
        where = " WHERE digest = ?" if column == "digest" else " WHERE name = ?"
        found = self._db.execute(_SELECT_KEYS + where, (value,)).fetchone()
        return _record(found) if found else None

    def _named(self, name: str) -> KeyRecord:
        record = self._select("name", name)
        if record is None:
            raise AdminError(f"no key named {name!r}")
        return record

    async def _run(self, work: Callable[[], _T], *, admin: bool = False) -> _T:
        """`work` on the store's thread; SQLite failures are `StoreUnavailable` for requests
        (the caller decides what an unavailable store means) and surface as they are for the
        CLI."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, work)
        except sqlite3.Error as exc:
            if admin:
                raise
            raise StoreUnavailable(f"sqlite: {type(exc).__name__}") from exc


class _immediate:
    """`BEGIN IMMEDIATE` ... `COMMIT` (or `ROLLBACK` on an exception)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _record(row: tuple[object, ...]) -> KeyRecord:
    digest, name, plan, credits, revoked, *counts = row
    created, last_used, requests, spent = counts
    return stored_record(
        str(digest),
        str(name),
        str(plan) if plan else None,
        credits,
        bool(revoked),
        (created, last_used, requests, spent),
    )
