from collections.abc import Iterable

from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from panel.domain.fiscal import SERVICES
from panel.domain.kinds import PlatformKind
from panel.forms import (
    BrDecimalField,
    Form,
    IdSelectField,
    IdSelectMultipleField,
    IntegerField,
    NewPasswordField,
    SubForm,
    repeat_of,
)
from panel.models import BillingMode, CompositionMode, PlanType, Role, RuleAction, RuleType

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


# -- platforms and products -----------------------------------------------------------------


class PlatformForm(Form):
    kind = SelectField("Plataforma", choices=[])
    code = StringField(
        "Código",
        validators=[DataRequired("Informe o código."), Length(max=32)],
        description="Identifica a conta no painel (ex.: ITTV, SKEELO).",
    )
    name = StringField("Nome", validators=[DataRequired("Informe o nome."), Length(max=120)])
    server_url = StringField(
        "Servidor (URL)",
        validators=[DataRequired("Informe a URL do servidor."), Length(max=255)],
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
        description="A URL da API fornecida pela plataforma, com http:// ou https://.",
    )
    concurrency_limit = IntegerField(
        "Requisições simultâneas",
        default=4,
        validators=[InputRequired("Informe um número de 1 a 64."), NumberRange(1, 64, "Informe um número de 1 a 64.")],
        description="Quantas chamadas a esta plataforma o painel faz ao mesmo tempo, no máximo.",
    )
    active = BooleanField("Ativa", default=True)
    auto_correct = BooleanField(
        "Corrigir automaticamente",
        description="A conciliação devolve a plataforma ao que cada contrato diz sem esperar por uma pessoa "
        "(o histórico do contrato cita a execução). Desligado, nada é corrigido sem alguém pedir.",
    )

    # -- the Licenças ledger --
    unit_price = BrDecimalField(
        "Preço por assinante ativo (R$)",
        description="Opcional: o valor que a plataforma cobra por assinante ativo no mês (ex.: 4,90).",
    )
    billing_mode = SelectField(
        "Assinantes cobrados no mês",
        choices=[SelectChoice(mode.value, mode.label) for mode in BillingMode],
        default=BillingMode.any_moment.value,
    )
    snapshot_day = IntegerField(
        "Dia da foto",
        validators=[Optional(), NumberRange(1, 28, "Informe um dia de 1 a 28.")],
        description="Com “foto em um dia do mês”: conta quem estava ativo neste dia (de 1 a 28).",
    )


def platform_form(kinds: Iterable[PlatformKind]) -> type[PlatformForm]:
    """PlatformForm with one secret field per credential these kinds declare (a token; or a
    client id and a client secret), shared by kinds that ask for the same one. Never rendered back
    (PasswordField hides its value): pages only say when they were set."""
    fields: dict[str, PasswordField] = {}
    for kind in kinds:
        for credential in kind.credentials:
            fields.setdefault(
                credential.name,
                PasswordField(credential.label, render_kw={"autocomplete": "off", "spellcheck": "false"}),
            )
    return type("PlatformCredentialsForm", (PlatformForm,), fields)


class ProductForm(Form):
    code = StringField(
        "Código (sigla)",
        validators=[DataRequired("Informe o código."), Length(max=64)],
        description="Como a plataforma identifica o pacote.",
    )
    name = StringField("Nome", validators=[DataRequired("Informe o nome."), Length(max=120)])
    is_base = BooleanField("Pacote base (é o que fica no bloqueio parcial)")


# -- access plans (Adicionar plano) ---------------------------------------------------------


class CompositionLineForm(SubForm):
    """One service kind's share of the monthly value (a sub-form: the outer form has the CSRF)."""

    service = HiddenField()
    mode = SelectField(
        "Forma",
        choices=[SelectChoice(m.value, m.label) for m in CompositionMode],
        default=CompositionMode.percent.value,
    )
    amount = BrDecimalField("Parcela", places=0, max_places=4, suffix="%")


class PlanForm(Form):
    """Every step of *Adicionar plano*; each page shows one step and carries the others."""

    STEPS = {
        1: ("name", "plan_type"),
        2: ("contract_months", "monthly_value", "composition"),
        3: ("platform_id", "product_ids"),
    }
    STEP_TITLES = {1: "Nome e tipo", 2: "Meses, composição e valor", 3: "Plataforma e pacotes", 4: "Revisão"}

    name = StringField("Nome do plano", validators=[DataRequired("Informe o nome do plano."), Length(max=120)])
    plan_type = RadioField(
        "Tipo",
        choices=[SelectChoice(t.value, t.label) for t in PlanType],
        validators=[InputRequired("Escolha o tipo do plano: TV/OTT ou SVA.")],
    )
    contract_months = IntegerField(
        "Meses de contrato",
        default=12,
        validators=[InputRequired("Informe os meses de contrato."), NumberRange(1, 120, "Informe de 1 a 120 meses.")],
    )
    monthly_value = BrDecimalField(
        "Valor mensal (R$)",
        validators=[InputRequired("Informe o valor mensal.")],
        description="Ex.: 39,90",
    )
    composition = FieldList(
        FormField(CompositionLineForm), "Composição fiscal", min_entries=len(SERVICES), max_entries=len(SERVICES)
    )
    platform_id = IdSelectField("Plataforma", choices=[])
    product_ids = IdSelectMultipleField("Pacotes", choices=[])

    def step_fields(self, step: int) -> list:
        return [self[name] for name in self.STEPS.get(step, ())]

    def fields_outside(self, step: int) -> list:
        inside = set(self.STEPS.get(step, ()))
        return [field for name, field in self._fields.items() if name not in inside and name != "csrf_token"]

    def validate_step(self, step: int) -> bool:
        """WTForms' own checks for one step's fields (the domain checks come after)."""
        checked = [field.validate(self) for field in self.step_fields(step)]  # every field, for all its errors
        return all(checked)


# -- billing rules (Réguas de Configuração) -------------------------------------------------


class BillingRuleForm(Form):
    rule_type = SelectField("Tipo da régua", choices=[SelectChoice(t.value, t.label) for t in RuleType])
    days_overdue = IntegerField(
        "Dias em atraso",
        validators=[InputRequired("Informe os dias em atraso."), NumberRange(1, 365, "Informe de 1 a 365 dias.")],
        description="A ação é executada quando o título mais antigo em aberto passa deste atraso.",
    )
    action = SelectField("Ação a ser executada", choices=[SelectChoice(a.value, a.label) for a in RuleAction])
    platform_id = IdSelectField("Abrangência", choices=[])
    unblock_on_payment = BooleanField("Desbloquear automaticamente quando o título for pago", default=True)
    active = BooleanField("Ativa", default=True)
    description = StringField(
        "Descrição (opcional)",
        validators=[Length(max=120)],
        description="Em branco: o painel descreve a régua pela ação e pelos dias.",
    )
