"""The admin's questionnaire and question forms, and the respondent's answer sheet (built per questionnaire)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from hotline.core.forms import Form, options
from hotline.evaluation.models import QuestionKind

SCORE_CHOICES = [(5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")]
CHOICE_CHOICES = [(3, _l("Satisfied")), (2, _l("Basically satisfied")), (1, _l("Unsatisfied"))]
KIND_LABELS = {
    QuestionKind.SCORE.value: _l("Score 1–5"),
    QuestionKind.CHOICE.value: _l("Satisfied / basically / unsatisfied"),
}


class QuestionnaireForm(Form):
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    opens_on = DateField(_l("Opens on"), validators=[Optional()])
    closes_on = DateField(_l("Closes on"), validators=[Optional()])


class QuestionForm(Form):
    text = StringField(_l("Question"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(_l("Answer"), choices=options(list(KIND_LABELS.items())), default=QuestionKind.CHOICE.value)


class ActionForm(Form):
    """A bare POST (open, close, move, remove): CSRF only."""


def answer_form(questions):
    """A form with one required radio group ``q<id>`` per question, in the questionnaire's order."""

    class AnswerForm(Form):
        pass

    for question in questions:
        choices = SCORE_CHOICES if question.kind == QuestionKind.SCORE.value else CHOICE_CHOICES
        setattr(
            AnswerForm,
            f"q{question.id}",
            RadioField(question.text, choices=options(choices), coerce=int, validators=[DataRequired()]),
        )
    return AnswerForm()
