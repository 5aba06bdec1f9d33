"""Forms of the administration pages. Choices (units, roles) are set by the view from the database."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
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
    scope_unit_id = SelectField(
        _l("Roles apply to"),
        coerce=optional_int,
        validators=[Optional()],
        description=_l("The unit whose subtree the roles cover; empty: the user's unit."),
    )
    password = PasswordField(
        _l("Temporary password"),
        validators=[Optional(), Length(max=128)],
        description=_l(
            "Leave empty to generate one. It is shown once; the user must choose a new one at the first sign-in."
        ),
    )


class EditUserForm(UserForm):
    username = None
    phone = None
    password = None


class ResetPasswordForm(Form):
    password = PasswordField(
        _l("Temporary password"),
        validators=[Optional(), Length(max=128)],
        description=_l("Leave empty to generate one."),
    )


class UnitForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("A short stable identifier, e.g. d1-s2; used by imports and the API."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=120)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    parent_id = SelectField(_l("Parent unit"), coerce=optional_int, validators=[Optional()])


class RenameUnitForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=120)])


class MoveUnitForm(Form):
    parent_id = SelectField(_l("New parent unit"), coerce=optional_int, validators=[DataRequired()])


class CategoryForm(Form):
    parent_id = SelectField(_l("Parent category"), coerce=optional_int, validators=[Optional()])
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=16)],
        description=_l("Open311's service code for a second-level category, e.g. 0503."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=120)])


class RenameCategoryForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=120)])


class ApiKeyForm(Form):
    channel = StringField(
        _l("Partner channel"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The channel's name as it should appear on its tickets, e.g. 民心网."),
    )


IMPORT_KINDS = [
    ("units", _l("Org units")),
    ("categories", _l("Categories")),
    ("users", _l("Users")),
    ("routing", _l("Routing catalogue")),
]


class ImportForm(Form):
    """Upload a file to preview (hotline.admin.bulk); the preview's confirm button applies it."""

    kind = SelectField(
        _l("What the file holds"), choices=[SelectChoice(k, t) for k, t in IMPORT_KINDS], validators=[DataRequired()]
    )
    file = FileField(_l("File (.csv or .xlsx)"), validators=[FileRequired(_l("Choose a file."))])


class ApplyImportForm(Form):
    kind = HiddenField(validators=[DataRequired()])
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    filename = HiddenField(validators=[Optional(), Length(max=200)])
