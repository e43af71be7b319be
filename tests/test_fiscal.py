"""The fiscal composition: exact Decimal sums, cents resolved without losing or inventing one,
and pt-BR numbers typed in every way operators type them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panel.domain import DomainError
from panel.domain.fiscal import Line, resolve
from panel.formats import NumberInputError, money, parse_number, percent
from panel.models import CompositionMode

P, V = CompositionMode.percent, CompositionMode.value
D = Decimal


def values(monthly: str, *lines: tuple[str, CompositionMode, str]) -> list[str]:
    return [str(item.value) for item in resolve(D(monthly), [Line(s, m, D(a)) for s, m, a in lines])]


@pytest.mark.parametrize(
    ("monthly", "lines", "expected"),
    [
        # Thirds: each share is 13,2987 / 13,2987 / 13,3027; floors leave 2 cents for the largest remainders.
        ("39.90", [("SCM", P, "33.33"), ("SVA", P, "33.33"), ("TV", P, "33.34")], ["13.30", "13.30", "13.30"]),
        ("10", [("SCM", P, "33.3333"), ("SVA", P, "33.3333"), ("TV", P, "33.3334")], ["3.33", "3.33", "3.34"]),
        ("0.03", [("SCM", P, "50"), ("SVA", P, "50")], ["0.02", "0.01"]),  # a tie goes to the first line
        ("39.90", [("SCM", P, "60"), ("SVA", V, "15.96")], ["23.94", "15.96"]),
        ("100", [("SCM", V, "60"), ("SVA", P, "40")], ["60", "40.00"]),
        ("99999.99", [("SCM", P, "0.0001"), ("SVA", P, "99.9999")], ["0.10", "99999.89"]),
        ("19.99", [("TV", P, "100")], ["19.99"]),
    ],
)
def test_resolved_lines_add_up_to_the_cent(monthly, lines, expected):
    resolved = values(monthly, *lines)
    assert resolved == expected
    assert sum(D(value) for value in resolved) == D(monthly)


@pytest.mark.parametrize(
    ("monthly", "lines", "message"),
    [
        ("39.90", [("SCM", P, "60"), ("SVA", P, "39.99")], "As porcentagens somam 99,99%"),
        ("39.90", [("SCM", P, "60"), ("SVA", P, "40.01")], "As porcentagens somam 100,01%"),
        ("39.90", [("SCM", V, "29.90"), ("SVA", V, "9.99")], "faltam R$ 0,01"),
        ("39.90", [("SCM", V, "29.90"), ("SVA", V, "10.01")], "somam R$ 39,91, mais que o valor mensal"),
        ("39.90", [("SCM", V, "29.90"), ("SVA", P, "30")], "A composição soma R$ 41,87; sobram R$ 1,97"),
        # 25% of 39,90 is 9,975: a composition may not end in a fraction of a cent.
        ("39.90", [("SCM", V, "29.925"), ("SVA", P, "25")], "no máximo 2 casas decimais"),
        ("39.90", [("SCM", V, "30.00"), ("SVA", P, "24.8120")], "fração de centavo"),
        ("0.01", [("SCM", P, "50"), ("SVA", P, "50")], "fica em R$ 0,00"),
        ("39.90", [("SCM", P, "100"), ("SCM", V, "1")], "Cada serviço aparece uma única vez"),
        ("39.90", [("XYZ", P, "100")], "Serviço desconhecido"),
        ("39.90", [], "pelo menos um serviço"),
        ("39.901", [("SCM", P, "100")], "no máximo 2 casas decimais"),
        ("0", [("SCM", P, "100")], "maior que zero"),
        ("100000", [("SCM", P, "100")], "no máximo R$ 99.999,99"),
    ],
)
def test_compositions_that_do_not_add_up_exactly_are_refused_with_the_difference(monthly, lines, message):
    with pytest.raises(DomainError) as refused:
        values(monthly, *lines)
    assert message in refused.value.message


cents = st.integers(min_value=1, max_value=9_999_999).map(lambda c: D(c).scaleb(-2))


@st.composite
def percentages_summing_to_100(draw):
    """1 to 3 percentages with up to 4 decimals that add up to exactly 100%."""
    count = draw(st.integers(min_value=1, max_value=3))
    cuts = sorted(
        draw(st.lists(st.integers(min_value=1, max_value=999_999), min_size=count - 1, max_size=count - 1, unique=True))
    )
    bounds = [0, *cuts, 1_000_000]
    return [D(b - a).scaleb(-4) for a, b in zip(bounds, bounds[1:], strict=False)]


@given(monthly=cents, shares=percentages_summing_to_100())
def test_any_exact_composition_resolves_to_the_monthly_value_within_a_cent_per_line(monthly, shares):
    lines = [Line(service, P, share) for service, share in zip(("SCM", "SVA", "TV"), shares, strict=False)]
    try:
        resolved = resolve(monthly, lines)
    except DomainError as error:
        assert "R$ 0,00" in error.message  # only a share too small to be worth a cent is refused
        return
    assert sum(item.value for item in resolved) == monthly
    for item in resolved:
        exact = monthly * item.line.amount / 100
        assert abs(item.value - exact) < D("0.01") and item.value > 0


@given(monthly=cents, fixed=cents)
def test_values_in_reais_are_kept_as_typed_and_must_add_up_exactly(monthly, fixed):
    if fixed < monthly:
        resolved = resolve(monthly, [Line("SCM", V, fixed), Line("SVA", V, monthly - fixed)])
        assert [item.value for item in resolved] == [fixed, monthly - fixed]
    else:
        with pytest.raises(DomainError):
            resolve(monthly, [Line("SCM", V, fixed), Line("SVA", V, D("0.01"))])


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("39,90", "39.90"),
        ("39.90", "39.90"),
        ("R$ 1.234,56", "1234.56"),
        ("1.234", "1234"),
        ("33,3333%", "33.3333"),
        (" 9,9 ", "9.9"),
        ("1234,5", "1234.5"),
    ],
)
def test_numbers_typed_the_brazilian_way(typed, value):
    assert parse_number(typed, suffix="%") == D(value)


@pytest.mark.parametrize("typed", ["abc", "1e5", "1,234.56", "39,9,0", "R$", "12 34"])
def test_anything_else_is_a_clear_error(typed):
    if typed == "R$":
        assert parse_number(typed) is None  # nothing typed after the symbol: empty
        return
    with pytest.raises(NumberInputError, match="Número inválido"):
        parse_number(typed)


def test_money_and_percent_read_the_brazilian_way():
    assert money(D("1234.5")) == "R$ 1.234,50"
    assert money(D("0.1")) == "R$ 0,10"
    assert percent(D("33.3300")) == "33,33%"
    assert percent(D("40")) == "40%"
