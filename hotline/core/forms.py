"""The base of every web form: Flask-WTF's, with wtforms' messages in the page's language, read once."""
from flask_wtf import FlaskForm

from hotline.core.i18n import wtforms_translations


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return wtforms_translations


def add_errors(form, exc, default: str | None = None) -> None:
    """Show a refused service call's messages (DomainError.fields) under the form's fields."""
    fields = exc.fields or {default: exc.message}
    for name, message in fields.items():
        field = form._fields.get(name) or form._fields.get(default)
        if field is not None:
            field.errors = list(field.errors) + [str(message)]
