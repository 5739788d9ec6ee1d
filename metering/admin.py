"""`balance-graph keys …`: create, list, credit, revoke and delete API keys in the configured
store.

The store is the one the service uses with the same `--config` (and environment): Redis
when `REDIS_URL` or `[cache] redis_url` is set (in its `redis_mode`), else the SQLite file
under `[auth] data_dir`.
A new key is printed once, alone on stdout (so `KEY=$(balance-graph keys create …)` works);
everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TextIO

from redis.exceptions import RedisError

from chains.cache.clients import redis_client
from metering import keys
from metering.keys import KeyRecord
from metering.redis_store import RedisStore
from metering.sqlite_store import SqliteStore
from metering.store import AdminError, KeyAdmin
from settings import Settings


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """The `keys` command and its subcommands; `common` adds what every command takes
    (`--config`)."""
    parser = commands.add_parser("keys", help="manage API keys (see README: keys and credits)")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key and print it once")
    create.add_argument("--name", required=True, help="how metrics and `keys list` name it")
    create.add_argument("--credits", type=int, help="a credit balance (default: unlimited)")
    create.add_argument("--plan", help="a [rate_limits.plans.<plan>] (default: no limits)")
    listing = actions.add_parser("list", help="every key: plan, credits, usage, status")
    listing.add_argument("--json", action="store_true", help="one JSON object per key")
    revoke = actions.add_parser("revoke", help="refuse a key from now on (its name stays taken)")
    revoke.add_argument("name")
    delete = actions.add_parser(
        "delete", help="forget a revoked key and its usage (its name can be used again)"
    )
    delete.add_argument("name")
    credit = actions.add_parser("credit", help="add N credits to a key's balance (N < 0 takes)")
    credit.add_argument("name")
    credit.add_argument("amount", type=int, metavar="N")
    for action in (create, listing, revoke, delete, credit):
        common(action)


def run(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    """One `keys` action; 0 on success, 1 (with a message on stderr) when it cannot be done.
    `out` (default: the current stdout) gets the new key or the listing."""
    try:
        return asyncio.run(_run(args, settings, out or sys.stdout))
    except (AdminError, ValueError) as exc:
        print(f"balance-graph keys: {exc}", file=sys.stderr)
    except RedisError as exc:  # its messages can name the server: say what failed, not where
        print(f"balance-graph keys: Redis did not answer ({type(exc).__name__})", file=sys.stderr)
    except sqlite3.Error as exc:
        print(f"balance-graph keys: the key store failed: {exc}", file=sys.stderr)
    return 1


async def _run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    async with _store(settings) as store:
        if args.action == "create":
            return await _create(store, settings, args, out)
        if args.action == "list":
            records = await store.records()
            if args.json:
                for record in records:
                    print(json.dumps(_public(record)), file=out)
            else:
                _table(records, out)
            return 0
        if args.action == "revoke":
            record = await store.revoke(args.name)
            print(f"revoked key {record.name!r}: it is refused from now on", file=sys.stderr)
            return 0
        if args.action == "delete":
            record = await store.delete(args.name)
            print(f"deleted key {record.name!r}: the name is free again", file=sys.stderr)
            return 0
        if abs(args.amount) > keys.MAX_CREDITS:
            raise AdminError(f"N must be at most {keys.MAX_CREDITS:,} either way")
        record = await store.credit(args.name, args.amount)
        print(f"key {record.name!r} has {record.credits} credits", file=sys.stderr)
        return 0


async def _create(
    store: KeyAdmin, settings: Settings, args: argparse.Namespace, out: TextIO
) -> int:
    name = keys.check_name(args.name)
    if args.plan is not None and args.plan not in settings.rate_limits.plans:
        plans = ", ".join(sorted(settings.rate_limits.plans)) or "none are configured"
        raise AdminError(f"no [rate_limits.plans.{args.plan}] in the config ({plans})")
    if args.credits is not None and not 0 <= args.credits <= keys.MAX_CREDITS:
        raise AdminError(f"--credits must be 0 or more, and at most {keys.MAX_CREDITS:,}")
    key = keys.new_key()
    record = KeyRecord(
        digest=keys.digest(key),
        name=name,
        plan=args.plan,
        credits=args.credits,
        revoked=False,
        created=time.time(),
    )
    await store.create(record)
    print(key, file=out)
    credits = "unlimited credits" if args.credits is None else f"{args.credits} credits"
    limits = f"plan {args.plan!r}" if args.plan else "no rate limits"
    print(
        f"created key {name!r} ({limits}, {credits}) in {store.where}. "
        "It is shown only this once: store it now.",
        file=sys.stderr,
    )
    return 0


def _table(records: list[KeyRecord], out: TextIO) -> None:
    header = ("NAME", "PLAN", "CREDITS", "SPENT", "REQUESTS", "CREATED", "LAST USED", "STATUS")
    rows = [header] + [
        (
            r.name,
            r.plan or "-",
            "unreadable" if r.damaged else "unlimited" if r.credits is None else str(r.credits),
            str(r.spent),
            str(r.requests),
            _when(r.created),
            _when(r.last_used),
            "revoked" if r.revoked else "active",
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out
        )


def _public(record: KeyRecord) -> dict[str, object]:
    return {
        "name": record.name,
        "plan": record.plan,
        "credits": record.credits,
        "spent": record.spent,
        "requests": record.requests,
        "created": _when(record.created),
        "lastUsed": _when(record.last_used) if record.last_used else None,
        "revoked": record.revoked,
        "damaged": record.damaged,
    }


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[KeyAdmin]:
    client = redis_client(settings.cache, timeout=5, health_check_interval=0)
    if client is None:
        sqlite = SqliteStore(settings.auth.store_dir())
        try:
            yield sqlite
        finally:
            await sqlite.aclose()
        return
    try:
        yield RedisStore(client)
    finally:
        await client.aclose()
