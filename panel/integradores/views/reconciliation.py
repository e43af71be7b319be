"""*Conciliação* (Integradores, per platform): the last run's summary and differences (keyset-paged,
searchable, by kind, CSV), *Conciliar agora* with its progress bar, and the actions on the
differences — *Corrigir*, *Aceitar* (with a reason, on a confirmation page), *Vincular*. Leitura
reads; only admin acts (declared per view, checked on the server)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from panel.domain import products, reconciliation, words
from panel.domain.platforms import list_platforms
from panel.exports import csv_response, in_batches
from panel.extensions import db
from panel.formats import document, ngettext
from panel.integradores import bp
from panel.integradores.forms import AcceptForm, LinkForm, choice_arg, number_arg, posted_back, posted_ids
from panel.models import (
    DifferenceKind,
    Platform,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationTrigger,
    Role,
)
from panel.security import requires
from panel.web import attempt, current_actor, id_list_arg, keyset_page, safe_next, search_arg

KINDS = {kind.value: kind for kind in DifferenceKind}


def _platform(platform_id: int) -> Platform:
    return db.get_or_404(Platform, platform_id)


@bp.route("/conciliacao")
@requires(Role.leitura)
def reconciliation_index():
    """Every platform with its latest run: where to look first."""
    platforms = list_platforms()
    return render_template(
        "integradores/reconciliation_index.html",
        platforms=platforms,
        latest={platform.id: reconciliation.latest_run(platform.id) for platform in platforms},
        finished={platform.id: reconciliation.last_finished_run(platform.id) for platform in platforms},
        duration=reconciliation.describe_duration,
    )


def _filters() -> dict:
    kind = choice_arg("tipo", KINDS, "")
    return {"tipo": kind or None, "q": search_arg() or None}


@bp.route("/conciliacao/<int:platform_id>")
@requires(Role.leitura)
def reconciliation_page(platform_id: int):
    platform = _platform(platform_id)
    run = reconciliation.last_finished_run(platform.id)
    latest = reconciliation.latest_run(platform.id)
    filters = _filters()
    before_id = number_arg("antes")
    page = (
        keyset_page(
            lambda limit: reconciliation.differences(
                run.id,
                kind=KINDS.get(filters["tipo"] or ""),
                text=filters["q"] or "",
                before_id=before_id,
                limit=limit,
            ),
            reconciliation.PAGE_SIZE,
        )
        if run is not None
        else None
    )
    return render_template(
        "integradores/reconciliation.html",
        platform=platform,
        run=run,
        latest=latest,
        kinds=DifferenceKind,
        filters=filters,
        differences=page.items if page else [],
        duration=reconciliation.describe_duration,
        platform_words=_platform_words(platform.id),
        next_url=url_for(".reconciliation_page", platform_id=platform.id, **filters, antes=page.next_key)
        if page and page.next_key is not None
        else None,
        first_url=url_for(".reconciliation_page", platform_id=platform.id, **filters) if before_id else None,
        back_url=request.full_path.rstrip("?"),
    )


@bp.route("/conciliacao/<int:platform_id>/progresso")
@requires(Role.leitura)
def reconciliation_progress(platform_id: int):
    """The running run's progress bar, polled until it ends (the page then reloads)."""
    platform = _platform(platform_id)
    return render_template(
        "integradores/_reconciliation_progress.html", platform=platform, latest=reconciliation.latest_run(platform.id)
    )


@bp.route("/conciliacao/<int:platform_id>/conciliar", methods=["POST"])
@requires(Role.admin)
def reconciliation_run(platform_id: int):
    platform = _platform(platform_id)
    attempt(
        lambda: reconciliation.request_run(current_actor(), platform, ReconciliationTrigger.admin),
        success=f"Conciliação com {platform.name} solicitada: acompanhe o progresso abaixo.",
    )
    return redirect(url_for(".reconciliation_page", platform_id=platform.id))


@bp.route("/conciliacao/<int:platform_id>/diferencas.csv")
@requires(Role.leitura)
def reconciliation_csv(platform_id: int):
    """The last run's differences (with the page's kind and search), streamed."""
    platform = _platform(platform_id)
    run = reconciliation.last_finished_run(platform.id)
    if run is None:
        abort(404)
    filters = _filters()
    # (the rows are streamed after the request's transaction ended: only plain values cross it)
    run_id, kind, text = run.id, KINDS.get(filters["tipo"] or ""), filters["q"] or ""
    platform_kind = platform.kind
    rows = (
        (
            difference.id,
            difference.kind.label,
            difference.subscription.contract_id if difference.subscription else None,
            difference.name,
            document(difference.document) if difference.document else None,
            difference.external_id,
            difference.remote_status,
            ", ".join(difference.remote_products or []),
            _access(difference.remote_access, platform_kind),
            _access(difference.our_status, platform_kind),
            difference.resolution.label if difference.resolution else None,
            difference.resolved_by_name,
            difference.resolved_at,
            difference.reason,
        )
        for difference in in_batches(
            lambda after, limit: reconciliation.differences(run_id, kind=kind, text=text, before_id=after, limit=limit)
        )
    )
    return csv_response(
        f"conciliacao-{platform.code.lower()}-{run.id}.csv".encode("ascii", "ignore").decode(),
        [
            "Diferença",
            "Tipo",
            "Contrato",
            "Nome",
            "CPF/CNPJ",
            "Id na plataforma",
            "Situação na plataforma",
            "Pacotes na plataforma",
            "Acesso na plataforma",
            "Acesso pedido aqui",
            "Resolução",
            "Resolvido por",
            "Resolvido em",
            "Motivo",
        ],
        rows,
    )


def _platform_words(platform_id: int):
    """``reconciliation.platform_words`` naming the platform's products (one read per page)."""
    names = products.names_by_code(platform_id)
    return lambda difference: reconciliation.platform_words(difference, names)


def _access(value: str | None, platform_kind: str) -> str | None:
    return words.access_word(value, platform_kind) if value else None


def _summary(done: reconciliation.BulkResult, singular: str, plural: str) -> None:
    """ "2 diferenças corrigidas: …; 1 recusada: diferença 7: …." (``singular``/``plural`` after
    the count, as in ngettext)."""
    message = ngettext(f"%(num)s diferença {singular}", f"%(num)s diferenças {plural}", len(done.done))
    if done.refused:
        message += (
            "; "
            + ngettext("%(num)s recusada", "%(num)s recusadas", len(done.refused))
            + ": "
            + "; ".join(f"diferença {difference_id}: {reason.rstrip('.')}" for difference_id, reason in done.refused)
        )
    flash(message + ".", "warning" if done.refused else "success")


def _corrected_words(platform_name: str) -> tuple[str, str]:
    return f"corrigida: pedido enviado à {platform_name}", f"corrigidas: pedido enviado à {platform_name}"


@bp.route("/conciliacao/<int:platform_id>/corrigir", methods=["POST"])
@requires(Role.admin)
def reconciliation_correct(platform_id: int):
    platform = _platform(platform_id)
    back = posted_back(url_for(".reconciliation_page", platform_id=platform.id))
    ids = posted_ids("diferencas", reconciliation.BULK_LIMIT)
    outcome = attempt(lambda: reconciliation.correct_many(current_actor(), platform.id, ids))
    if outcome:
        _summary(outcome.value, *_corrected_words(platform.name))
    return redirect(back)


@bp.route("/conciliacao/<int:platform_id>/em-lote", methods=["POST"])
@requires(Role.admin)
def reconciliation_bulk(platform_id: int):
    """The bulk bar: *Corrigir* goes at once (the dialog asked); *Aceitar* opens its page, which
    asks for the reason."""
    platform = _platform(platform_id)
    back = posted_back(url_for(".reconciliation_page", platform_id=platform.id))
    action = request.form.get("acao", "")
    ids = posted_ids("diferencas", reconciliation.BULK_LIMIT)
    if action not in ("corrigir", "aceitar"):
        flash("Escolha a ação a aplicar às diferenças marcadas.", "danger")
        return redirect(back)
    if not ids:
        flash("Marque ao menos uma diferença.", "danger")
        return redirect(back)
    if action == "aceitar":
        return redirect(
            url_for(".reconciliation_accept", platform_id=platform.id, diferencas=",".join(map(str, ids)), voltar=back)
        )
    outcome = attempt(lambda: reconciliation.correct_many(current_actor(), platform.id, ids))
    if outcome:
        _summary(outcome.value, *_corrected_words(platform.name))
    return redirect(back)


@bp.route("/conciliacao/<int:platform_id>/aceitar", methods=["GET", "POST"])
@requires(Role.admin)
def reconciliation_accept(platform_id: int):
    """The confirmation page of *Aceitar*: what will be adopted, and the reason."""
    platform = _platform(platform_id)
    default_back = url_for(".reconciliation_page", platform_id=platform.id)
    if request.method == "POST":
        ids = posted_ids("diferencas", reconciliation.BULK_LIMIT)
        back = posted_back(default_back)
    else:
        ids = id_list_arg("diferencas", reconciliation.BULK_LIMIT)
        if ids is None:
            abort(400)
        back = posted_back_arg(default_back)
    chosen = [
        difference
        for difference in (db.session.get(ReconciliationDifference, difference_id) for difference_id in ids)
        if difference is not None and difference.run.platform_id == platform.id
    ]
    if not chosen:
        flash("Marque ao menos uma diferença.", "danger")
        return redirect(back)
    form = AcceptForm()
    if form.validate_on_submit():
        outcome = attempt(
            lambda: reconciliation.accept_many(current_actor(), platform.id, [d.id for d in chosen], form.reason.data),
            form=form,
        )
        if outcome:
            _summary(
                outcome.value,
                "aceita: a situação da plataforma passou a ser a do contrato",
                "aceitas: a situação da plataforma passou a ser a do contrato",
            )
            return redirect(back)
    return render_template(
        "integradores/reconciliation_accept.html",
        platform=platform,
        differences=chosen,
        form=form,
        back_url=back,
        platform_words=_platform_words(platform.id),
    )


def posted_back_arg(default: str) -> str:
    return safe_next(request.args.get("voltar"), default)


@bp.route("/conciliacao/diferencas/<int:difference_id>/vincular", methods=["GET", "POST"])
@requires(Role.admin)
def reconciliation_link(difference_id: int):
    difference = db.get_or_404(ReconciliationDifference, difference_id)
    run: ReconciliationRun = difference.run
    platform = run.platform
    back = url_for(".reconciliation_page", platform_id=platform.id)
    candidates = reconciliation.link_candidates(difference)
    form = LinkForm()
    form.contract_id.choices = [(None, "Selecione…")] + [
        (contract.id, f"Contrato {contract.id} — {contract.client.name} ({contract.plan_name})")
        for contract in candidates
    ]
    if form.validate_on_submit():
        outcome = attempt(
            lambda: reconciliation.link(current_actor(), difference, form.contract_id.data),
            form=form,
            success=lambda subscription: (
                f"Conta vinculada ao contrato {subscription.contract_id}; pedido enviado à {platform.name}."
            ),
        )
        if outcome:
            return redirect(back)
    return render_template(
        "integradores/reconciliation_link.html",
        platform=platform,
        difference=difference,
        candidates=candidates,
        form=form,
        back_url=back,
        platform_words=_platform_words(platform.id),
    )
