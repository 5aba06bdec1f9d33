"""The scheduling form (staff), the question form (portal), the answer and transcript forms (staff)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from hotline.core.forms import Form, options
from hotline.core.params import coerce_id
from hotline.interviews.services import ANSWER_LIMIT, GUESTS_LIMIT, QUESTION_LIMIT, SUMMARY_LIMIT

_MINUTE = "%Y-%m-%dT%H:%M"


class ScheduleForm(Form):
    kind = SelectField(
        _l("Kind"),
        choices=options([("interview", _l("Online interview")), ("press", _l("Press conference"))]),
    )
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField(_l("Unit"), coerce=coerce_id, validate_choice=False, validators=[DataRequired()])
    starts_at = DateTimeLocalField(_l("Starts (Beijing time)"), format=_MINUTE, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (Beijing time)"), format=_MINUTE, validators=[DataRequired()])
    guests = TextAreaField(
        _l("Guests (the unit's head and others)"), validators=[DataRequired(), Length(max=GUESTS_LIMIT)]
    )
    description = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=2000)])


class QuestionForm(Form):
    text = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(max=QUESTION_LIMIT)])
    name = StringField(_l("Your name (optional, not published)"), validators=[Optional(), Length(max=32)])
    phone = StringField(
        _l("Phone (optional, not published; for a reply if it is not answered live)"),
        validators=[Optional(), Length(max=20)],
    )


class AnswerForm(Form):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=ANSWER_LIMIT)])


class SummaryForm(Form):
    summary = TextAreaField(_l("Transcript summary"), validators=[Optional(), Length(max=SUMMARY_LIMIT)])
