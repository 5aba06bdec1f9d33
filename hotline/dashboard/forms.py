"""The period picker's parsing and the project forms."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from hotline.core.forms import Form
from hotline.core.params import FIRST_DAY, LAST_DAY, coerce_id, in_date_range

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


class PeriodError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def parse_period(args, today: date | None = None) -> tuple[date, date]:
    """``from``/``to`` (YYYY-MM-DD) from query arguments; the last 30 days by default."""
    from hotline.dashboard.services import local_today

    today = today or local_today()
    values = {}
    for name in ("from", "to"):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                raise PeriodError(_("Enter a date as YYYY-MM-DD."), name) from None
            if not in_date_range(values[name]):
                raise PeriodError(
                    _(
                        "Choose a date from %(first)s to %(last)s.",
                        first=FIRST_DAY.isoformat(),
                        last=LAST_DAY.isoformat(),
                    ),
                    name,
                )
    end = values.get("to", today)
    start = values.get("from", end - timedelta(days=DEFAULT_PERIOD_DAYS - 1))
    if start > end:
        raise PeriodError(_("The start must not be after the end."), "from")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise PeriodError(_("Choose a period of at most %(n)d days.", n=MAX_PERIOD_DAYS), "from")
    return start, end


class ProjectForm(Form):
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(2000, 2100)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    lead_unit_id = SelectField(_l("Lead unit"), coerce=coerce_id, validators=[Optional()])
    public = BooleanField(_l("Show on the public page"))
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class TagForm(Form):
    tracking_no = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=14)])
    untag = BooleanField(_l("Remove from this project"))
    submit = SubmitField(_l("Apply"))
