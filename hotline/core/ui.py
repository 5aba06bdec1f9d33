"""Small pieces of markup that appear on every row of the staff tables, as Python template globals.

They were Jinja macros, and a list page of 50 rows made some 900 macro calls; as functions the page renders
in about four fifths of the time (bench/pages.py). The markup is the same; labels come from ``label``
(cached per language), so the output follows the request's locale like the macros did.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf
from jinja2.filters import do_truncate
from markupsafe import Markup, escape
from werkzeug.urls import quote as url_quote

from hotline.core.clock import to_local
from hotline.core.i18n import current_language
from hotline.tickets.labels import label

_BADGES: dict[tuple, Markup] = {}  # (language, kind, code) -> markup; labels never change at run time


def _badge(kind: str, code: str, css: str) -> Markup:
    key = (current_language(), kind, code)
    html = _BADGES.get(key)
    if html is None:
        html = _BADGES[key] = Markup('<span class="{}">{}</span>').format(css, label(kind, code))
    return html


def status_badge(code: str | None) -> Markup:
    return _badge("status", code, f"badge rounded-pill status status-{code}") if code else Markup()


def urgency_badge(code: str | None, hide_normal: bool = False) -> Markup:
    if not code or (hide_normal and code == "normal"):
        return Markup()
    return _badge("urgency", code, f"badge urgency-{code}")


def warning_badge(level: str | None) -> Markup:
    if level not in ("yellow", "red"):
        return Markup()
    return _badge("warning", level, f"badge warning-card warning-{level}")


def provisional_badge() -> Markup:
    return Markup('<span class="badge provisional" title="{}">{}</span>').format(
        gettext("The working-day calendar for this year is not entered yet: weekdays were counted."),
        gettext("Provisional"),
    )


def when(moment: datetime | None, short: bool = False) -> Markup:
    """A moment in local time, optionally without the year (the full time then in the title)."""
    if not moment:
        return Markup()
    local = to_local(moment)
    full = local.strftime("%Y-%m-%d %H:%M")
    stamp = f"{full[:10]}T{full[11:]}"
    if short:
        return Markup(f'<time class="text-nowrap" datetime="{stamp}" title="{full}">{full[5:]}</time>')
    return Markup(f'<time class="text-nowrap" datetime="{stamp}">{full}</time>')


def deadline(moment: datetime | None, provisional: bool = False, short: bool = False) -> Markup:
    """A deadline in local time; "provisional" when the year's calendar was not known."""
    if not moment:
        return Markup('<span class="text-body-secondary">—</span>')
    return when(moment, short) + (Markup(" ") + provisional_badge() if provisional else Markup())


def unit_name(unit) -> Markup:
    return _unit_label(unit.name, unit.name_en) if unit else Markup()


def _unit_label(name: str | None, name_en: str | None) -> Markup:
    return escape(name_en if name_en and current_language() == "en" else name or "")


def category_name(category, short: bool = False) -> Markup:
    """``short``: the second-level name only (for tables; put the full name in a title)."""
    if not category:
        return Markup()
    parent = category.parent
    return _category_label(
        category.name, category.name_en, parent.name if parent else None, parent.name_en if parent else None, short
    )


def _category_label(
    name: str | None, name_en: str | None, parent_name: str | None, parent_name_en: str | None, short: bool = False
) -> Markup:
    """A category's name from its columns and its parent's (``parent_name`` None: a first-level category)."""
    if name is None:
        return Markup()
    english = current_language() == "en" and name_en
    if short:
        return escape(name_en if english else name)
    if english:
        return escape(f"{parent_name_en} / {name_en}" if parent_name_en else name_en)
    return escape(f"{parent_name}/{name}" if parent_name is not None else name)


_SLOT = "TRACKINGNUMBER"


def ticket_url(tracking_no: str, action: str | None = None) -> str:
    """``url_for('tickets.detail')`` (or ``'tickets.act'`` with ``action``) for a ticket: werkzeug builds the
    address once per request and each row fills in its number (building one costs about 8 µs, and the
    dispatch desk links some 160 times)."""
    patterns = request.__dict__.setdefault("hotline_ticket_urls", {})
    pattern = patterns.get(action)
    if pattern is None:
        pattern = patterns[action] = (
            url_for("tickets.act", tracking_no=_SLOT, action=action)
            if action
            else url_for("tickets.detail", tracking_no=_SLOT)
        )
    return pattern.replace(_SLOT, url_quote(str(tracking_no), safe="!$&'()*+,/:;=@"))  # as the converter quotes


def csrf_token() -> str:
    """flask_wtf's token for this request, looked up once (it checks its configuration on every call, and the
    dispatch desk has a form on every row)."""
    token = request.__dict__.get("hotline_csrf_token")
    if token is None:
        token = request.__dict__["hotline_csrf_token"] = generate_csrf()
    return token


def _desk_form_fields(ticket, token: str, tab: str = "pending") -> str:
    """The hidden fields of a dispatch desk form: the CSRF token, the version the user saw, and where to return
    (the desk, on the tab the form is in)."""
    return (
        f'<input type="hidden" name="csrf_token" value="{token}">\n'
        f'  <input type="hidden" name="version" value="{ticket.version}">\n'
        f'  <input type="hidden" name="next" value="dispatch"><input type="hidden" name="tab" value="{tab}">'
    )


def first_lines(text: str | None, length: int = 120) -> Markup:
    """The start of an appeal on a queue card: enough to decide without opening the ticket."""
    text = " ".join((text or "").split())
    if not text:
        return Markup("")
    short = text if len(text) <= length else text[:length].rstrip() + "…"
    return Markup('<p class="appeal-lines small mb-1" data-testid="appeal-lines">{}</p>').format(short)


def _action_form(
    ticket,
    action: str,
    label_text: str,
    css: str = "btn-primary",
    reason_label: str | None = None,
    tab: str = "pending",
) -> str:
    """A desk form with one button that posts ``action`` for ``ticket`` (approve / reject, two per row), with a
    required reason field when ``reason_label`` is given."""
    reason = ""
    if reason_label:
        reason_label = escape(reason_label)
        reason = (
            f'<input class="form-control form-control-sm" name="note" required placeholder="{reason_label}" '
            f'aria-label="{reason_label}">'
        )
    return (
        f'<form method="post" action="{ticket_url(ticket.tracking_no, action)}" '
        f'class="d-flex gap-2 align-items-start">\n'
        f"  {_desk_form_fields(ticket, csrf_token(), tab)}{reason}"
        f'<button class="btn btn-sm {escape(css)} text-nowrap">{escape(label_text)}</button>\n</form>'
    )


def _review_cards(rows, approve: str, send_back: str, send_back_reason: str, detail, tab: str) -> Markup:
    """Cards with a ticket's number and title, ``detail(row)`` and two buttons, ``approve`` and ``send_back``
    (which asks for ``send_back_reason``); ``rows`` from ``queries.return_requests`` or ``answers_to_review``.
    As Jinja, the desk's forty such cards were a third of its time."""
    cards = []
    for t in rows:
        cards.append(
            f'<article class="card mb-2 shadow-sm"><div class="card-body py-2">\n'
            f'  <a class="tracking-no" href="{ticket_url(t.tracking_no)}">{escape(t.tracking_no)}</a> '
            f"<strong>{escape(t.title)}</strong>\n  {first_lines(t.body)}{detail(t)}\n"
            f'  <div class="d-flex flex-wrap gap-2">\n'
            f"    {_action_form(t, approve, label('verb', approve), tab=tab)}\n"
            f"    {_action_form(t, send_back, label('verb', send_back), 'btn-outline-danger', send_back_reason, tab)}\n"
            f"  </div>\n</div></article>"
        )
    return Markup("\n".join(cards))


def return_request_cards(rows) -> Markup:
    """The dispatch desk's return requests: the lead unit and its reason."""

    def detail(t):
        unit = _unit_label(t.lead_unit_name, t.lead_unit_name_en)
        return f'\n  <div class="small text-body-secondary mb-2">{unit}: {escape(t.note or "")}</div>'

    return _review_cards(rows, "approve_return", "reject_return", gettext("Reason for rejecting"), detail, "returns")


def reply_review_cards(rows) -> Markup:
    """The dispatch desk's answers to review: the latest submitted answer and its unit."""

    def detail(t):
        if t.answer is None:
            return ""
        unit = _unit_label(t.answer_unit_name, t.answer_unit_name_en)
        return (
            f'<p class="pre-wrap small my-2">{escape(t.answer)}</p>'
            f'<div class="small text-body-secondary mb-2">{unit}</div>'
        )

    return _review_cards(rows, "approve_reply", "send_back_reply", gettext("What is missing"), detail, "replies")


def _t(string: str, **variables) -> Markup:
    """``_()`` as templates have it: the translation is trusted markup, the variables are escaped."""
    text = Markup(gettext(string))
    return text % variables if variables else text


def dispatch_cards(tickets, routes: dict, duplicates: dict, unit_options: Markup, duplicate_list) -> Markup:
    """The dispatch desk's queue: per ticket a card with its summary, a dispatch form whose unit list preselects
    the routing suggestion (``routes``, search.routing.suggest_routes), and its possible duplicates
    (``duplicates``, shown by the template macro ``duplicate_list``)."""
    token, lead_unit, dispatch = csrf_token(), _t("Lead unit"), escape(label("verb", "dispatch"))
    cards = []
    for t in tickets:
        route = routes.get(t.id)
        # The model's unit when it is confident, else the routing catalogue's.
        suggestion = route.unit if route else None
        if route and route.source == "model":
            badge = Markup('<span class="badge text-bg-info" data-testid="smart-route" title="{}">{}</span>').format(
                _t("Learned from closed tickets"), _t("suggested %(p)s%%", p=f"{route.unit_confidence * 100:.0f}")
            )
        elif suggestion:
            badge = Markup('<span class="badge text-bg-light border" title="{}">{}</span>').format(
                _t("Routing catalogue"), _t("suggested")
            )
        else:
            badge = ""
        reads_like = ""
        if route and route.category and route.category.id != t.category_id:
            reads_like = Markup('\n        <div class="small text-body-secondary">{}</div>').format(
                _t(
                    "The text reads like %(category)s (%(p)s%%).",
                    category=category_name(route.category),
                    p=f"{route.category_confidence * 100:.0f}",
                )
            )
        dups = ""
        if duplicates.get(t.id):
            dups = Markup(
                '\n        <div class="mt-1"><span class="small fw-semibold">{}:</span>\n          {}</div>'
            ).format(_t("Possible duplicates"), duplicate_list(t, duplicates[t.id], True, "dispatch"))
        cards.append(
            f'<article class="card mb-2 shadow-sm">\n      <div class="card-body py-2">\n'
            f'        <div class="d-flex flex-wrap justify-content-between gap-2">\n          <div>\n'
            f'            <a class="tracking-no" href="{ticket_url(t.tracking_no)}">{escape(t.tracking_no)}</a>\n'
            f"            {urgency_badge(t.urgency, hide_normal=True)} <strong>{escape(t.title)}</strong>\n"
            f'            <div class="small text-body-secondary">{escape(label("appeal", t.appeal_type))} · '
            f"{category_name(t.category)} · {unit_name(t.district)} · {when(t.created_at, short=True)}</div>\n"
            f"            {first_lines(t.body)}\n"
            f"          </div>\n"
            f'          <form method="post" action="{ticket_url(t.tracking_no, "dispatch")}" '
            f'class="d-flex gap-2 align-items-center">\n'
            f"            {_desk_form_fields(t, token)}\n"
            f'            <select class="form-select form-select-sm dispatch-select" name="lead_unit" required '
            f'aria-label="{lead_unit}">{preselect(unit_options, suggestion.id if suggestion else None)}\n'
            f"            </select>{badge}\n"
            f'            <button class="btn btn-sm btn-primary text-nowrap">{dispatch}</button>\n'
            f"          </form>\n        </div>{reads_like}{dups}\n      </div>\n    </article>"
        )
    return Markup("\n    ".join(cards))


def preselect(options: Markup, value) -> Markup:
    """``<option>`` markup (built once for a page) with the option of ``value`` selected."""
    if value is None:
        return options
    return Markup(str(options).replace(f'value="{value}"', f'value="{value}" selected', 1))


def ticket_rows(tickets) -> Markup:
    """The rows of the staff ticket table (tickets/index.html), from plain rows of ``queries.LIST_ROW``. Built
    here, not in Jinja: a list page has fifty, and as template code each row made some fifteen calls and
    twenty-five escapes, half the page's time. The columns after the title hide on a phone, where the badges
    show under the title instead."""
    env = current_app.jinja_env
    cell = '<td class="d-none d-md-table-cell'
    rows = []
    for t in tickets:
        names = t.category_name, t.category_name_en, t.parent_category_name, t.parent_category_name_en
        number, status, warning = escape(t.tracking_no), status_badge(t.status), warning_badge(t.warning_level)
        overdue = ' class="deadline-overdue"' if t.warning_level == "red" else ""
        next_deadline = deadline(t.next_deadline_at, t.deadline_provisional, short=True) if t.next_deadline_at else ""
        rows.append(
            f'<tr><td><a class="tracking-no" href="{ticket_url(t.tracking_no)}">{number}</a></td>'
            f'<td class="title-cell">{escape(do_truncate(env, t.title, 40, True, "…"))}\n'
            f'<div class="d-md-none">{status} {urgency_badge(t.urgency, hide_normal=True)} {warning}</div></td>'
            f'{cell}">{escape(label("appeal", t.appeal_type))}</td>'
            f'{cell}">{urgency_badge(t.urgency)}</td>'
            f'{cell} wrap-cell" title="{_category_label(*names)}">{_category_label(*names, short=True)}</td>'
            f'{cell}">{status}</td>{cell}">{warning}</td>'
            f'{cell} wrap-cell unit-cell">{_unit_label(t.lead_unit_name, t.lead_unit_name_en)}</td>'
            f'{cell} text-body-secondary">{when(t.created_at, short=True)}</td>'
            f"<td{overdue}>{next_deadline}</td></tr>"
        )
    return Markup("\n".join(rows))


HELPERS = {
    f.__name__: f
    for f in (
        status_badge,
        urgency_badge,
        warning_badge,
        provisional_badge,
        when,
        deadline,
        unit_name,
        category_name,
        ticket_rows,
        ticket_url,
        csrf_token,
        dispatch_cards,
        return_request_cards,
        reply_review_cards,
    )
}
