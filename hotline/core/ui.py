"""Small pieces of markup that appear on every row of the staff tables, as Python template globals: times,
deadlines, unit and category names, a ticket's address and the form token.

They were Jinja macros, and a list page of 50 rows made some 900 macro calls; as functions the page renders
in about four fifths of the time (bench/pages.py). The markup is the same, and follows the request's locale
like the macros did. The workflow's badges and the ticket list's rows are in ``hotline.tickets.ui``.
"""

from __future__ import annotations

from datetime import datetime

from flask import request, url_for
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from werkzeug.urls import quote as url_quote

from hotline.core.clock import to_local
from hotline.core.i18n import current_language


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
    return unit_label(unit.name, unit.name_en) if unit else Markup()


def unit_label(name: str | None, name_en: str | None) -> Markup:
    return escape(name_en if name_en and current_language() == "en" else name or "")


def category_name(category, short: bool = False) -> Markup:
    """``short``: the second-level name only (for tables; put the full name in a title)."""
    if not category:
        return Markup()
    parent = category.parent
    return category_label(
        category.name, category.name_en, parent.name if parent else None, parent.name_en if parent else None, short
    )


def category_label(
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


# Requests whose answer is never a page with the layout: the nav's counts are not read for them.
_NO_LAYOUT = ("/api/", "/open311/", "/static/", "/bootstrap/")


def may_show_layout() -> bool:
    """Whether this request may answer with a page of the layout (the before-request loaders of the nav's
    counts ask); not the API, Open311 or static files."""
    return not request.path.startswith(_NO_LAYOUT)


HELPERS = {
    f.__name__: f
    for f in (
        provisional_badge,
        when,
        deadline,
        unit_name,
        category_name,
        unit_label,
        ticket_url,
        csrf_token,
    )
}
