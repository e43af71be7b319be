from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

# Password managers offer a fresh password here instead of filling the current one.
NEW_PASSWORD = {"autocomplete": "new-password"}


class LoginForm(FlaskForm):
    username = StringField("Usuário", validators=[DataRequired("Informe o usuário."), Length(max=64)])
    password = PasswordField("Senha", validators=[DataRequired("Informe a senha."), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Senha atual", validators=[DataRequired("Informe a senha atual.")], render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("Nova senha", validators=[DataRequired("Informe a nova senha.")], render_kw=NEW_PASSWORD)
    confirm = PasswordField(
        "Repita a nova senha",
        validators=[DataRequired("Repita a nova senha."), EqualTo("new_password", "As senhas não conferem.")],
        render_kw=NEW_PASSWORD,
    )
