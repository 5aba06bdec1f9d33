"""The fast template translations follow the request's language, force_locale and refresh like flask_babel's."""

import flask_babel
from flask import session

from hotline import create_app
from hotline.core.i18n import current_language

TEMPLATE = (
    "{{ _('Status') }}|{{ gettext('Status') }}|{% trans %}Status{% endtrans %}|{{ _('At most %(n)d photos.', n=n) }}"
)


def _render(app, **context):
    return app.jinja_env.from_string(TEMPLATE).render(n=5, **context)


def test_templates_follow_force_locale_and_refresh():
    app = create_app("testing")
    with app.test_request_context("/"):
        assert _render(app) == "状态|状态|状态|最多 5 张照片。"
        assert current_language() == "zh_Hans_CN"
        with flask_babel.force_locale("en"):
            assert _render(app) == "Status|Status|Status|At most 5 photos."
            assert current_language() == "en"
        assert _render(app) == "状态|状态|状态|最多 5 张照片。"
        session["lang"] = "en"  # what /lang/en does; refresh() makes it take effect within this request
        flask_babel.refresh()
        assert _render(app) == "Status|Status|Status|At most 5 photos."
        assert current_language() == "en"


def test_variables_are_escaped_and_plain_text_templates_are_not():
    app = create_app("testing")
    with app.test_request_context("/"):
        html = app.jinja_env.from_string(
            "{{ _('Channel %(name)s already has an active key (%(id)d); revoke it first.', name=name, id=1) }}"
        )
        assert "&lt;b&gt;" in html.render(name="<b>")
        app.jinja_env.autoescape = False  # e-mail bodies are plain text: no entities in them
        plain = app.jinja_env.from_string("{{ _('At most %(n)d photos.', n=n) }} <b>")
        assert plain.render(n=2) == "最多 2 张照片。 <b>"


def test_each_app_context_starts_from_its_own_language():
    app = create_app("testing")
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert _render(app).startswith("Status|")
    with app.test_request_context("/"):
        assert _render(app).startswith("状态|")


def test_wtforms_messages_follow_the_language():
    from wtforms import StringField
    from wtforms.validators import DataRequired

    from hotline.core.forms import Form

    class Probe(Form):
        name = StringField(validators=[DataRequired()])

    app = create_app("testing", WTF_CSRF_ENABLED=False)
    messages = []
    for language in ("zh_Hans_CN", "en", "zh_Hans_CN"):
        with app.test_request_context("/", method="POST", data={"name": ""}):
            session["lang"] = language
            form = Probe()
            assert not form.validate()
            messages.append(form.name.errors[0])
    assert messages == ["该字段是必填字段。", "This field is required.", "该字段是必填字段。"]


def test_every_web_form_derives_from_the_project_form():
    from flask_wtf import FlaskForm

    from hotline.core.forms import Form

    create_app("testing")  # imports every blueprint, hence every form
    pending, found = list(FlaskForm.__subclasses__()), []
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("hotline.") and cls is not Form:
            found.append(cls)
    assert found and all(issubclass(cls, Form) for cls in found), [
        cls.__qualname__ for cls in found if not issubclass(cls, Form)
    ]


def test_constant_strings_are_kept_per_language_and_escaping():
    app = create_app("testing")
    with app.test_request_context("/"):
        html = app.jinja_env.from_string("{{ _('Status') ~ '<b>' }}|{{ _('100%% sure') }}")
        for _ in range(2):  # the second round is served from what the first kept
            assert html.render() == "状态&lt;b&gt;|100% sure"
            with flask_babel.force_locale("en"):
                assert html.render() == "Status&lt;b&gt;|100% sure"
        app.jinja_env.autoescape = False  # a plain-text body: the kept HTML-safe string must not leak in
        plain = app.jinja_env.from_string("{{ _('Status') + '<b>' }}")  # Markup + str would escape
        assert plain.render() == "状态<b>"
