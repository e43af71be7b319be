"""The base of every form, and fields shared by several of them."""

from flask import current_app
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, Field, FieldList, FormField, PasswordField, SelectMultipleField
from wtforms.validators import DataRequired, EqualTo
from wtforms.widgets import TextInput

from panel.formats import NumberInputError, number, parse_number


class Form(FlaskForm):
    """Flask-WTF (CSRF on every POST) with WTForms' own messages in Portuguese."""

    class Meta:
        # WTForms ships Portuguese messages ("Escolha inválida"…); used with WTF_I18N_ENABLED off.
        locales = ("pt_BR", "pt")


class NewPasswordField(PasswordField):
    """A password being chosen: states the minimum length up front, and tells password managers
    to offer a new one instead of filling in the current one."""

    def __init__(self, label=None, validators=None, show_rule: bool = True, **kwargs):
        kwargs.setdefault("render_kw", {"autocomplete": "new-password"})
        super().__init__(label, validators, **kwargs)
        if show_rule:
            self.description = f"Mínimo de {current_app.config['PASSWORD_MIN_LENGTH']} caracteres."


def repeat_of(field_name: str, label: str) -> NewPasswordField:
    return NewPasswordField(
        label,
        validators=[DataRequired("Repita a senha."), EqualTo(field_name, "As senhas não conferem.")],
        show_rule=False,
    )


class BrDecimalField(Field):
    """A number typed the Brazilian way ("1.234,56", "39,90", "33,5%"): ``data`` is a Decimal
    (None when empty) and the page shows back exactly what was typed."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, *, places: int = 2, max_places: int | None = None,
                 suffix: str = "", **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.places, self.max_places, self.suffix = places, max_places, suffix
        self.typed: str | None = None

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.typed = valuelist[0]
        try:
            self.data = parse_number(self.typed, suffix=self.suffix)
        except NumberInputError as error:
            self.data = None
            raise ValueError(error.message) from None

    def _value(self) -> str:
        if self.typed is not None:
            return self.typed
        return number(self.data, self.places, max_places=self.max_places) if self.data is not None else ""


def optional_int(value) -> int | None:
    """Coerce for selects whose first choice is "Selecione…" (an empty value)."""
    if value in (None, ""):
        return None
    return int(value)


def hidden_inputs(fields) -> Markup:
    """Every value of ``fields`` as hidden inputs, exactly as typed: the steps of a multi-step
    form carry the other steps' answers this way (no server-side draft to expire)."""
    html = []
    for field in fields:
        html.extend(_hidden(field))
    return Markup("").join(html)


def _hidden(field) -> list[Markup]:
    if isinstance(field, (FieldList, FormField)):
        return [item for sub in field for item in _hidden(sub)]
    if field.type == "CSRFTokenField":
        return []
    if field.raw_data:
        values = field.raw_data
    elif isinstance(field, SelectMultipleField):
        values = [str(value) for value in field.data or []]
    elif isinstance(field, BooleanField):
        values = ["y"] if field.data else []
    elif hasattr(field, "_value"):
        values = [field._value()]
    else:
        values = [] if field.data is None else [str(field.data)]
    return [Markup('<input type="hidden" name="{}" value="{}">').format(field.name, value) for value in values]
