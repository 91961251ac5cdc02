"""The Twilio adapter's hot path against the Twilio SDK doing the same work, in one run.

Per inbound call: verify the signature, read the form, and write the forward document.

* calltrack: ``TwilioProvider.verify`` + ``parse`` + ``render(Forward)``.
* SDK: parse the form, ``RequestValidator.validate`` (which, like calltrack, tries the URL
  with and without the default port), then build the same document with ``VoiceResponse``.

Both produce the same TwiML (asserted before timing). Also the import time of each, in
fresh interpreters. Run: ``python benchmarks/bench_twilio.py``.
"""

from __future__ import annotations

import subprocess
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from calltrack.domain.decisions import Forward, Prompt
from calltrack.ports import WebhookRequest
from calltrack.providers.twilio import SIGNATURE_HEADER
from calltrack.testing.twilio import TwilioHarness

NUMBER = 2000
REPEAT = 7
IMPORT_RUNS = 15

harness = TwilioHarness()
provider = harness.provider
TOKEN = harness.auth_token
BASE = provider.base_url
_, REQUEST = harness.inbound("CA" + "0a1b2c3d" * 4, "+79031234567", "+74951234567")
# Distinct calls, so that nothing one call parsed is reused by the next.
REQUESTS = [
    harness.inbound(f"CA{n:032x}", "+79031234567", "+74951234567")[1] for n in range(NUMBER)
]
DECISION = Forward(
    call_id="CA" + "0a1b2c3d" * 4,
    greeting=Prompt("Вы звоните по вакансии «Водитель» на сайте", "ru-RU", "Polly.Tatyana"),
    real_number="+79161234567",
    caller_id="+79031234567",
    ring_timeout=20,
    record=True,
    whisper=Prompt("Звонок с сайта", "ru-RU"),
)


def ours(request: WebhookRequest = REQUEST) -> str:
    provider.verify(request)
    provider.parse("voice", request)
    return provider.render(DECISION).body


def sdk(request: WebhookRequest = REQUEST) -> str:
    params = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    signature = request.headers[SIGNATURE_HEADER.lower()]
    if not RequestValidator(TOKEN).validate(request.url, params, signature):
        raise AssertionError("the SDK refused a request signed for it")
    response = VoiceResponse()
    response.say(DECISION.greeting.text, language="ru-RU", voice="Polly.Tatyana")
    dial = response.dial(
        action=f"{BASE}/twilio/dial",
        answer_on_bridge=True,
        caller_id=DECISION.caller_id,
        timeout=DECISION.ring_timeout,
        record="record-from-answer-dual",
        recording_status_callback=f"{BASE}/twilio/recording?call={DECISION.call_id}",
    )
    dial.number(DECISION.real_number, url=f"{BASE}/twilio/whisper")
    xml: str = response.to_xml()
    return xml


def per_call_us(work: Callable[[WebhookRequest], str]) -> float:
    def every_call() -> None:
        for request in REQUESTS:
            work(request)

    best = min(timeit.repeat(every_call, number=1, repeat=REPEAT))
    return best / len(REQUESTS) * 1e6


def import_ms(statements: list[str]) -> list[float]:
    """Fastest of several fresh-interpreter imports of each statement, interleaved."""
    code = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
    src = str(Path(__file__).resolve().parent.parent / "src")
    best = [float("inf")] * len(statements)
    for _ in range(IMPORT_RUNS):
        for i, statement in enumerate(statements):
            done = subprocess.run(  # noqa: S603 - this interpreter, our own code
                [sys.executable, "-c", code.format(statement)],
                capture_output=True,
                text=True,
                check=True,
                env={"PYTHONPATH": src},
            )
            best[i] = min(best[i], float(done.stdout) * 1000)
    return best


def main() -> None:
    assert ours() == sdk(), "the two paths must write the same document"
    assert all(ours(r) == sdk(r) for r in REQUESTS[:10])
    mine = per_call_us(ours)
    theirs = per_call_us(sdk)
    print(f"Per inbound call (verify + parse + render), best of {REPEAT} x {NUMBER}")
    print(f"  {'path':44} {'µs/call':>9} {'ratio':>7}")
    print(f"  {'SDK: RequestValidator + VoiceResponse':44} {theirs:9.1f} {1.0:7.2f}")
    print(f"  {'calltrack TwilioProvider':44} {mine:9.1f} {theirs / mine:6.1f}x")

    # Every application pays for ``import calltrack``; what matters is what each way of
    # handling Twilio's webhooks adds on top of it.
    core, adapter, with_sdk = import_ms(
        [
            "import calltrack",
            "import calltrack; import calltrack.providers.twilio",
            "import calltrack; import twilio.request_validator, twilio.twiml.voice_response",
        ]
    )
    print(f"\nImport time in a fresh interpreter, best of {IMPORT_RUNS} (ms)")
    print(f"  {'import':58} {'total':>7} {'added':>7}")
    print(f"  {'calltrack (the baseline)':58} {core:7.1f} {0.0:7.1f}")
    sdk_label = "calltrack + twilio.request_validator + .twiml.voice_response"
    print(f"  {sdk_label:58} {with_sdk:7.1f} {with_sdk - core:7.1f}")
    print(f"  {'calltrack + calltrack.providers.twilio':58} {adapter:7.1f} {adapter - core:7.1f}")
    added = max(adapter - core, 0.1)
    print(f"  added by the SDK / added by the adapter: {(with_sdk - core) / added:.1f}x")


if __name__ == "__main__":
    main()
