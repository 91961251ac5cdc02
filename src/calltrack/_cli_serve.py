"""``calltrack serve`` runs the webhook app; ``calltrack simulate`` calls it as providers would."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from calltrack.errors import ConfigurationError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def register(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    """Add the ``serve`` and ``simulate`` subcommands."""
    serve: argparse.ArgumentParser = commands.add_parser(
        "serve", help="serve the provider webhooks over HTTP until Ctrl-C or SIGTERM"
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free one)")
    serve.add_argument("--db", metavar="URL", help="database URL (default: a SQLite file)")
    serve.add_argument("--config", metavar="FILE", help="TOML configuration file")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="URL the providers call this app at (default: http://HOST:PORT)",
    )
    serve.add_argument("--threads", type=int, default=16, help="requests served at once")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="serve the demo's job board, signed with the test harnesses' secrets",
    )
    serve.set_defaults(run=run_serve)

    simulate: argparse.ArgumentParser = commands.add_parser(
        "simulate", help="play the demo's calls over HTTP against `calltrack serve --demo`"
    )
    simulate.add_argument(
        "--url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}", help="where serve listens"
    )
    simulate.add_argument(
        "--provider",
        action="append",
        metavar="NAME",
        help="provider to speak as (repeatable; default: fake)",
    )
    simulate.set_defaults(run=run_simulate)


def run_serve(args: argparse.Namespace) -> int:
    """Run the server until a signal stops it."""
    from calltrack import _server  # noqa: PLC0415 - only this command needs it
    from calltrack.webhooks import WsgiApp  # noqa: PLC0415

    if not 0 <= args.port <= 65535:  # noqa: PLR2004 - the port range
        raise ConfigurationError(f"--port must be between 0 and 65535, not {args.port}")
    if args.threads < 1:
        raise ConfigurationError(f"--threads must be at least 1, not {args.threads}")
    server = _server.make_server(args.host, args.port, None, args.threads)
    try:
        build = _demo_handler if args.demo else _handler
        handler, close = build(args, server.url)
    except BaseException:
        server.server_close()
        raise
    app = WsgiApp(handler, on_close=close)
    server.set_app(app)
    out = sys.stdout

    def banner() -> None:
        out.write(f"calltrack serving on {server.url} ({args.threads} threads)\n")
        out.write("Webhook URLs to configure at the providers:\n")
        for name, urls in handler.webhook_urls().items():
            for url in urls:
                out.write(f"  {name:8} {url}\n")
        out.write("Press Ctrl-C to stop.\n")
        out.flush()

    signum = _server.run_until_signalled(server, on_stop=app.close, on_ready=banner)
    out.write(f"calltrack stopped (signal {signum})\n")
    return 0


def _handler(args: argparse.Namespace, url: str) -> tuple[Any, Any]:
    import attrs  # noqa: PLC0415

    from calltrack.config import build_handler, load_config  # noqa: PLC0415

    config = load_config(args.config)
    changes: dict[str, Any] = {}
    if args.db:
        changes["database_url"] = args.db
    if args.public_url:
        changes["public_url"] = args.public_url
    elif not config.public_url:
        changes["public_url"] = url
    config = attrs.evolve(config, **changes)
    if not config.providers:
        raise ConfigurationError(
            "no provider is configured: set CALLTRACK_TWILIO_AUTH_TOKEN, "
            "CALLTRACK_PLIVO_AUTH_TOKEN or CALLTRACK_VONAGE_SIGNATURE_SECRET "
            "(or try `calltrack serve --demo`)"
        )
    return build_handler(config)


def _demo_handler(args: argparse.Namespace, url: str) -> tuple[Any, Any]:
    from calltrack import _http_demo  # noqa: PLC0415
    from calltrack._cli_storage import open_storage  # noqa: PLC0415
    from calltrack.testing.http import available_harnesses, harness_base_url  # noqa: PLC0415
    from calltrack.tracker import CallTracker  # noqa: PLC0415
    from calltrack.webhooks import WebhookHandler  # noqa: PLC0415

    harnesses = [make() for make in available_harnesses().values()]
    storage = open_storage(args.db)
    tracker = CallTracker(
        storage,
        directory=_http_demo.demo_directory(),
        settings=_http_demo.demo_settings(),
        prompts=_http_demo.demo_prompts(),
    )
    try:
        _http_demo.seed(tracker, "fake")
    except BaseException:
        storage.close()
        raise
    handler = WebhookHandler(
        tracker,
        [h.provider for h in harnesses],
        public_url=args.public_url or url,
        public_urls={h.provider.name: harness_base_url(h) for h in harnesses},
    )
    return handler, storage.close


def run_simulate(args: argparse.Namespace) -> int:
    """Play the demo's calls against a running server and print what each caller got."""
    from calltrack import _http_demo  # noqa: PLC0415
    from calltrack.testing.http import HttpSender, load_harness, play_call  # noqa: PLC0415
    from calltrack.webhooks import mask_phone  # noqa: PLC0415

    out = sys.stdout
    failed = 0
    run = f"{int(time.time() * 1000) % 10**9:09d}"
    for name in args.provider or ["fake"]:
        harness = load_harness(name)
        send = HttpSender(args.url, harness.provider.name)
        out.write(f"\nCalls over HTTP as {name}, to {args.url}\n")
        for i, step in enumerate(_http_demo.SCRIPT, 1):
            call_id = f"SIM{run}{i:02d}"
            try:
                played = play_call(
                    send,
                    harness,
                    call_id,
                    step.caller,
                    step.virtual,
                    outcome=step.outcome,
                    talk_seconds=step.talk_seconds,
                )
            except OSError as exc:
                raise ConfigurationError(f"cannot reach {args.url}: {exc}") from None
            failed += not played.ok
            statuses = ",".join(map(str, played.statuses))
            heard = " / ".join(played.caller_heard) or ("(refused)" if played.rejected else "-")
            out.write(
                f"  {i:2} {mask_phone(step.caller) if step.caller else 'withheld':14} -> "
                f"{step.virtual}  [{statuses}]  expect {step.shows}: {heard}\n"
            )
    out.write("\nSee the Calls folders with the same --db, or in your application.\n")
    if failed:
        out.write(f"{failed} call(s) got an answer other than 200\n")
        return 1
    return 0
