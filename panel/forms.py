"""The base of every form, and fields shared by several of them.

Every form (``Form``, and ``SubForm`` for the rows of a FieldList) reads only the posted form
fields — never files or a JSON body — and refuses control characters in every field with a
field error; integers are typed in ASCII digits and fit the database (``IntegerField``, and
``IdSelectField``/``IdSelectMultipleField`` for records chosen by id)."""

from flask import current_app, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted  # Flask-WTF's own "read the request"
from markupsafe import Markup
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms import Form as WtfBaseForm
from wtforms import IntegerField as WtfIntegerField
from wtforms.validators import DataRequired, EqualTo, NumberRange, StopValidation
from wtforms.widgets import TextInput

from panel.formats import NumberInputError, number, parse_number
from panel.inputs import CONTROL, MAX_ID, MULTILINE_CONTROL, ascii_integer, parse_id

CONTROL_MESSAGE = "Remova os caracteres de controle (invisíveis) deste campo."
INTEGER_MESSAGE = "Informe um número inteiro, só com algarismos."
RANGE_MESSAGE = "Número fora do intervalo aceito."
ID_MESSAGE = "Escolha uma opção da lista."


def refuse_control_characters(form, field) -> None:
    """The first check of every field (added by ``InputMeta``): NUL and other control characters
    never reach the domain (PostgreSQL refuses NUL in any text; the others are never meant).
    Multi-line text keeps tab, CR and LF; a value its field could not even read (a process
    error: "٣" in a number) is left to that error."""
    if getattr(field, "accepts_control_characters", False) or field.process_errors:
        return
    pattern = MULTILINE_CONTROL if isinstance(field, TextAreaField) else CONTROL
    if any(isinstance(value, str) and pattern.search(value) for value in field.raw_data or ()):
        raise StopValidation(CONTROL_MESSAGE)


class InputMeta:
    """Shared by ``Form`` and ``SubForm``: WTForms' own messages in Portuguese, and the control
    character check put first on every field bound to the form (so no form can forget it)."""

    # WTForms ships Portuguese messages ("Escolha inválida"…); used with WTF_I18N_ENABLED off.
    locales = ("pt_BR", "pt")

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if not isinstance(field, (FieldList, FormField)) and field.type != "CSRFTokenField":
            # A new list: the declared one is shared by every instance of the form.
            field.validators = [refuse_control_characters, *field.validators]
        return field


class Form(FlaskForm):
    """Flask-WTF (CSRF on every POST), the checks of ``InputMeta``, and the posted form fields
    only: Flask-WTF would merge uploaded files into the data (a file sent for a text field
    reached the domain as a FileStorage) and read a JSON body as the form; no form here takes
    either."""

    class Meta(InputMeta):
        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto:
                return formdata
            return request.form if _is_submitted() else None

    def field_errors(self) -> list[tuple[str, str, str]]:
        """Every field error as (the id to link to, the field's label, the message), in the
        form's order, for the error summary at the top of a refused form."""
        return _field_errors(self)


def _field_errors(form) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for field in form:
        if isinstance(field, FieldList):
            found += [(field.id, field.label.text, error) for error in field.errors if isinstance(error, str)]
            for entry in field.entries:
                inner = _field_errors(entry.form) if isinstance(entry, FormField) else _own_errors(entry)
                found += [(target, f"{field.label.text} — {label}", error) for target, label, error in inner]
        elif isinstance(field, FormField):
            found += _field_errors(field.form)
        elif field.type != "CSRFTokenField":
            found += _own_errors(field)
    return found


def _own_errors(field) -> list[tuple[str, str, str]]:
    # Radio buttons have no element with the field's id: the link goes to the first option.
    target = f"{field.id}-0" if field.type == "RadioField" else field.id
    return [(target, field.label.text, error) for error in field.errors if isinstance(error, str)]


class SubForm(WtfBaseForm):
    """The rows of a FieldList(FormField(…)): no CSRF of their own (the outer form has it), the
    same checks as every field of ``Form``."""

    class Meta(InputMeta):
        pass


class CurrentPasswordField(PasswordField):
    """A password checked against a stored hash (login, current password): never stored, shown
    or sent anywhere, so any character is taken — a password set before (or by the CLI) with one
    in it must still open the door."""

    accepts_control_characters = True


class IntegerField(WtfIntegerField):
    """A whole number typed in ASCII digits (a minus sign at most; spaces around are ignored):
    WTForms' ``int()`` takes "٣" and "1_000" and numbers no column holds. A number out of the
    database's range reads as its NumberRange's refusal, when it has one."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        typed = valuelist[0].strip() if isinstance(valuelist[0], str) else None
        value = ascii_integer(typed)
        if value is None:
            self.data = None
            raise ValueError(INTEGER_MESSAGE)
        if -MAX_ID <= value <= MAX_ID:
            self.data = value
            return
        self.data = None
        if not any(isinstance(validator, NumberRange) for validator in self.validators):
            raise ValueError(RANGE_MESSAGE)
        # (NumberRange refuses the missing value with its own message, e.g. "Informe de 1 a 365 dias.")


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

    def __init__(
        self, label=None, validators=None, *, places: int = 2, max_places: int | None = None, suffix: str = "", **kwargs
    ):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.places, self.max_places, self.suffix = places, max_places, suffix
        self.typed: str | None = None

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.typed = valuelist[0]
        if "_" in self.typed or any(char.isdigit() and not char.isascii() for char in self.typed):
            # Decimal() reads "٣٩,٩٠" as 39.90 and "1_000" as 1000; people type 0-9.
            self.data = None
            raise ValueError("Número inválido: use os algarismos de 0 a 9 e a vírgula para os decimais (ex.: 39,90).")
        try:
            self.data = parse_number(self.typed, suffix=self.suffix)
        except NumberInputError as error:
            self.data = None
            raise ValueError(error.message) from None

    def _value(self) -> str:
        if self.typed is not None:
            return self.typed
        return number(self.data, self.places, max_places=self.max_places) if self.data is not None else ""


def coerce_id(value) -> int:
    """Coerce for selects of records: an id (ASCII digits, 1 … 2³¹ − 1) or the field's error."""
    found = parse_id(value)
    if found is None:
        raise ValueError(ID_MESSAGE)
    return found


def optional_id(value) -> int | None:
    """``coerce_id`` for selects whose first choice is "Selecione…" (an empty value)."""
    if value in (None, ""):
        return None
    return coerce_id(value)


class IdSelectField(SelectField):
    """A select of records by id, its first choice "Selecione…" (None). The choices are set by
    the view and the domain checks the id, so ``validate_choice`` is off; what is not an id
    ("٣", 10²³, text) is the field's error."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", optional_id)
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(ID_MESSAGE) from None


class IdSelectMultipleField(SelectMultipleField):
    """Several records by id (``IdSelectField``'s rules for each)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("coerce", coerce_id)
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = []
            raise ValueError(ID_MESSAGE) from None


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
