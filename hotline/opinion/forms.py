"""The opinion case forms: an outside item, a linked ticket, and one form per stage."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from hotline.core.forms import Form, options
from hotline.core.params import coerce_id

LEVEL_LABELS = {"general": _l("General"), "major": _l("Major"), "serious": _l("Serious")}
SOURCE_LABELS = {"hotspot": _l("Hotspot"), "news": _l("News report"), "post": _l("Online post")}
STAGE_LABELS = {
    "collected": _l("Collected"),
    "analysed": _l("Analysed"),
    "handling": _l("Handling"),
    "responded": _l("Responded"),
    "closed": _l("Closed"),
}


class ExternalItemForm(Form):
    source = SelectField(
        _l("Source"), choices=options([("news", SOURCE_LABELS["news"]), ("post", SOURCE_LABELS["post"])])
    )
    url = StringField(_l("Link"), validators=[Length(max=1000)])
    title = StringField(_l("Title"), validators=[Length(max=200)])
    excerpt = TextAreaField(_l("Excerpt"), validators=[Optional(), Length(max=4000)])
    category_id = SelectField(_l("Category"), coerce=coerce_id, validate_choice=False, validators=[Optional()])


class LinkForm(Form):
    tracking_no = StringField(_l("Tracking number"), validators=[Length(max=20)])


class AnalyseForm(Form):
    level = SelectField(_l("Level"), choices=options([("", "—"), *LEVEL_LABELS.items()]), validate_choice=False)
    lead_unit_id = SelectField(_l("Lead unit"), coerce=coerce_id, validate_choice=False, validators=[Optional()])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    analysis = TextAreaField(_l("Analysis"), validators=[Length(max=8000)])


class NoteForm(Form):
    body = TextAreaField(_l("Handling note"), validators=[Length(max=4000)])


class RespondForm(Form):
    response_title = StringField(_l("Public title"), validators=[Length(max=200)])
    response_body = TextAreaField(_l("Public response"), validators=[Length(max=8000)])
    confirm = BooleanField(_l("I have checked: the text names no citizen and gives no phone number or address."))


class CloseForm(Form):
    review = TextAreaField(_l("Review"), validators=[Length(max=8000)])


class StepForm(Form):
    """A step without fields (handing the case over): the CSRF token only."""
