from wtforms import BooleanField, DateField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional
from wtforms.widgets import DateInput

from panel.domain.clients import UFS
from panel.forms import BrDecimalField, Form, IdSelectField, IntegerField
from panel.models import ClientKind

# The domain checks every value (and says what is wrong next to the field); these forms only
# carry what was typed.


class ClientForm(Form):
    kind = RadioField(
        "Tipo de cadastro", choices=[SelectChoice(k.value, k.label) for k in ClientKind], default=ClientKind.pf.value
    )
    name = StringField("Nome / Razão social", validators=[Length(max=120)])
    document = StringField(
        "CPF / CNPJ",
        validators=[Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
        description="Com ou sem pontuação. É a senha padrão do assinante na ITTV (o login é o e-mail).",
    )
    email = StringField(
        "E-mail",
        validators=[Length(max=254)],
        render_kw={"type": "email", "autocomplete": "off"},
        description="Necessário para sincronizar: é o login do assinante na ITTV.",
    )
    phone = StringField("Telefone", validators=[Length(max=20)], render_kw={"inputmode": "tel"}, description="Com DDD.")
    zipcode = StringField("CEP", validators=[Length(max=10)], render_kw={"inputmode": "numeric"})
    street = StringField("Endereço", validators=[Length(max=120)])
    number = StringField("Número", validators=[Length(max=20)])
    complement = StringField("Complemento", validators=[Length(max=60)])
    city = StringField("Cidade", validators=[Length(max=80)])
    state = SelectField("UF", choices=[SelectChoice("", "Selecione…")] + [SelectChoice(uf, uf) for uf in UFS])
    active = BooleanField("Cadastro ativo", default=True)


class ContractForm(Form):
    plan_id = IdSelectField("Plano", choices=[])
    start_date = DateField(
        "Início do contrato", validators=[Optional()], widget=DateInput(), render_kw={"type": "date"}
    )
    due_day = IntegerField(
        "Dia de vencimento",
        validators=[Optional()],
        description="De 1 a 31; nos meses mais curtos, vence no último dia do mês.",
    )


class PayInvoiceForm(Form):
    paid_on = DateField("Data do pagamento", validators=[Optional()], widget=DateInput(), render_kw={"type": "date"})
    paid_amount = BrDecimalField("Valor pago (R$)")


class ReverseInvoiceForm(Form):
    reason = StringField(
        "Motivo do estorno",
        validators=[Length(max=200)],
        render_kw={"autocomplete": "off", "maxlength": 200},
        description="Aparece no histórico do contrato (ex.: cheque devolvido, baixa em duplicidade).",
    )


class ExemptionForm(Form):
    until = DateField("Não bloquear até", validators=[Optional()], widget=DateInput(), render_kw={"type": "date"})
    reason = StringField(
        "Motivo",
        validators=[Length(max=200)],
        render_kw={"autocomplete": "off", "maxlength": 200},
        description="Aparece na simulação da régua e no histórico do contrato.",
    )
