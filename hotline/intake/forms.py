"""Appeal forms for the citizen portal and the operator console. Field names match ``AppealInput``."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, FloatField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from hotline.core.forms import Form, options
from hotline.core.params import coerce_id
from hotline.tickets.labels import APPEAL, URGENCY
from hotline.tickets.validation import LIMITS

EMERGENCY_LINES = options(
    [
        ("110", _l("110 Police")),
        ("119", _l("119 Fire")),
        ("120", _l("120 Ambulance")),
        ("122", _l("122 Traffic accidents")),
    ]
)


class AppealFields(Form):
    """What every appeal has: the five elements of 受理 and the caller.

    Limits are checked by ``hotline.tickets.validation`` for every channel, so each field's message
    comes from the same place whether the appeal arrives here, by API or by Open311."""

    citizen_phone = StringField(_l("Phone"))
    citizen_name = StringField(_l("Name (optional)"))
    appeal_type = SelectField(_l("Type of appeal"), choices=options(APPEAL.items()), default="complaint")
    category_id = SelectField(_l("Category"), coerce=coerce_id, validate_choice=False, validators=[Optional()])
    district_id = SelectField(_l("District"), coerce=coerce_id, validate_choice=False, validators=[Optional()])
    address = StringField(_l("Address"))
    title = StringField(_l("Title"))
    body = TextAreaField(_l("What happened, and what do you ask for?"))
    confidential = BooleanField(_l("Keep my identity confidential (reports only)"))


class CitizenAppealForm(AppealFields):
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    photos = MultipleFileField(_l("Photos (up to 5; JPEG, PNG or WebP; 5 MB each)"))
    allow_publish = BooleanField(_l("The answer may be published without my personal data"))


class OperatorCallForm(AppealFields):
    urgency = SelectField(_l("Urgency"), choices=options(URGENCY.items()), default="normal")
    outcome = RadioField(
        _l("Outcome"),
        default="register",
        choices=options(
            [
                ("register", _l("Register for dispatch")),
                ("answer_directly", _l("Answer directly")),
                ("refuse", _l("Refuse (not accepted)")),
                ("transfer_emergency", _l("Transfer to an emergency line")),
            ]
        ),
    )
    note = TextAreaField(_l("Answer, reason or transfer record"))
    emergency_line = SelectField(_l("Emergency line"), choices=EMERGENCY_LINES, default="110")
    call_id = HiddenField(validators=[Optional(), Length(max=64)])  # the answered call the screen pop filled in
    sms_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])  # the SMS draft it registers


class TrackForm(Form):
    tracking_no = StringField(_l("Tracking number"), validators=[DataRequired(), Length(min=14, max=14)])
    phone = StringField(_l("Phone used when filing"), validators=[DataRequired(), Length(max=20)])


class ForgotNumberForm(Form):
    phone = StringField(_l("Phone used when filing"), validators=[DataRequired(), Length(max=20)])


class RateForm(Form):
    satisfaction = RadioField(
        _l("How satisfied are you with the answer?"),
        validators=[DataRequired()],
        choices=options(
            [
                ("satisfied", _l("Satisfied")),
                ("basically", _l("Basically satisfied")),
                ("unsatisfied", _l("Unsatisfied")),
            ]
        ),
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=LIMITS["note"])])
