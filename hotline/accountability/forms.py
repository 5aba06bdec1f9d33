"""The case forms: opening one, the unit's report, the supervisor's review."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from hotline.accountability.models import CaseMeasure, CaseOrigin
from hotline.core.forms import Form, options
from hotline.core.params import coerce_id

ORIGIN_LABELS = {
    CaseOrigin.RED_CARD.value: _l("Red card (deadline passed)"),
    CaseOrigin.REDO.value: _l("Unsatisfied redo"),
    CaseOrigin.SUPERVISION_ORDER.value: _l("Supervision order"),
}
MEASURE_LABELS = {
    CaseMeasure.INTERVIEW.value: _l("Admonitory talk"),
    CaseMeasure.CRITICISM.value: _l("Public criticism"),
    CaseMeasure.DISCIPLINE.value: _l("Referral to discipline inspection"),
}
STATUS_LABELS = {
    "opened": _l("Waiting for the report"),
    "report_submitted": _l("Report under review"),
    "returned": _l("Report returned"),
    "closed": _l("Closed"),
}


class OpenCaseForm(Form):
    origin = SelectField(_l("Arises from"), validate_choice=False, validators=[DataRequired()])
    order = HiddenField()
    unit = SelectField(_l("Unit held to account"), coerce=coerce_id, validate_choice=False, validators=[Optional()])
    official_name = StringField(_l("Official held to account (optional)"), validators=[Optional(), Length(max=80)])
    findings = TextAreaField(_l("Findings"), validators=[DataRequired(), Length(max=4000)])
    measure = SelectField(
        _l("Measure"), choices=options(list(MEASURE_LABELS.items())), validate_choice=False, validators=[DataRequired()]
    )
    report_due = DateField(_l("Rectification report due"), validators=[Optional()])
    review_due = DateField(_l("Review due"), validators=[Optional()])


class ReportForm(Form):
    report = TextAreaField(_l("Rectification report"), validators=[DataRequired(), Length(max=4000)])


class ReviewForm(Form):
    decision = RadioField(
        _l("Decision"),
        choices=options(
            [("accept", _l("Accept the report and close the case")), ("return", _l("Return it for a new report"))]
        ),
        validators=[DataRequired()],
    )
    note = TextAreaField(_l("Review note (required to return)"), validators=[Optional(), Length(max=4000)])
    report_due = DateField(_l("New report due (when returned)"), validators=[Optional()])
