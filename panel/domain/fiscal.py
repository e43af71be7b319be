"""The fiscal composition of a plan: how its monthly value splits among service kinds.

Each line gives a service kind a share of the monthly value, as a percentage or as a value in
reais. The lines must add up to the monthly value *exactly* (Decimal arithmetic, no rounding):
a composition that is off by a fraction of a cent is refused with the difference. The value of a
percentage line is then resolved to cents by the largest-remainder method, so the resolved lines
always add up to the monthly value to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext

from panel.domain.common import DomainError
from panel.formats import decimal_places, money, percent
from panel.models import CompositionMode

# The service kinds a monthly value may be split into (codes as fiscal documents name them).
SERVICES: dict[str, str] = {
    "SCM": "SCM — Serviço de Comunicação Multimídia",
    "SVA": "SVA — Serviço de Valor Adicionado",
    "TV": "TV — Serviço de Acesso Condicionado (SeAC)",
}
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_MONTHLY_VALUE = Decimal("99999.99")


@dataclass(frozen=True)
class Line:
    service: str
    mode: CompositionMode
    amount: Decimal


@dataclass(frozen=True)
class ResolvedLine:
    line: Line
    value: Decimal  # in reais, to the cent


def check_monthly_value(value: Decimal | None) -> Decimal:
    if value is None:
        raise DomainError("Informe o valor mensal.", "monthly_value")
    if value <= 0:
        raise DomainError("O valor mensal deve ser maior que zero.", "monthly_value")
    if decimal_places(value) > 2:
        raise DomainError("Use no máximo 2 casas decimais (centavos).", "monthly_value")
    if value > MAX_MONTHLY_VALUE:
        raise DomainError(f"O valor mensal pode ser no máximo {money(MAX_MONTHLY_VALUE)}.", "monthly_value")
    return value


def _check_line(line: Line) -> None:
    if line.service not in SERVICES:
        raise DomainError(f"Serviço desconhecido: {line.service}.", "composition")
    name = line.service
    if line.amount <= 0:
        raise DomainError(f"A parcela de {name} deve ser maior que zero.", "composition")
    if line.mode is CompositionMode.value and decimal_places(line.amount) > 2:
        raise DomainError(f"A parcela de {name} em R$ aceita no máximo 2 casas decimais.", "composition")
    if line.mode is CompositionMode.percent:
        if decimal_places(line.amount) > 4:
            raise DomainError(f"A porcentagem de {name} aceita no máximo 4 casas decimais.", "composition")
        if line.amount > HUNDRED:
            raise DomainError(f"A porcentagem de {name} não pode passar de 100%.", "composition")


def resolve(monthly_value: Decimal, lines: Sequence[Line]) -> list[ResolvedLine]:
    """Check the composition against the monthly value and give each line its value in reais.

    Raises DomainError (field ``composition``) saying what is wrong and by how much.
    """
    check_monthly_value(monthly_value)
    if not lines:
        raise DomainError("Informe a composição fiscal: pelo menos um serviço.", "composition")
    services = [line.service for line in lines]
    if len(set(services)) != len(services):
        raise DomainError("Cada serviço aparece uma única vez na composição.", "composition")
    for line in lines:
        _check_line(line)

    with localcontext() as context:
        context.prec = 50  # exact for every value these limits allow
        fixed = sum((line.amount for line in lines if line.mode is CompositionMode.value), Decimal(0))
        percentages = sum((line.amount for line in lines if line.mode is CompositionMode.percent), Decimal(0))
        total = fixed + monthly_value * percentages / HUNDRED
        if total != monthly_value:
            raise DomainError(_mismatch(monthly_value, fixed, percentages, total), "composition")

        # Largest remainder: floor every percentage share to the cent, then hand the cents left
        # over to the shares that lost the most (ties: the line listed first).
        exact = {
            index: monthly_value * line.amount / HUNDRED
            for index, line in enumerate(lines)
            if line.mode is CompositionMode.percent
        }
        floored = {index: share.quantize(CENT, rounding=ROUND_FLOOR) for index, share in exact.items()}
        left_over = int((monthly_value - fixed - sum(floored.values(), Decimal(0))) / CENT)
        for index in sorted(exact, key=lambda i: (-(exact[i] - floored[i]), i))[:left_over]:
            floored[index] += CENT

    resolved = [ResolvedLine(line, floored.get(index, line.amount)) for index, line in enumerate(lines)]
    for item in resolved:
        if item.value <= 0:
            raise DomainError(
                f"Com este valor mensal, a parcela de {item.line.service} fica em R$ 0,00: "
                "aumente a porcentagem ou retire o serviço.",
                "composition",
            )
    return resolved


def _mismatch(monthly_value: Decimal, fixed: Decimal, percentages: Decimal, total: Decimal) -> str:
    target = money(monthly_value)
    if fixed == 0:
        return f"As porcentagens somam {percent(percentages)}; devem somar exatamente 100% do valor mensal ({target})."
    if fixed > monthly_value:
        return f"Os valores em R$ somam {money(fixed)}, mais que o valor mensal de {target}."
    difference = monthly_value - total
    if abs(difference) < CENT:
        return (
            f"A composição não fecha exatamente no valor mensal de {target}: sobra uma fração de centavo. "
            "Informe os valores em R$ ou porcentagens que resultem em centavos exatos."
        )
    what = "faltam" if difference > 0 else "sobram"
    total_text, gap = money(total.quantize(CENT)), money(abs(difference).quantize(CENT))
    return f"A composição soma {total_text}; {what} {gap} para o valor mensal de {target}."
