"""The workflow's badges (status, urgency, warning card) and the staff ticket list's rows, as Python template
globals: a list page shows fifty rows, each with three badges (see ``hotline.core.ui`` for why in Python).
Labels come from ``tickets.labels.label``, kept per language.
"""

from __future__ import annotations

from flask import current_app
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from hotline.core.i18n import current_language
from hotline.core.ui import category_label, deadline, ticket_url, unit_label, when
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


def sms_delivery_badge(state: str | None) -> Markup:
    """已送达 / 未送达 / 发送中 of a release SMS (``queries.release_sms_states``); a dash when none was sent."""
    if state is None:
        return Markup('<span class="text-body-secondary">—</span>')
    return _badge("sms_delivery", state, f"badge sms-delivery sms-{state}")


def ticket_rows(tickets, sms_states: dict[int, str] | None = None) -> Markup:
    """The rows of the staff ticket table (tickets/index.html), from plain rows of ``queries.LIST_ROW``. Built
    here, not in Jinja: a list page has fifty, and as template code each row made some fifteen calls and
    twenty-five escapes, half the page's time. The columns after the title hide on a phone, where the badges
    show under the title instead. With ``sms_states`` (the callback list) a last column says whether the
    release SMS reached the caller."""
    env = current_app.jinja_env
    cell = '<td class="d-none d-md-table-cell'
    rows = []
    for t in tickets:
        names = t.category_name, t.category_name_en, t.parent_category_name, t.parent_category_name_en
        number, status, warning = escape(t.tracking_no), status_badge(t.status), warning_badge(t.warning_level)
        overdue = ' class="deadline-overdue"' if t.warning_level == "red" else ""
        next_deadline = deadline(t.next_deadline_at, t.deadline_provisional, short=True) if t.next_deadline_at else ""
        sms = "" if sms_states is None else f'<td data-sms="{t.id}">{sms_delivery_badge(sms_states.get(t.id))}</td>'
        rows.append(
            f'<tr><td><a class="tracking-no" href="{ticket_url(t.tracking_no)}">{number}</a></td>'
            f'<td class="title-cell">{escape(do_truncate(env, t.title, 40, True, "…"))}\n'
            f'<div class="d-md-none">{status} {urgency_badge(t.urgency, hide_normal=True)} {warning}</div></td>'
            f'{cell}">{escape(label("appeal", t.appeal_type))}</td>'
            f'{cell}">{urgency_badge(t.urgency)}</td>'
            f'{cell} wrap-cell" title="{category_label(*names)}">{category_label(*names, short=True)}</td>'
            f'{cell}">{status}</td>{cell}">{warning}</td>'
            f'{cell} wrap-cell unit-cell">{unit_label(t.lead_unit_name, t.lead_unit_name_en)}</td>'
            f'{cell} text-body-secondary">{when(t.created_at, short=True)}</td>'
            f"<td{overdue}>{next_deadline}</td>{sms}</tr>"
        )
    return Markup("\n".join(rows))


HELPERS = {f.__name__: f for f in (status_badge, urgency_badge, warning_badge, sms_delivery_badge, ticket_rows)}
