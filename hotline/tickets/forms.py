from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, NumberRange, Optional

from hotline.core.forms import Form
from hotline.core.params import MAX_ID, coerce_id


class ActionForm(Form):
    """One form for every workflow action; the service validates what each action needs."""

    version = IntegerField(validators=[Optional(), NumberRange(0, MAX_ID)])
    note = TextAreaField(_l("Note / reason"), validators=[Optional(), Length(max=2000)])
    body = TextAreaField(_l("Answer"), validators=[Optional(), Length(max=10000)])
    lead_unit = SelectField(_l("Lead unit"), coerce=coerce_id, validate_choice=False, validators=[Optional()])
    assist_units = SelectMultipleField(
        _l("Assisting units"), coerce=coerce_id, validate_choice=False, validators=[Optional()]
    )
    unit = SelectField(_l("Pass down to"), coerce=coerce_id, validate_choice=False, validators=[Optional()])
    satisfaction = SelectField(_l("Rating"), validate_choice=False, validators=[Optional()])
    master = HiddenField()


# The ticket page draws the action forms by hand and shows only these labels: building the form for them took
# half a millisecond a view.
ACTION_LABELS = {
    name: field.args[0] for name, field in vars(ActionForm).items() if isinstance(field, UnboundField) and field.args
}
