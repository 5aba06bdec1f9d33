"""Forms of the SLA pages: calendar edits and import, policies, supervision and requests."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from hotline.core.forms import Form, options

UNITS = options([("working_days", _l("working days")), ("hours", _l("hours"))])


class CalendarDayForm(Form):
    day = DateField(_l("Date"), validators=[DataRequired()])
    is_workday = BooleanField(_l("Working day"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=64)])


class CalendarImportForm(Form):
    year = IntegerField(_l("Year (if the text does not name it)"), validators=[Optional(), NumberRange(2000, 2100)])
    text = TextAreaField(_l("State Council notice text or CSV"), validators=[Optional(), Length(max=20000)])
    file = FileField(_l("…or a file"))


class PolicyForm(Form):
    sign_limit = DecimalField(_l("Sign-for limit"), places=None, validators=[DataRequired(), NumberRange(min=0.01)])
    sign_unit = SelectField(_l("Unit"), choices=UNITS)
    answer_limit = DecimalField(_l("Answer limit"), places=None, validators=[DataRequired(), NumberRange(min=0.01)])
    answer_unit = SelectField(_l("Unit"), choices=UNITS)


class MessageForm(Form):
    message = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=2000)])


class ExtensionForm(Form):
    deadline = DateField(_l("New answer deadline"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class SuspensionForm(Form):
    resume_by = DateTimeLocalField(_l("Resume by (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class DecisionForm(Form):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
