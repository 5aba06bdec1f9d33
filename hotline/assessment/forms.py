"""The assessment pages' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from hotline.core.forms import Form


class PeriodForm(Form):
    label = StringField(_l("Period"), validators=[DataRequired(), Length(max=16)])


class WeightsForm(Form):
    on_time = StringField(_l("Answers on time"), validators=[Optional(), Length(max=16)])
    # "return" is a Python keyword: the field is named with a suffix and mapped in the view.
    return_ = StringField(_l("Returns (fewer is better)"), validators=[Optional(), Length(max=16)])
    redo = StringField(_l("Redos (fewer is better)"), validators=[Optional(), Length(max=16)])
    satisfaction = StringField(_l("Satisfaction"), validators=[Optional(), Length(max=16)])
    supervision = StringField(_l("Supervision orders answered on time"), validators=[Optional(), Length(max=16)])
    case_points = StringField(_l("Points off per case"), validators=[Optional(), Length(max=16)])

    FIELDS = {
        "on_time": "on_time",
        "return": "return_",
        "redo": "redo",
        "satisfaction": "satisfaction",
        "supervision": "supervision",
        "case_points": "case_points",
    }


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ObjectionForm(Form):
    unit_id = SelectField(_l("Unit"), coerce=int, validate_choice=False)
    tracking_no = StringField(_l("Tracking no."), validators=[DataRequired(), Length(max=20)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class DecisionForm(Form):
    note = TextAreaField(_l("Decision note"), validators=[DataRequired(), Length(max=2000)])
