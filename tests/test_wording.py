"""Plurals in pt-BR come from one helper (templates and Python alike), never "(s)"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import update

from panel.domain import operations, words
from panel.domain.common import Actor
from panel.domain.kinds import KINDS
from panel.domain.vocabulary import AccessStatus
from panel.extensions import db
from panel.formats import ngettext, sentence, sentences
from panel.models import ContractStatus, Operation, OperationKind, OutboxStatus, TaskKind
from tests.provisioning import act, history, platform_at


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


# -- No "(s)" plurals ------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# A letter right before "(s)", "(es)", "(ns)" or "(ões)": a plural written the lazy way
# ("contrato(s)", "execução(ões)"); code such as ``match(s)`` or a regex has no letter there.
LAZY_PLURAL = re.compile(r"[^\W\d_]\((?:s|es|ns|ões)\)")


def _sources():
    yield from sorted(ROOT.glob("templates/**/*.html"))
    yield from sorted(ROOT.glob("panel/**/*.py"))
    yield ROOT / "static/js/app.js"
    yield from sorted(ROOT.glob("static/rq/*.js"))


def test_no_lazy_plurals_in_templates_python_or_scripts():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if LAZY_PLURAL.search(line)
    ]
    assert found == [], "write plurals with ngettext:\n" + "\n".join(found)


def test_the_lazy_plural_pattern_spares_code():
    assert LAZY_PLURAL.search("1 contrato(s)") and LAZY_PLURAL.search("2 execução(ões)")
    assert LAZY_PLURAL.search("item(ns)") and LAZY_PLURAL.search("diferença(es)")
    assert not LAZY_PLURAL.search("fn (s)") and not LAZY_PLURAL.search("(s) if s else 0")
    assert not LAZY_PLURAL.search(r"re.compile(r'(s)')")


# -- sentence --------------------------------------------------------------------------------


def test_sentence_adds_the_full_stop_a_message_lacks():
    assert sentence("Token inválido") == "Token inválido."
    assert sentence("Token inválido.") == "Token inválido."
    assert sentence("Pronto!") == "Pronto!"
    assert sentence("Recusou:") == "Recusou."
    assert sentence("") == "" and sentence(None) == ""
    assert sentences("Token inválido", "Confira o token em Configurações.") == (
        "Token inválido. Confira o token em Configurações."
    )


# -- One vocabulary ------------------------------------------------------------------------


def test_every_status_and_request_has_a_word():
    for status in AccessStatus:
        for kind in [None, *KINDS]:
            assert words.access_word(status, kind)
    for status in ContractStatus:
        assert words.contract_word(status)
    for status in OutboxStatus:
        assert words.progress_word(status)
    for task in TaskKind:
        assert words.task_word(task) and words.task_done_word(task, "Ana").endswith("por Ana")
    for kind in OperationKind:
        for target in [None, *AccessStatus]:
            for platform in [None, *KINDS]:
                word = words.request_word(kind, target, platform)
                assert word and "(" not in word and not word.islower()


def test_requests_read_as_operators_name_them():
    assert words.request_word("set_status", "cancelled", "ittv") == "Cancelamento"
    assert words.request_word("set_status", "blocked", "ittv") == "Bloqueio total"
    assert words.request_word("set_status", "partial_block", "ittv") == "Bloqueio parcial"
    assert words.request_word("set_status", "active", "ittv") == "Desbloqueio"
    assert words.request_word("sync", "active", "skeelo") == "Ativação"
    assert words.request_word("update_login", None, "ittv") == "Atualização do login"


def test_platforms_without_a_partial_block_say_bloqueado():
    assert not KINDS["skeelo"].has_partial_block and not KINDS["watch"].has_partial_block
    assert words.access_word("blocked", "ittv") == "Bloqueio total"
    assert words.access_word("blocked", "skeelo") == "Bloqueado"
    assert words.access_word("blocked", "watch") == "Bloqueado"
    assert words.request_word("set_status", "blocked", "skeelo") == "Bloqueio"
    assert words.access_word(None) == "—"


def test_platform_codes_and_products_read_as_words():
    assert words.platform_status_word("INACTIVE") == "Inativo"
    assert words.platform_status_word("active") == "Ativo"
    assert words.platform_status_word("cancelled") == "Cancelado"
    assert words.platform_status_word("ativo") == "Ativo"
    assert words.products_words(["PLAYHUB-BASICO"], {"PLAYHUB-BASICO": "PlayHub Básico"}) == "produto PlayHub Básico"
    assert words.products_words(["A", "B"], {"A": "Alfa"}) == "produtos Alfa, B"
    assert words.products_words([], {}) == ""


def test_templates_have_the_vocabulary(app):
    with app.app_context():
        render = app.jinja_env.from_string
        assert render("{{ 'blocked'|access_label('skeelo') }}").render() == "Bloqueado"
        assert render("{{ 'blocked'|access_label }}").render() == "Bloqueio total"
        assert render("{{ request_word('set_status', 'cancelled', 'ittv') }}").render() == "Cancelamento"
        assert render("{{ platform_status_word('INACTIVE') }}").render() == "Inativo"


# -- History lines ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ittv", "skeelo"])
def test_history_lines_name_requests_products_and_statuses_in_words(app, sandbox_for, run_jobs, kind):
    """No internal ids, no nested brackets, no platform codes: "Bloqueio total: resposta da
    ITTV demo." / "ITTV demo confirmou: Bloqueio total — Inativo, produto PlayHub Premium."."""
    setup = platform_at(app, sandbox_for(kind))
    contract_id = setup.contract(app)
    for action in ("sync", "block"):
        op_id = act(app, contract_id, action)
        assert run_jobs() >= 1
    lines = history(app, contract_id)
    platform = {"ittv": "ITTV demo", "skeelo": "SKEELO demo"}[kind]
    blocked = {"ittv": "Bloqueio total", "skeelo": "Bloqueio"}[kind]
    answers = {asked: answer for actor, asked, answer in lines if actor == "Sistema"}
    assert f"Ativação: resposta da {platform}." in answers
    block_answer = answers[f"{blocked}: resposta da {platform}."]
    held = {"ittv": "Bloqueio total — Inativo", "skeelo": "Bloqueado — Inativo"}[kind]
    assert block_answer.startswith(f"{platform} confirmou: {held}"), block_answer
    for _, asked, answer in lines:
        text = f"{asked} {answer or ''}"
        assert f"operação {op_id}" not in text and not re.search(r"\([^)]*\(", text), text
        assert not re.search(r"\b(ACTIVE|INACTIVE|active|inactive|PLAYHUB-[A-Z]+)\b", text), text
    if kind == "ittv":
        assert "produto PlayHub" in block_answer, block_answer


def test_a_retried_request_says_what_it_asks_without_its_id(app, sandbox_for, run_jobs):
    setup = platform_at(app, sandbox_for("skeelo"))
    contract_id = setup.contract(app)
    op_id = act(app, contract_id, "sync")
    with app.app_context():
        db.session.execute(update(Operation).where(Operation.id == op_id).values(status="failed"))
        db.session.commit()
        actor = Actor(user=None, name="Testes")
        operations.retry(actor, db.session.get(Operation, op_id))
        db.session.commit()
    asked = [asked for _, asked, _ in history(app, contract_id)]
    assert "Ativação: nova tentativa na SKEELO demo." in asked, asked
