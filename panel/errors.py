"""Error pages: a clear pt-BR message, never a traceback."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError
from redis import RedisError
from werkzeug.exceptions import HTTPException

from panel.auth.throttle import wait_text
from panel.extensions import db
from panel.security import wants_json

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Requisição inválida", "O pedido não pôde ser entendido. Volte e tente de novo."),
    401: ("Entre para continuar", "É preciso entrar no painel para acessar esta página."),
    403: (
        "Acesso negado",
        "Seu perfil não permite acessar esta página ou fazer esta ação. Fale com um administrador se precisar.",
    ),
    404: ("Página não encontrada", "O endereço não existe ou o registro foi removido."),
    405: ("Ação não permitida", "Esta página não aceita este tipo de pedido."),
    429: (
        "Muitas tentativas",
        "Foram feitas muitas tentativas em pouco tempo. Aguarde um pouco e tente de novo.",
    ),
    500: ("Erro interno", "Algo deu errado do nosso lado. O erro foi registrado; tente de novo em instantes."),
    503: ("Serviço indisponível", "Um serviço do painel (fila de tarefas) não responde. Tente de novo em instantes."),
}
CSRF_MESSAGE = (
    "Formulário expirado",
    "Sua sessão expirou ou o formulário não é mais válido. Recarregue a página e tente de novo.",
)


def render_error(code: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    title, message = title or default_title, message or default_message
    if wants_json():
        return jsonify(error=title, message=message), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def too_many_requests(error: HTTPException):
    """429: the real wait when the refusal knows it (Retry-After), kept in the header too."""
    seconds = _retry_seconds(getattr(error, "retry_after", None))
    if seconds is None:
        return render_error(429)
    title, _message = MESSAGES[429]
    body, code = render_error(429, title, f"{title}. Tente de novo em {wait_text(seconds)}.")
    return body, code, {"Retry-After": str(seconds)}


def _retry_seconds(retry_after: datetime | int | None) -> int | None:
    if isinstance(retry_after, datetime):
        moment = retry_after if retry_after.tzinfo else retry_after.replace(tzinfo=UTC)
        return max(1, math.ceil((moment - datetime.now(UTC)).total_seconds()))
    if isinstance(retry_after, int) and retry_after > 0:
        return retry_after
    return None


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, *CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code == 429:
            return too_many_requests(error)
        return render_error(code if code in MESSAGES else 500)

    @app.errorhandler(RedisError)
    def redis_error(error):
        log.error("Redis unavailable: %s", type(error).__name__)
        db.session.rollback()
        return render_error(503)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        log.exception("unhandled error")
        db.session.rollback()
        return render_error(500)
