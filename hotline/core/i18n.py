"""Translations and the current language without flask_babel's lookups on every ``_()``.

flask_babel's Jinja callables look the translations up again for each string (``g``, the locale, ``str(locale)``,
its cache): about 10 µs a call, and a ticket page translates some seventy strings, a list page more. These reuse what flask_babel
chose for the current context, keyed on the locale object it holds there, so ``refresh()`` and
``force_locale()`` (which replace that object) still take effect at once. At start, a catalogue whose
``.mo`` is missing or older than its ``.po`` is a warning in the log (``warn_if_not_compiled``).
"""

from __future__ import annotations

from pathlib import Path

from babel import support
from flask import Flask, current_app
from flask.globals import _cv_app  # the app context itself, without a LocalProxy hop per call
from flask_babel import LazyString, force_locale, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup
from wtforms.i18n import messages_path

LANGUAGE_COOKIE = "lang"  # the language switch's choice; not in the session, which sign-in and sign-out clear


def _babel_state():
    """flask_babel's per-context namespace (it lives on ``g``), or None outside an app context."""
    app_ctx = _cv_app.get(None)
    return app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None


def _for_locale(key: str, make):
    """``make()``'s value, kept beside flask_babel's locale for as long as that locale stays in place."""
    state = _babel_state()
    if state is not None:
        kept = state.__dict__.get(key)
        if kept is not None and kept[0] is state.__dict__.get("babel_locale"):
            return kept[1]
    value = make()  # flask_babel chooses (and records) the locale when it is not known yet
    state = _babel_state()
    locale = state.__dict__.get("babel_locale") if state is not None else None
    if locale is not None:
        setattr(state, key, (locale, value))
    return value


def translations():
    return _for_locale("hotline_translations", get_translations)


def current_language() -> str:
    """The current locale as a string, ``zh_Hans_CN`` or ``en`` (``str(Locale)`` is slow; tables ask per row)."""
    return _for_locale("hotline_language", lambda: str(get_locale()))


def in_default_language(text: LazyString) -> str:
    """``text`` in the installation's default language: for words stored with the data (a 督办单's message, the
    quote of a policy article in an answer to a citizen), which every reader sees as they were written."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(text)


def install(app: Flask) -> None:
    """Replace flask_babel's Jinja callables (same newstyle behaviour: autoescaped, ``%(name)s`` variables)."""
    env = app.jinja_env
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n (Environment.extend)
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # ``_`` is an alias that resolves ``gettext`` and calls it through the context a second time.
    env.globals["_"] = env.globals["gettext"] = _template_gettext


_FINISHED: dict[tuple, str] = {}  # (language, autoescape, string) -> a variable-free ``_()``'s finished text
_FINISHED_MAX = 5000  # the templates' strings, in two languages, twice over; dynamic strings beyond are not kept


@pass_context
def _template_gettext(context, string: str, **variables):
    """Jinja's newstyle ``gettext`` (escaped variables, ``%%`` for a percent sign, Markup when autoescaping),
    with the result of a call without variables kept: most of a page's ``_()`` calls are such constants."""
    autoescape = context.eval_ctx.autoescape
    if not variables:
        key = (current_language(), autoescape, string)
        text = _FINISHED.get(key)
        if text is not None:
            return text
    text = translations().ugettext(string)
    if autoescape:
        text = Markup(text)
    text = text % variables
    if not variables and len(_FINISHED) < _FINISHED_MAX:
        _FINISHED[key] = text
    return text


_WTFORMS: dict[str, object] = {}  # language -> wtforms' own messages ("This field is required."), read once


def _wtforms_catalogue():
    def load():
        language = current_language()
        if language not in _WTFORMS:
            _WTFORMS[language] = support.Translations.load(messages_path(), [get_locale()], domain="wtforms")
        return _WTFORMS[language]

    return _for_locale("hotline_wtforms", load)


class WtformsTranslations:
    """For ``Form.Meta``: flask_wtf's would read wtforms' catalogue from disk again on every request. Like
    flask_wtf's, it finds the language only when a message is needed, not when a form is built."""

    def gettext(self, string):
        return _wtforms_catalogue().ugettext(string)

    def ngettext(self, singular, plural, n):
        return _wtforms_catalogue().ungettext(singular, plural, n)


wtforms_translations = WtformsTranslations()


def stale_catalogues(directories: list[str]) -> list[Path]:
    """Each ``messages.po`` whose compiled ``messages.mo`` is missing or older: that language shows the
    English source text (``pybabel compile`` was skipped, or the catalogue changed since)."""
    stale = []
    for directory in directories:
        for po in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                stale.append(po)
    return stale


def warn_if_not_compiled(app: Flask, default_directory: str) -> None:
    """At start: one warning per catalogue not compiled, naming the command that fixes it."""
    configured = app.config.get("BABEL_TRANSLATION_DIRECTORIES")
    directories = configured.split(";") if configured else [default_directory]
    for po in stale_catalogues(directories):
        app.logger.warning(
            "translations not compiled: %s is missing or older than %s, so %s pages show the "
            "English text; run `pybabel compile --use-fuzzy -d %s` (`make translations`)",
            po.with_suffix(".mo"),
            po.name,
            po.parent.parent.name,
            po.parent.parent.parent,
        )
