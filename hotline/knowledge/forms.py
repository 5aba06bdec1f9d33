"""The article editor."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from hotline.core.forms import Form, options
from hotline.core.params import coerce_id


class ArticleForm(Form):
    kind = SelectField(_l("Kind"), choices=options([("policy", _l("Policy explanation")), ("faq", _l("FAQ"))]))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    question = TextAreaField(_l("How citizens ask it"), validators=[Optional(), Length(max=1000)])
    body = TextAreaField(_l("Explanation"), validators=[DataRequired(), Length(max=8000)])
    source = StringField(_l("Policy document"), validators=[Optional(), Length(max=255)])
    category_id = SelectField(_l("Category"), coerce=coerce_id, validate_choice=False, validators=[Optional()])
    effective_from = DateField(_l("Effective from"), validators=[Optional()])
    effective_until = DateField(_l("Effective until"), validators=[Optional()])
