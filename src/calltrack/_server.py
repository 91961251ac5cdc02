"""A small concurrent WSGI server from the standard library, for ``calltrack serve``.

The stdlib's ``wsgiref`` server answers one request at a time; this one hands each
connection to a bounded pool of threads, so slow requests do not hold up the others and a
burst cannot start unbounded threads. The storage releases the GIL while it waits on the
database, which is where a webhook spends its time. For heavy production traffic run the app
under gunicorn or uvicorn instead (see ``docs/http.md``).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

__all__ = ["ThreadPoolWsgiServer", "make_server", "run_until_signalled"]

log = logging.getLogger("calltrack.server")

DEFAULT_THREADS = 16


class _QuietHandler(WSGIRequestHandler):
    """Logs requests through :mod:`logging` at debug level, not to standard error."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401 - stdlib signature
        """Send the access line to the debug log (the app logs each webhook itself)."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s - %s", self.address_string(), format % args)


class ThreadPoolWsgiServer(WSGIServer):
    """A WSGI server that serves each connection on a bounded pool of threads.

    Args:
        address: ``(host, port)`` to listen on; port 0 picks a free one.
        app: The WSGI application.
        threads: How many requests are served at once.
    """

    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Any, threads: int = DEFAULT_THREADS) -> None:  # noqa: ANN401 - any WSGI app
        """Listen on ``address``."""
        if threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _QuietHandler)
        self.set_app(app)
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="calltrack-http")

    def process_request(self, request: Any, client_address: Any) -> None:  # noqa: ANN401 - socketserver's types
        """Hand the connection to the pool instead of serving it in the accepting thread."""
        self._pool.submit(self._serve_one, request, client_address)

    def _serve_one(self, request: Any, client_address: Any) -> None:  # noqa: ANN401
        try:
            self.finish_request(request, client_address)
        except Exception:
            log.warning("connection from %s failed", client_address, exc_info=True)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        """Stop listening and wait for the requests under way to finish."""
        super().server_close()
        self._pool.shutdown(wait=True)

    @property
    def url(self) -> str:
        """``http://host:port`` of the listening socket."""
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}"


def make_server(
    host: str,
    port: int,
    app: Any,  # noqa: ANN401 - any WSGI app
    threads: int = DEFAULT_THREADS,
) -> ThreadPoolWsgiServer:
    """Make a server listening on ``host:port`` (port 0 picks a free one)."""
    return ThreadPoolWsgiServer((host, port), app, threads)


def run_until_signalled(
    server: ThreadPoolWsgiServer,
    on_stop: Callable[[], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Serve until SIGINT (Ctrl-C) or SIGTERM, then stop cleanly.

    ``on_ready`` runs once the signals are caught, so a signal sent after it stops the
    server cleanly. Requests under way are finished, then ``on_stop`` runs (to close the
    storage). Must be called from the main thread, which is where Python delivers signals.

    Returns:
        The number of the signal that stopped the server.
    """
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    worker = threading.Thread(target=server.serve_forever, name="calltrack-accept", daemon=True)
    worker.start()
    try:
        if on_ready is not None:
            on_ready()
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        worker.join()
        server.server_close()
        if on_stop is not None:
            on_stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return received[0]
