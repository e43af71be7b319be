"""Plurals in pt-BR come from one helper (templates and Python alike), never "(s)"."""

from __future__ import annotations

from panel.formats import ngettext


def test_ngettext_picks_the_form_by_count_and_formats_the_number():
    assert ngettext("%(num)s contrato", "%(num)s contratos", 1) == "1 contrato"
    assert ngettext("%(num)s contrato", "%(num)s contratos", 0) == "0 contratos"
    assert ngettext("%(num)s contrato", "%(num)s contratos", 2) == "2 contratos"
    assert ngettext("%(num)s produto adicionado", "%(num)s produtos adicionados", 1234) == (
        "1.234 produtos adicionados"
    )
    assert ngettext("%(num)s dia em %(where)s", "%(num)s dias em %(where)s", 3, where="Skeelo") == ("3 dias em Skeelo")


def test_templates_have_ngettext(app):
    with app.app_context():
        template = app.jinja_env.from_string("{{ ngettext('%(num)s título', '%(num)s títulos', n) }}")
        assert template.render(n=1) == "1 título"
        assert template.render(n=5) == "5 títulos"
