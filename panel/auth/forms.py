from wtforms import StringField
from wtforms.validators import DataRequired, Length

from panel.forms import CurrentPasswordField, Form, NewPasswordField, repeat_of


class LoginForm(Form):
    username = StringField("Usuário", validators=[DataRequired("Informe o usuário."), Length(max=64)])
    password = CurrentPasswordField("Senha", validators=[DataRequired("Informe a senha."), Length(max=256)])


class ChangePasswordForm(Form):
    current_password = CurrentPasswordField(
        "Senha atual",
        validators=[DataRequired("Informe a senha atual.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = NewPasswordField("Nova senha", validators=[DataRequired("Informe a nova senha.")])
    confirm = repeat_of("new_password", "Repita a nova senha")
