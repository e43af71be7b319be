from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from panel.forms import Form, NewPasswordField, repeat_of
from panel.models import Role

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in (Role.operador, Role.leitura, Role.admin)]


class UserCreateForm(Form):
    username = StringField(
        "Login",
        validators=[DataRequired("Informe o login."), Length(max=64)],
        description="De 2 a 64 caracteres: letras minúsculas, números, ponto, hífen ou sublinhado, "
        "começando por letra ou número.",
    )
    name = StringField("Nome", validators=[DataRequired("Informe o nome."), Length(max=120)])
    role = SelectField("Perfil", choices=ROLE_CHOICES)
    password = NewPasswordField("Senha inicial", validators=[DataRequired("Informe a senha.")])
    confirm = repeat_of("password", "Repita a senha")


class UserEditForm(Form):
    # Deactivation is not here: it has its own confirmed button on the list.
    name = StringField("Nome", validators=[DataRequired("Informe o nome."), Length(max=120)])
    role = SelectField("Perfil", choices=ROLE_CHOICES)


class ResetPasswordForm(Form):
    password = NewPasswordField("Nova senha", validators=[DataRequired("Informe a nova senha.")])
    confirm = repeat_of("password", "Repita a nova senha")
