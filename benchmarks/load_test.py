"""Load test: many concurrent clients drive the webhook app over loopback, against a floor.

The server runs in its own process on 127.0.0.1 (the stdlib thread-pool server that
``calltrack serve`` uses). Each client sends signed inbound-call webhooks, each a new call from
a new caller, until it has sent its share or the time is up. Reported: calls per second, p50 and
p99 latency, errors (must be 0), and whether every call is in the log exactly once (it must be).

In the same run the same server, clients and load drive the floor: a bare WSGI app that only
verifies the signature, stores one row in SQLite with the durability SqlStorage gives SQLite
(WAL, ``synchronous=NORMAL``) and returns a fixed document. The goal is at least 80% of the
floor's calls per second, and in process (no sockets) at most 2x the floor's time per inbound
webhook. The floor runs first and last and each run is compared with their mean; in process
the apps take turns round by round. The app runs with the default settings, spam windows on.

A second reference, the schema floor ("schema"), sends the statements an inbound call runs on
SqlStorage (``BEGIN IMMEDIATE``, the routing read, the insert of the call row with all the
indexes the Calls folder and analytics need, ``COMMIT``) through the bare sqlite3 driver, with
no calltrack code around them: what the database itself costs, on the same server and load.

Run: python benchmarks/load_test.py [--clients 32] [--seconds 20] [--calls 4000]
PostgreSQL is measured too when CALLTRACK_TEST_POSTGRES_URL is set and SQL storage is there.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection
from typing import Any

from calltrack import CallTracker
from calltrack._server import make_server
from calltrack.errors import InvalidSignature
from calltrack.ports import Storage, WebhookRequest
from calltrack.storage.memory import MemoryStorage
from calltrack.testing import FakeProvider
from calltrack.webhooks import WebhookHandler, WsgiApp

SECRET = "load-secret"  # noqa: S105 - a test signing key, not a credential
BASE = "https://hooks.example.com"
VIRTUAL = "+74951234567"
DOCUMENT = b'{"actions": [{"say": "hello", "language": "en-US"}]}'


# --- the apps under test --------------------------------------------------------------
def database_for(kind: str, folder: str) -> str | None:
    """A fresh, migrated database for a run: its URL, or None if not available here.

    SQLite is a file in ``folder``; PostgreSQL a new database on the server that
    ``CALLTRACK_TEST_POSTGRES_URL`` names (drop it with :func:`drop_database`).
    """
    try:
        import sqlalchemy as sa  # noqa: PLC0415 - only the SQL runs need it

        from calltrack.storage.sql import upgrade  # noqa: PLC0415 - optional extra
    except ImportError:
        return None
    if kind == "sqlite":
        url = f"sqlite:///{folder}/{uuid.uuid4().hex[:8]}.db"
    else:
        server = os.environ.get("CALLTRACK_TEST_POSTGRES_URL")
        if not server:
            return None
        base = sa.make_url(server).set(drivername="postgresql+psycopg")
        name = f"calltrack_load_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database made by :func:`database_for` (SQLite files go with the folder)."""
    import sqlalchemy as sa  # noqa: PLC0415 - only the SQL runs need it

    made = sa.make_url(url)
    if made.get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(made.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{made.database}" WITH (FORCE)')
    admin.dispose()


def storage_for(url: str | None) -> Storage:
    """The storage of a run: MemoryStorage without a URL, else SqlStorage on it."""
    if url is None:
        return MemoryStorage()
    from calltrack.storage.sql import SqlStorage  # noqa: PLC0415 - optional extra

    storage: Storage = SqlStorage(url)
    return storage


def tracker_app(storage: Storage) -> tuple[WsgiApp, CallTracker]:
    """The real app with the default settings (spam windows on): one tracked vacancy."""
    tracker = CallTracker(storage)
    tracker.add_numbers([VIRTUAL], provider="fake")
    tracker.track("vac-load", ["+79161234567"], employer_id="emp", title="Load")
    provider = FakeProvider((SECRET,), base_url=BASE)
    return WsgiApp(WebhookHandler(tracker, [provider], public_url=BASE)), tracker


def _signed_body(provider: FakeProvider, environ: dict[str, Any]) -> bytes | None:
    """The request's body if its signature is good, else ``None``."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(size)
    url = BASE + environ["PATH_INFO"]
    signature = environ.get("HTTP_X_FAKE_SIGNATURE", "")
    try:
        provider.verify(WebhookRequest("POST", url, {"x-fake-signature": signature}, body))
    except InvalidSignature:
        return None
    return body


def _connection(local: threading.local, path: str) -> sqlite3.Connection:
    """This thread's connection, with the durability SqlStorage gives SQLite.

    WAL (set on the file), ``synchronous=NORMAL``: no fsync per commit.
    """
    db: sqlite3.Connection | None = getattr(local, "db", None)
    if db is None:
        db = local.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous=NORMAL")
    return db


def floor_app(folder: str) -> Callable[..., list[bytes]]:
    """Verify the signature, store one row in SQLite as durably as SqlStorage, answer a document."""
    provider = FakeProvider((SECRET,), base_url=BASE)
    path = f"{folder}/floor.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY, body BLOB)")
    local = threading.local()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = _signed_body(provider, environ)
        if body is None:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"bad signature\n"]
        db = _connection(local, path)
        call_id = body[13:40].decode(errors="replace")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR IGNORE INTO calls VALUES (?, ?)", (call_id, body))
        db.execute("COMMIT")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(DOCUMENT)))]
        start_response("200 OK", headers)
        return [DOCUMENT]

    return app


def schema_floor_app(url: str) -> Callable[..., list[bytes]]:
    """A second reference: the statements an inbound call runs, sent by the bare driver.

    On calltrack's migrated SQLite schema, after verifying the signature: ``BEGIN
    IMMEDIATE``, the routing read SqlStorage sends (assignment, vacancy, the caller's recent
    calls), the insert of the call row with all its indexes, ``COMMIT``, a fixed document.
    No routing decision, no phone parsing, no rendering: what the database itself costs.
    """
    from calltrack.storage import _schema  # noqa: PLC0415 - only the SQL runs need it
    from calltrack.storage.sql import SqlStorage  # noqa: PLC0415 - optional extra

    storage = SqlStorage(url)
    tracker_app(storage)  # the same vacancy and number as the real app
    with storage.transaction():  # compiles the statements the webhooks run
        pass
    hot = storage._hot  # noqa: SLF001 - the very SQL that SqlStorage sends
    storage.close()
    assert hot is not None
    routing, insert = hot.routing_for, hot.add_call
    columns: dict[str, Any] = {column.key: None for column in _schema.calls.c}
    provider = FakeProvider((SECRET,), base_url=BASE)
    path = url.removeprefix("sqlite:///")
    local = threading.local()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = _signed_body(provider, environ)
        if body is None:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"bad signature\n"]
        sent = json.loads(body)
        now = datetime.now(timezone.utc)
        since = now - timedelta(hours=1)
        values = {"virtual_number": sent["to"], "caller": sent["from"], "since": since}
        row = dict(columns)
        row.update(
            call_id=f"fake:{sent['call_id']}",
            provider="fake",
            provider_call_id=sent["call_id"],
            virtual_number=sent["to"],
            caller=sent["from"],
            started_at=now.strftime("%Y-%m-%d %H:%M:%S.%f"),
            route="forwarded",
            vacancy_id="vac-load",
            employer_id="emp",
            real_number="+79161234567",
            talk_seconds=0,
            is_spam=0,
            is_missed=0,
            has_resume=0,
        )
        db = _connection(local, path)
        db.execute("BEGIN IMMEDIATE")
        db.execute(routing.sql, routing.parameters(values)).fetchall()
        db.execute(insert.sql, tuple(row[name] for name in insert.params))
        db.execute("COMMIT")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(DOCUMENT)))]
        start_response("200 OK", headers)
        return [DOCUMENT]

    return app


def serve_in_child(kind: str, folder: str, url: str | None, threads: int, pipe: Connection) -> None:
    """Child process: serve the app, then report which calls it logged."""
    tracker = None
    if kind == "floor":
        app: Any = floor_app(folder)
    elif kind == "schema":
        assert url is not None
        app = schema_floor_app(url)
    else:
        app, tracker = tracker_app(storage_for(url))
    server = make_server("127.0.0.1", 0, app, threads)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    pipe.send(server.server_address[1])
    sent_ids: list[str] = pipe.recv()
    server.shutdown()
    worker.join()
    server.server_close()
    if tracker is None:
        path = f"{folder}/floor.db" if url is None else url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            stored = db.execute("SELECT count(*) FROM calls").fetchone()[0]
        pipe.send((stored, stored == len(sent_ids)))
        return
    found = sum(1 for call_id in sent_ids if tracker.call("fake", call_id) is not None)
    total = tracker.stats(vacancy_id="vac-load").calls
    pipe.send((total, found == len(sent_ids) == total))
    tracker.storage.close()


# --- the clients ----------------------------------------------------------------------
def signed_bodies(count: int, tag: str, first: int = 0) -> list[tuple[str, bytes, str]]:
    """``count`` signed inbound calls: (call id, body, signature); signing is not timed.

    Each comes from a caller of its own, numbered from ``first``: a new caller is the
    common case, and nothing about one is cached yet.
    """
    provider = FakeProvider((SECRET,), base_url=BASE)
    out = []
    for i in range(first, first + count):
        call_id = f"{tag}{i:012d}"
        caller = f"+7903{i % 10_000_000:07d}"
        request = provider.request("voice", {"call_id": call_id, "from": caller, "to": VIRTUAL})
        out.append((call_id, request.body, request.headers["x-fake-signature"]))
    return out


def drive(
    port: int, bodies: list[tuple[str, bytes, str]], clients: int, seconds: float
) -> tuple[list[float], list[str], int, float]:
    """Send the calls from ``clients`` threads; return latencies, ids sent, errors, wall time."""
    latencies: list[float] = []
    sent: list[str] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    shares = [bodies[i::clients] for i in range(clients)]

    def client(share: list[tuple[str, bytes, str]]) -> None:
        nonlocal errors
        for call_id, body, signature in share:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                headers = {"Content-Type": "application/json", "X-Fake-Signature": signature}
                conn.request("POST", "/fake/voice", body, headers)
                answer = conn.getresponse()
                answer.read()
                conn.close()
                ok = answer.status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                sent.append(call_id)
                latencies.append(elapsed)
                errors += not ok

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, sent, errors, time.perf_counter() - began


def over_loopback(
    kind: str, clients: int, seconds: float, calls: int, threads: int
) -> dict[str, Any] | None:
    """One run against a fresh server process; None if the storage is not available."""
    with tempfile.TemporaryDirectory() as folder:
        url = None
        if kind in {"sqlite", "postgres", "schema"}:
            url = database_for("sqlite" if kind == "schema" else kind, folder)
            if url is None:
                return None
        bodies = signed_bodies(calls, f"{kind[:2].upper()}{int(time.time())}")
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.Process(
            target=serve_in_child, args=(kind, folder, url, threads, child)
        )
        process.start()
        try:
            port = parent.recv()
            latencies, sent, errors, wall = drive(port, bodies, clients, seconds)
            parent.send(sent)
            stored, exact = parent.recv()
        finally:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
            if url is not None:
                drop_database(url)
    ordered = sorted(latencies)
    return {
        "kind": kind,
        "calls": len(sent),
        "per_second": len(sent) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "errors": errors,
        "stored": stored,
        "exactly_once": exact,
    }


# --- in process -----------------------------------------------------------------------
def environ_for(body: bytes, signature: str) -> dict[str, Any]:
    """The WSGI environ of one signed inbound webhook."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/fake/voice",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_FAKE_SIGNATURE": signature,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
    }


def per_call_in_process(
    apps: dict[str, Callable[..., Any]], count: int, rounds: int = 5
) -> dict[str, float]:
    """Seconds per inbound webhook for each app, calling it directly: the best round.

    The apps take turns round by round, so load from elsewhere on the machine falls on
    each of them alike; every round sends new calls from new callers.
    """
    best = dict.fromkeys(apps, float("inf"))
    first = 0
    for round_ in range(rounds):
        for name, app in apps.items():
            bodies = signed_bodies(count, f"IP{name[:2]}{round_}", first)
            first += count
            environs = [environ_for(body, signature) for _, body, signature in bodies]
            started = time.perf_counter()
            for environ in environs:
                app(environ, lambda *_: None)
            best[name] = min(best[name], (time.perf_counter() - started) / count)
    return best


def in_process(folder: str, count: int) -> dict[str, float]:
    """Time the floor and each storage available here in process."""
    apps: dict[str, Callable[..., Any]] = {"floor": floor_app(folder)}
    trackers: list[CallTracker] = []
    urls: list[str] = []
    try:
        schema_url = database_for("sqlite", folder)
        if schema_url is not None:
            apps["schema"] = schema_floor_app(schema_url)
        for kind in ("memory", "sqlite", "postgres"):
            url = None if kind == "memory" else database_for(kind, folder)
            if kind != "memory" and url is None:
                continue
            if url is not None:
                urls.append(url)
            apps[kind], tracker = tracker_app(storage_for(url))
            trackers.append(tracker)
        return per_call_in_process(apps, count)
    finally:
        for tracker in trackers:
            tracker.storage.close()
        for url in urls:
            drop_database(url)


def main() -> int:
    """Run the loopback runs and the in-process comparison; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--calls", type=int, default=4000, help="calls per run, at most")
    parser.add_argument("--threads", type=int, default=16, help="server threads")
    args = parser.parse_args()
    clients = max(1, min(args.clients, 64))
    seconds = max(1.0, min(args.seconds, 60.0))
    print(f"{clients} clients, at most {args.calls} calls or {seconds:.0f} s per run, 127.0.0.1")
    print(
        f"{'run':8} {'calls':>6} {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'logged':>6}  exactly once  vs floor  vs schema"
    )
    # The floor runs first and last; each run is compared with the mean of the two, so a
    # change of load on the machine during the runs shows, and falls on both sides.
    results = [
        (kind, over_loopback(kind, clients, seconds, args.calls, args.threads))
        for kind in ("floor", "schema", "memory", "sqlite", "postgres", "floor")
    ]
    floors = [result["per_second"] for kind, result in results if kind == "floor" and result]
    floor_rate = statistics.mean(floors)
    schema_rate = next((r["per_second"] for kind, r in results if kind == "schema" and r), None)
    failed = False
    for kind, result in results:
        if result is None:
            print(f"{kind:8} (not available here)")
            continue
        ratio = result["per_second"] / floor_rate
        versus_schema = f"{result['per_second'] / schema_rate:9.0%}" if schema_rate else ""
        failed |= result["errors"] > 0 or not result["exactly_once"]
        print(
            f"{kind:8} {result['calls']:6d} {result['per_second']:8.0f} {result['p50_ms']:7.1f} "
            f"{result['p99_ms']:7.1f} {result['errors']:6d} {result['stored']:6d}  "
            f"{'yes' if result['exactly_once'] else 'NO':12}  {ratio:8.0%} {versus_schema}"
        )
    with tempfile.TemporaryDirectory() as folder:
        times = in_process(folder, 500)
    floor_time = times.pop("floor")
    schema_time = times.get("schema")
    print(f"\nin process, one inbound webhook: floor {floor_time * 1e6:.0f} µs")
    for kind, spent in times.items():
        versus = f", {spent / schema_time:.2f}x the schema floor" if schema_time else ""
        print(f"  {kind:8} {spent * 1e6:6.0f} µs  = {spent / floor_time:.2f}x the floor{versus}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
