"""Forms of the administration pages. Choices (units, roles) are set by the view from the database."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from hotline.core.forms import Form


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class UserForm(Form):
    """Create (with username and an optional password) or edit a user."""
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])
    org_unit_id = SelectField(_l("Unit"), coerce=optional_int, validators=[DataRequired()])
    roles = CheckboxesField(_l("Roles"), validators=[DataRequired(_l("Give the user at least one role."))])
    scope_unit_id = SelectField(_l("Roles apply to"), coerce=optional_int, validators=[Optional()],
                                description=_l("The unit whose subtree the roles cover; empty: the user's unit."))
    password = PasswordField(_l("Temporary password"), validators=[Optional(), Length(max=128)],
                             description=_l("Leave empty to generate one. It is shown once; the user must "
                                            "choose a new one at the first sign-in."))


class EditUserForm(UserForm):
    username = None
    phone = None
    password = None


class ResetPasswordForm(Form):
    password = PasswordField(_l("Temporary password"), validators=[Optional(), Length(max=128)],
                             description=_l("Leave empty to generate one."))
