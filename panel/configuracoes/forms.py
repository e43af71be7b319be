from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from panel.models import Role

# Password managers offer a fresh password here instead of filling the current one.
NEW_PASSWORD = {"autocomplete": "new-password"}

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in (Role.operador, Role.leitura, Role.admin)]


class UserCreateForm(FlaskForm):
    username = StringField("Login", validators=[DataRequired("Informe o login."), Length(max=64)])
    name = StringField("Nome", validators=[DataRequired("Informe o nome."), Length(max=120)])
    role = SelectField("Perfil", choices=ROLE_CHOICES)
    password = PasswordField("Senha inicial", validators=[DataRequired("Informe a senha.")], render_kw=NEW_PASSWORD)
    confirm = PasswordField(
        "Repita a senha",
        validators=[DataRequired("Repita a senha."), EqualTo("password", "As senhas não conferem.")],
        render_kw=NEW_PASSWORD,
    )


class UserEditForm(FlaskForm):
    name = StringField("Nome", validators=[DataRequired("Informe o nome."), Length(max=120)])
    role = SelectField("Perfil", choices=ROLE_CHOICES)
    active = BooleanField("Ativo (pode entrar no painel)")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("Nova senha", validators=[DataRequired("Informe a nova senha.")], render_kw=NEW_PASSWORD)
    confirm = PasswordField(
        "Repita a nova senha",
        validators=[DataRequired("Repita a nova senha."), EqualTo("password", "As senhas não conferem.")],
        render_kw=NEW_PASSWORD,
    )
