"""A self-contained HTML report of a vacancy or an employer: figures, charts, the Calls folder.

The file needs nothing else: styles are inline, charts are inline SVG, there is no script
and nothing is fetched. The Calls folder's filters (missed calls, calls with a resume,
spam shown) work with plain HTML radio buttons and CSS. It reads on a phone (the layout
folds into one column) and prints (a print stylesheet drops the controls).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from html import escape
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

from calltrack.analytics._queries import analytics, by_vacancy, check_scope, iter_calls
from calltrack.analytics.charts import (
    SERIES_COLOURS,
    answer_rate_chart,
    calls_by_mark_chart,
    legend,
)
from calltrack.domain.analytics import CallAnalytics, CallMetrics, Period, Scope
from calltrack.domain.folder import CallFilter
from calltrack.domain.model import Call, CallRoute, Mark, Vacancy
from calltrack.domain.phones import format_international
from calltrack.ports import Storage

__all__ = ["DEFAULT_REPORT_CALLS", "render_report", "write_report"]

DEFAULT_REPORT_CALLS = 200
"""How many of the newest calls the report's Calls folder lists by default."""

_MARK_TEXT = {
    Mark.RESPONSE_BY_CALL: "Response by call",
    Mark.MISSED_CALL: "Missed call",
    Mark.NO_RESUME: "No resume",
}

_CSS = """
:root { --ink: #1f2328; --muted: #5f6b76; --line: #d8dee4; --bg: #ffffff; --card: #f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
header h1 { font-size: 26px; margin: 0 0 4px; }
header p { margin: 0; color: var(--muted); }
h2 { font-size: 18px; margin: 32px 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr));
  gap: 10px; margin-top: 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 12px; }
.card b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg .tick { font: 15px system-ui, sans-serif; fill: #5f6b76; }
.legend { list-style: none; padding: 0; margin: 8px 0 0; display: flex; flex-wrap: wrap;
  gap: 4px 14px; font-size: 13px; color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; vertical-align: -1px; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 14px;
  font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
th { color: var(--muted); font-weight: 600; white-space: normal; vertical-align: bottom; }
td.num, th.num { text-align: right; }
.mark { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  color: #fff; }
.filters { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 10px; }
.filters label { border: 1px solid var(--line); border-radius: 16px; padding: 4px 12px;
  cursor: pointer; font-size: 14px; user-select: none; }
#f-all:checked ~ .filters label[for=f-all],
#f-missed:checked ~ .filters label[for=f-missed],
#f-resume:checked ~ .filters label[for=f-resume],
#f-spam:checked ~ .filters label[for=f-spam] { background: var(--ink); color: #fff;
  border-color: var(--ink); }
#f-missed:checked ~ .scroll tr.call:not(.missed) { display: none; }
#f-resume:checked ~ .scroll tr.call:not(.resume) { display: none; }
#f-spam:not(:checked) ~ .scroll tr.spam { display: none; }
.state { position: absolute; opacity: 0; pointer-events: none; }
.note { color: var(--muted); font-size: 13px; }
.id { color: var(--muted); font-size: 12px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 760px) {
  main { padding: 16px 12px 32px; }
  header h1 { font-size: 22px; }
  .charts { grid-template-columns: 1fr; }
  .cards { grid-template-columns: repeat(2, 1fr); }
  svg .tick { font-size: 22px; }
}
@media print {
  @page { size: A4; margin: 14mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  .filters, .state { display: none; }
  .charts { grid-template-columns: 1fr 1fr; }
  figure, .cards, tr { break-inside: avoid; }
  .card { background: none; }
  a { color: inherit; text-decoration: none; }
  .mark { color: #000; border: 1px solid #000; background: none !important; }
  .scroll { overflow: visible; }
  table { font-size: 8.5pt; }
  th, td { white-space: normal; padding: 3px 4px; }
  .screen-only { display: none; }
}
"""


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}" if whole >= 60 else f"{whole} s"  # noqa: PLR2004


def _cards(metrics: CallMetrics) -> str:
    cards = [
        ("Calls", _number(metrics.calls)),
        ("Unique callers", _number(metrics.unique_callers)),
        ("Repeat callers", _number(metrics.repeat_callers)),
        ("Answered", _number(metrics.answered)),
        ("Missed", _number(metrics.missed)),
        ("Answer rate", _percent(metrics.answer_rate)),
        ("Time to answer", _duration(metrics.mean_answer_seconds)),
        ("Talk time", _duration(metrics.mean_talk_seconds)),
        ("Responses", _number(metrics.responses)),
        ("Missed, pending", _number(metrics.missed_pending)),
        ("No resume", _number(metrics.no_resume)),
        ("Spam blocked", _number(metrics.spam_blocked)),
        ("After close", _number(metrics.after_close)),
    ]
    body = "".join(
        f'<div class="card"><b>{value}</b><span>{escape(name)}</span></div>'
        for name, value in cards
    )
    return f'<section class="cards" aria-label="Figures">{body}</section>'


def _daily_table(report: CallAnalytics) -> str:
    head = (
        "<tr><th>Day</th><th class=num>Calls</th><th class=num>Callers</th>"
        "<th class=num>Answered</th><th class=num>Missed</th><th class=num>Answer rate</th>"
        "<th class=num>Responses</th><th class=num>No resume</th><th class=num>Spam</th>"
        "<th class=num>Talk (total)</th></tr>"
    )
    rows = []
    for row in reversed(report.days):
        m = row.metrics
        rows.append(
            f"<tr><td>{row.day.isoformat()}</td><td class=num>{m.calls}</td>"
            f"<td class=num>{m.unique_callers}</td><td class=num>{m.answered}</td>"
            f"<td class=num>{m.missed}</td><td class=num>{_percent(m.answer_rate)}</td>"
            f"<td class=num>{m.responses}</td><td class=num>{m.no_resume}</td>"
            f"<td class=num>{m.spam_blocked}</td><td class=num>{_duration(m.talk_seconds)}</td>"
            "</tr>"
        )
    return f'<div class="scroll"><table>{head}{"".join(rows)}</table></div>'


def _vacancy_table(rows: Sequence[tuple[Vacancy | None, str, CallMetrics]]) -> str:
    head = (
        "<tr><th>Vacancy</th><th class=num>Calls</th><th class=num>Callers</th>"
        "<th class=num>Answered</th><th class=num>Missed</th><th class=num>Answer rate</th>"
        "<th class=num>Responses</th><th class=num>Pending</th><th class=num>No resume</th>"
        "<th class=num>Spam</th><th class=num>After close</th></tr>"
    )
    body = []
    for vacancy, vacancy_id, m in rows:
        title = vacancy.title if vacancy is not None else vacancy_id
        body.append(
            f'<tr><td>{escape(title)} <span class="id">{escape(vacancy_id)}</span></td>'
            f"<td class=num>{m.calls}</td><td class=num>{m.unique_callers}</td>"
            f"<td class=num>{m.answered}</td><td class=num>{m.missed}</td>"
            f"<td class=num>{_percent(m.answer_rate)}</td><td class=num>{m.responses}</td>"
            f"<td class=num>{m.missed_pending}</td><td class=num>{m.no_resume}</td>"
            f"<td class=num>{m.spam_blocked}</td><td class=num>{m.after_close}</td></tr>"
        )
    if not body:
        return '<p class="note">No vacancy had calls in this period.</p>'
    return f'<div class="scroll"><table class="vacancies">{head}{"".join(body)}</table></div>'


def _link(url: str | None, text: str) -> str:
    if url is None:
        return ""
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        return escape(url)
    return f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(text)}</a>'


def _shown_mark(call: Call) -> tuple[str, str]:
    if call.route is CallRoute.SPAM:
        return "Spam (blocked)", SERIES_COLOURS["Spam blocked"]
    if call.route is CallRoute.VACANCY_CLOSED:
        return "After close", SERIES_COLOURS["After close"]
    if call.mark is None:
        return "Not classified", SERIES_COLOURS["Not classified"]
    text = _MARK_TEXT[call.mark]
    return text, SERIES_COLOURS[text]


def _call_row(call: Call, zone: timezone, show_vacancy: bool) -> str:  # noqa: FBT001 - private
    classes = ["call"]
    if call.missed:
        classes.append("missed")
    if call.has_resume:
        classes.append("resume")
    if call.route is CallRoute.SPAM:
        classes.append("spam")
    who = call.candidate
    text, colour = _shown_mark(call)
    caller = format_international(call.caller) if call.caller else "withheld"
    resume = _link(who.resume_url, "Resume") if who and who.resume_url else "No resume"
    cells = [
        call.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        escape(caller),
        escape(who.name) if who else "—",
        resume,
        f'<span class="mark" style="background:{colour}">{escape(text)}</span>',
        _duration(call.talk_seconds) if call.answered else "—",
        _link(call.recording_url, "Listen") or "—",
    ]
    if show_vacancy:
        cells.insert(1, escape(call.vacancy_id or ""))
    return f'<tr class="{" ".join(classes)}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _folder(calls: Sequence[Call], total: int, zone: timezone, show_vacancy: bool) -> str:  # noqa: FBT001 - private
    heads = ["When", "Caller", "Name", "Resume", "Mark", "Talk", "Recording"]
    if show_vacancy:
        heads.insert(1, "Vacancy")
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"
    rows = "".join(_call_row(c, zone, show_vacancy) for c in calls)
    spam = sum(1 for c in calls if c.route is CallRoute.SPAM)
    listed = f"{_number(len(calls) - spam)} calls listed"
    if spam:
        listed += (
            f'<span class="screen-only">; {_number(spam)} spam calls appear with “Show spam”</span>'
        )
    note = ""
    if len(calls) < total:
        note = (
            f'<p class="note">The newest {_number(len(calls))} of {_number(total)} calls; '
            "<code>calltrack calls</code> exports them all.</p>"
        )
    return (
        '<input type="radio" name="folder" id="f-all" class="state" checked>'
        '<input type="radio" name="folder" id="f-missed" class="state">'
        '<input type="radio" name="folder" id="f-resume" class="state">'
        '<input type="checkbox" id="f-spam" class="state">'
        '<div class="filters" aria-label="Filters">'
        '<label for="f-all">All calls</label><label for="f-missed">Missed calls</label>'
        '<label for="f-resume">With a resume</label><label for="f-spam">Show spam</label>'
        "</div>"
        f'<div class="scroll"><table class="folder">{head}{rows}</table></div>'
        f'<p class="note">{listed}.</p>{note}'
    )


def _period_text(period: Period, report: CallAnalytics) -> str:
    first = period.start or (report.days[0].day if report.days else None)
    last = period.end or (report.days[-1].day if report.days else None)
    minutes = int(period.utc_offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    offset = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if first is None or last is None:
        return f"no calls yet · {offset}"
    span = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
    return f"{span} · {offset}"


def render_report(
    storage: Storage,
    scope: Scope,
    period: Period | None = None,
    *,
    calls: int = DEFAULT_REPORT_CALLS,
    generated_at: datetime | None = None,
) -> str:
    """Render the report of a vacancy or an employer as one HTML document.

    Args:
        storage: Where the calls are.
        scope: Whose report.
        period: Which days, in which UTC offset; every day with calls if not given.
        calls: How many of the newest calls the Calls folder lists (0 to 10000).
        generated_at: The time printed in the footer; now if not given.

    Raises:
        UnknownVacancy: If the scope is a vacancy that was never tracked.
        ValueError: If ``calls`` is out of range.
    """
    if not 0 <= calls <= 10_000:  # noqa: PLR2004 - the documented range
        raise ValueError(f"calls must be between 0 and 10000, not {calls}")
    span = period if period is not None else Period()
    vacancy = check_scope(storage, scope)
    report = analytics(storage, scope, span)
    listed = list(
        islice(
            iter_calls(
                storage,
                scope,
                where=CallFilter(include_spam=True),
                period=span,
                page_size=max(min(calls, 1000), 1),
            ),
            calls,
        )
    )
    vacancies = ""
    if vacancy is not None:
        title = f"{vacancy.title}"
        subtitle = f"Vacancy {vacancy.vacancy_id} · employer {vacancy.employer_id}"
    else:
        title = f"Employer {scope.key}"
        subtitle = "All vacancies"
        vacancies = f"<h2>Vacancies</h2>{_vacancy_table(by_vacancy(storage, scope.key, span))}"
    when = (generated_at or datetime.now(timezone.utc)).astimezone(span.zone)
    total = report.total
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Calls report: {escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)} · "
        f"{escape(_period_text(span, report))}</p></header>"
        f"{_cards(total)}"
        '<h2>Charts</h2><div class="charts">'
        f"<figure><figcaption>Calls per day by mark</figcaption>"
        f"{calls_by_mark_chart(report.days)}{legend()}</figure>"
        f"<figure><figcaption>Answer rate per day</figcaption>"
        f"{answer_rate_chart(report.days)}"
        '<p class="note">Answered over answered plus missed forwarded calls; '
        "gaps are days without an ended call.</p></figure></div>"
        f"{vacancies}<h2>Day by day</h2>{_daily_table(report)}"
        f"<h2>Calls folder</h2>"
        f"{_folder(listed, total.calls, span.zone, show_vacancy=vacancy is None)}"
        f"<footer>Generated {when.strftime('%Y-%m-%d %H:%M')} by calltrack.</footer>"
        "</main></body></html>\n"
    )


def write_report(
    path: str | Path,
    storage: Storage,
    scope: Scope,
    period: Period | None = None,
    *,
    calls: int = DEFAULT_REPORT_CALLS,
    generated_at: datetime | None = None,
) -> int:
    """Render the report and write it to ``path`` whole (nothing is left on failure).

    Returns:
        The size of the file in bytes.
    """
    html = render_report(storage, scope, period, calls=calls, generated_at=generated_at)
    data = html.encode("utf-8")
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    partial.replace(target)
    return len(data)
