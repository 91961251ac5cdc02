"""Plivo hot path: calltrack's adapter against the Plivo SDK doing the same work.

Per inbound call: check the signature, read the form, render the forward document.

* calltrack: ``PlivoProvider.verify`` + ``parse`` + ``render(Forward)``.
* SDK: ``plivo.utils.signature_v3.validate_v3_signature`` + the form read into a dict
  (the SDK has no webhook parser) + the same document built with ``plivo.xml`` elements
  and ``to_string(pretty=False)``.

Both run in this process, timed with ``timeit`` (best of several repeats); the script first
checks that both accept the same request and produce the same document. Import times are
measured in fresh interpreters (median of several), each with and without the
calltrack core that an application has loaded anyway. Run it from the project root::

    python benchmarks/bench_plivo.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import timeit
from pathlib import Path
from urllib.parse import parse_qsl, urlencode
from xml.etree.ElementTree import canonicalize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from plivo import plivoxml
from plivo.utils.signature_v3 import validate_v3_signature

from calltrack.domain.decisions import Forward, Prompt
from calltrack.ports import WebhookRequest
from calltrack.providers.plivo import NONCE_HEADER, SIGNATURE_HEADER, PlivoProvider
from calltrack.testing.plivo import PlivoHarness

BASE = "https://calls.example.com"
AUTH = "ZTE3NWEwOGQ4MzNkYjY3YWY5ZTM0YTljNzFmNmJj"
CALL = "5ab1c0de-0000-4000-8000-00000000a001"
NUMBER = 5_000
REPEATS = 7
IMPORT_RUNS = 7

provider = PlivoProvider([AUTH], base_url=BASE)
harness = PlivoHarness(provider)
_, REQUEST = harness.inbound(CALL, "+79031234567", "+74951234567")
GREETING = Prompt("Вы звоните по вакансии «Водитель»; разговор может быть записан", "ru-RU")
WHISPER = Prompt("Звонок с сайта вакансий", "ru-RU")


def forward_for(call_id: str) -> Forward:
    return Forward(
        call_id=call_id,
        greeting=GREETING,
        real_number="+79161234567",
        caller_id="+79031234567",
        ring_timeout=20,
        record=True,
        whisper=WHISPER,
    )


FORWARD = forward_for(CALL)
"""The tracker's decision for the call; making it is the tracker's work, not the adapter's."""


def ours(request: WebhookRequest = REQUEST) -> str:
    provider.verify(request)
    event = provider.parse("voice", request)
    assert event.call_id == FORWARD.call_id
    return provider.render(FORWARD).body


def sdk(request: WebhookRequest = REQUEST) -> str:
    params = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
    nonce = request.header(NONCE_HEADER) or ""
    signature = request.header(SIGNATURE_HEADER) or ""
    if not validate_v3_signature("POST", request.url, nonce, AUTH, signature, params):
        raise AssertionError("the SDK refused the request")
    call = params["CallUUID"]
    response = plivoxml.ResponseElement()
    response.add(plivoxml.SpeakElement(GREETING.text, language=GREETING.language))
    response.add(
        plivoxml.RecordElement(
            file_format="mp3",
            redirect=False,
            max_length=provider.max_recording_seconds,
            start_on_dial_answer=True,
            callback_url=f"{BASE}/plivo/recording?{urlencode({'aleg': call})}",
            callback_method="POST",
            record_channel_type="stereo",
        )
    )
    dial = plivoxml.DialElement(
        action=f"{BASE}/plivo/dial",
        method="POST",
        timeout=20,
        caller_id="79031234567",
        confirm_sound=f"{BASE}/plivo/whisper?{urlencode({'aleg': call})}",
        callback_url=f"{BASE}/plivo/dial-events",
        callback_method="POST",
        redirect=True,
    )
    dial.add(plivoxml.NumberElement("79161234567"))
    response.add(dial)
    xml: str = response.to_string(pretty=False)
    return xml


def per_call_us(work: object) -> float:
    best = min(timeit.repeat(work, number=NUMBER, repeat=REPEATS))  # type: ignore[arg-type]
    return best / NUMBER * 1e6


def import_ms(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    src = str(Path(__file__).resolve().parent.parent / "src")
    runs = []
    for _ in range(IMPORT_RUNS):
        done = subprocess.run(  # noqa: S603 - this interpreter, our own statement
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": src},
        )
        runs.append(float(done.stdout.strip()) * 1000)
    return statistics.median(runs)


def main() -> None:
    assert canonicalize(xml_data=ours()) == canonicalize(xml_data=sdk()), "documents differ"
    mine = per_call_us(ours)
    theirs = per_call_us(sdk)
    print(f"Plivo inbound call: verify + parse + render (best of {REPEATS} x {NUMBER})")
    print(f"  {'path':44} {'us/call':>9} {'ratio':>7}")
    print(f"  {'Plivo SDK (validator + plivo.xml) baseline':44} {theirs:9.1f} {1.0:7.2f}")
    print(f"  {'calltrack PlivoProvider':44} {mine:9.1f} {theirs / mine:6.1f}x")
    core = import_ms("import calltrack")
    adapter = import_ms("import calltrack.providers.plivo")
    with_sdk = import_ms("import calltrack, plivo.xml, plivo.utils.signature_v3")
    print(f"Import time in a fresh interpreter, ms (median of {IMPORT_RUNS})")
    print(f"  {'import':44} {'ms':>9} {'ratio':>7}")
    print(f"  {'calltrack + plivo.xml + signature_v3 baseline':44} {with_sdk:9.1f} {1.0:7.2f}")
    print(f"  {'calltrack.providers.plivo':44} {adapter:9.1f} {with_sdk / adapter:6.1f}x")
    print(f"  {'  of which calltrack itself':44} {core:9.1f}")
    print(
        f"  {'  the adapter alone vs the SDK alone':44} {adapter - core:9.1f} "
        f"{(with_sdk - core) / max(adapter - core, 0.1):6.1f}x"
    )


if __name__ == "__main__":
    main()
