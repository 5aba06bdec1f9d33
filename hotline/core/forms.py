"""The base of every web form: Flask-WTF's, with wtforms' messages in the page's language, read once."""
from flask_wtf import FlaskForm

from hotline.core.i18n import wtforms_translations


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return wtforms_translations
