"""The base of every web form: Flask-WTF's, with wtforms' messages in the page's language, read once."""

from flask import request
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from hotline.core.i18n import wtforms_translations


class Form(FlaskForm):
    class Meta:
        def wrap_formdata(self, form, formdata):
            # A web form reads form fields only: Flask-WTF would also read a JSON body, whose numbers and lists
            # reach text fields' validators (a 500). A JSON body sent to a web page is an empty form.
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is not formdata and request.is_json and not request.form and not request.files:
                return None
            return wrapped

        def get_translations(self, form):
            return wtforms_translations


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as a select's or radio group's choices (wtforms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


def add_errors(form, exc, default: str | None = None) -> None:
    """Show a refused service call's messages (DomainError.fields) under the form's fields."""
    fields = exc.fields or {default: exc.message}
    for name, message in fields.items():
        field = form._fields.get(name) or form._fields.get(default)
        if field is not None:
            field.errors = list(field.errors) + [str(message)]
