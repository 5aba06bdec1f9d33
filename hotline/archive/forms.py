"""The archive page's lookup (a GET form: no CSRF token, nothing changes) and the restore's confirmation."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, StringField
from wtforms.validators import DataRequired, Optional, Regexp, ValidationError

from hotline.archive.queries import ArchiveLookup
from hotline.core.clock import to_utc_naive
from hotline.core.forms import Form
from hotline.core.params import FIRST_DAY, LAST_DAY, in_date_range
from hotline.tickets.validation import PHONE_PATTERN, normalise_phone


def _day_in_range(form, field):
    if field.data is not None and not in_date_range(field.data):
        raise ValidationError(
            _l("Choose a date from %(first)s to %(last)s.", first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
        )


def _a_phone(form, field):
    if field.data and not PHONE_PATTERN.match(normalise_phone(field.data)):
        raise ValidationError(_l("Enter a mainland mobile number (11 digits) or a landline with area code."))


class ArchiveLookupForm(Form):
    class Meta:
        csrf = False  # a search: read from the query string, changes nothing

    tracking_no = StringField(
        _l("Tracking number"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[Optional(), Regexp(r"^\d{14}$", flags=re.ASCII, message=_l("A tracking number has 14 digits."))],
    )
    phone = StringField(_l("Caller phone"), validators=[Optional(), _a_phone])
    closed_from = DateField(_l("Closed from"), validators=[Optional(), _day_in_range], format="%Y-%m-%d")
    closed_to = DateField(_l("Closed to"), validators=[Optional(), _day_in_range], format="%Y-%m-%d")

    def validate_closed_to(self, field):
        if field.data and self.closed_from.data and self.closed_from.data > field.data:
            raise ValidationError(_l("The start must not be after the end."))

    def lookup(self) -> ArchiveLookup:
        """The filters as the query reads them: local days as UTC moments, the phone normalised."""
        start, end = self.closed_from.data, self.closed_to.data
        return ArchiveLookup(
            tracking_no=self.tracking_no.data or None,
            phone=normalise_phone(self.phone.data) or None,
            closed_from=to_utc_naive(datetime.combine(start, time())) if start else None,
            closed_before=to_utc_naive(datetime.combine(end + timedelta(days=1), time())) if end else None,
        )


class RestoreForm(Form):
    confirm = BooleanField(
        _l("Yes, put this ticket (and any appeal merged with it) back into the working tables"),
        validators=[DataRequired(_l("Tick the box to confirm the restore."))],
    )
