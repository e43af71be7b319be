"""The base of every form, and fields shared by several of them."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo


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
