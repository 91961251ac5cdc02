"""The Vonage adapter's hot path against the Vonage SDK doing the same work.

Per inbound call: verify the signed-webhook token, parse the answer webhook, render the
forward NCCO. The SDK path is ``vonage_jwt.verify_signature`` (PyJWT underneath; it checks
neither ``payload_hash`` nor the token's age, so it does less than the adapter), the SDK's
``AnswerWebhook`` model, and the ``vonage_voice`` NCCO models dumped and serialized as the
SDK does it. Both run in this process, best of several ``timeit`` repeats taken in turn; then the
import time of each side in fresh interpreters.

Run: ``python benchmarks/bench_vonage.py`` (needs ``calltrack[vonage]``).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import timeit
from typing import Any

from calltrack.domain.decisions import Forward, Prompt
from calltrack.testing.vonage import VonageHarness

NUMBER = 2000
REPEAT = 9
IMPORT_RUNS = 15
SDK_IMPORT = "calltrack, vonage_jwt, vonage_voice"

GREETING = Prompt("Вы звоните по вакансии «Водитель» на calltrack. Разговор записывается.", "ru-RU")
WHISPER = Prompt("Звонок с сайта calltrack", "ru-RU")


def _ours(harness: VonageHarness) -> Any:  # noqa: ANN401 - a benchmark closure
    provider = harness.provider
    name, request = harness.inbound(
        "aaaaaaaa-1111-4aaa-8aaa-0123456789ab", "+79031234567", "+74951234567"
    )

    # The decision is the tracker's work, not the adapter's: made once, outside the loop.
    decision = Forward(
        call_id="aaaaaaaa-1111-4aaa-8aaa-0123456789ab",
        greeting=GREETING,
        real_number="+79161234567",
        caller_id="+79031234567",
        ring_timeout=20,
        record=True,
        whisper=WHISPER,
    )

    def run() -> str:
        provider.verify(request)
        event = provider.parse(name, request)
        assert event.call_id == decision.call_id
        return provider.render(decision).body

    return run


def _sdk(harness: VonageHarness) -> Any:  # noqa: ANN401 - a benchmark closure
    from vonage_jwt import verify_signature  # noqa: PLC0415
    from vonage_voice import AnswerWebhook, Connect, OnAnswer, PhoneEndpoint, Record, Talk  # noqa: PLC0415

    provider = harness.provider
    secret = provider.secrets[0]
    _, request = harness.inbound(
        "aaaaaaaa-1111-4aaa-8aaa-0123456789ab", "+79031234567", "+74951234567"
    )
    token = (request.header("authorization") or "").split(" ", 1)[1]

    def run() -> str:
        assert verify_signature(token, secret)
        answer = AnswerWebhook.model_validate(json.loads(request.body))
        call_id = str(answer.uuid)
        # The callback URLs are calltrack's, not the SDK's: both paths build them alike.
        ncco = [
            Talk(text=GREETING.text, language=GREETING.language),
            Record(
                split="conversation",
                channels=2,
                eventUrl=[provider.url("recording", call_id=call_id)],
            ),
            Connect(
                from_=str(answer.from_),
                timeout=20,
                eventType="synchronous",
                eventUrl=[provider.url("dial", call_id=call_id)],
                endpoint=[
                    PhoneEndpoint(
                        number="79161234567",
                        onAnswer=OnAnswer(url=provider.url("whisper", call_id=call_id)),
                    )
                ],
            ),
        ]
        dumped = [action.model_dump(by_alias=True, exclude_none=True) for action in ncco]
        return json.dumps(dumped, ensure_ascii=False)

    return run


def _best(*runs: Any) -> list[float]:  # noqa: ANN401 - benchmark closures
    """Best µs per call of each run, the repeats interleaved so that both see the same load."""
    best = [float("inf")] * len(runs)
    for _ in range(REPEAT):
        for i, run in enumerate(runs):
            best[i] = min(best[i], timeit.timeit(run, number=NUMBER) / NUMBER * 1e6)
    return best


def _import_once(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    done = subprocess.run(  # noqa: S603 - this interpreter on a fixed statement
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(done.stdout) * 1000


def _import_ms(*modules: str) -> list[float]:
    """Median import time of each statement, the runs interleaved like the timings above."""
    runs: list[list[float]] = [[] for _ in modules]
    for _ in range(IMPORT_RUNS):
        for i, module in enumerate(modules):
            runs[i].append(_import_once(module))
    return [statistics.median(r) for r in runs]


def main() -> None:
    """Measure and print the table."""
    harness = VonageHarness()
    ours, sdk = _ours(harness), _sdk(harness)
    assert json.loads(ours()) == json.loads(sdk()), "the two paths must render the same NCCO"
    ours_us, sdk_us = _best(ours, sdk)
    print(f"per inbound call: verify + parse + render, best of {REPEAT} x {NUMBER}, interleaved")
    print(f"  {'path':44} {'µs/call':>9} {'ratio':>7}")
    print(f"  {'vonage SDK (validator + models + NCCO)':44} {sdk_us:9.1f} {1.0:7.1f}")
    print(f"  {'calltrack.providers.vonage':44} {ours_us:9.1f} {sdk_us / ours_us:7.1f}x")
    print(f"import time in a fresh interpreter, median of {IMPORT_RUNS}")
    print(f"  {'import':52} {'ms':>7} {'added to calltrack':>19}")
    names = ["json", "calltrack", "calltrack.providers.vonage", SDK_IMPORT]
    base, core, adapter, sdk_ms = _import_ms(*names)
    print(f"  {'json (interpreter baseline)':52} {base:7.1f}")
    print(f"  {'calltrack':52} {core:7.1f}")
    print(f"  {'calltrack.providers.vonage':52} {adapter:7.1f} {adapter - core:+19.1f}")
    print(f"  {SDK_IMPORT + ' (the SDK path)':52} {sdk_ms:7.1f} {sdk_ms - core:+19.1f}")


if __name__ == "__main__":
    main()
