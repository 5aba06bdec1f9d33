"""The wrap-up forms: a call answered by voice recorded as a direct answer; an abandoned call closed."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from hotline.core.forms import Form, options
from hotline.core.params import coerce_id
from hotline.cti.models import WrapUp
from hotline.tickets.validation import LIMITS


class DirectAnswerForm(Form):
    category_id = SelectField(_l("Category"), coerce=coerce_id, validate_choice=False, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=LIMITS["title"])])
    answer = TextAreaField(_l("The answer given"), validators=[DataRequired(), Length(max=LIMITS["note"])])


class CloseCallForm(Form):
    outcome = RadioField(
        choices=options([(WrapUp.CALLED_BACK.value, _l("Called back")), (WrapUp.DISMISSED.value, _l("Dismiss"))]),
        validators=[DataRequired()],
    )
