"""ITTV / PlayHub, the operadora of the seeds: TV/OTT, every access status, a login per
subscriber (e-mail and CPF/CNPJ), one customer per CPF."""

from panel.domain.kinds.base import PlatformKind
from panel.domain.vocabulary import AccessStatus, PlanProducts
from panel.models import PlanType


def _one_product_per_customer(plan: PlanProducts) -> str | None:
    extra = [code for code in plan.codes if code not in plan.base_codes][1:]
    if extra or len(plan.base_codes) > 1:
        return (
            "Na ITTV cada cliente tem um único produto: o plano deve ter um pacote completo e, "
            "no máximo, um pacote base (para o bloqueio parcial)."
        )
    return None


ITTV = PlatformKind(
    name="ittv",
    label="ITTV",
    role_label="operadora",
    plan_type=PlanType.tv_ott,
    supported_statuses=frozenset(AccessStatus),
    has_login=True,
    one_contract_per_client=True,
    reactivation_needs_unblock=True,
    packages_rule=_one_product_per_customer,
)
