"""A stand-in for Watch Brasil's reseller API (DESIGN.md, "Platforms — the wire contracts").

Run: ``python -m sandbox.watch --port P --token CLIENT_ID:CLIENT_SECRET [--token-lifetime S]
[--state-file F] [--latency-ms N]`` (127.0.0.1; ``--port 0`` picks a free port and prints it).

OAuth: ``POST /watch/v1/oauth/authenticate`` form {client_id, redirect_url, approval_prompt, uid:
<client secret>} → ``Result: {"code"}``; ``POST /oauth/token`` form {client_id, client_secret,
code, grant_type: "password"} → ``Result: [{"access_token", "expires_in"}]`` (a code works once;
tokens live ``--token-lifetime`` seconds, 3600 by default). Every other API call needs
``Authorization: Bearer <access_token>``; an unknown or expired one answers HTTP 401.

API (form-encoded or query string; every answer is the envelope ``{"HasError", "IsValidationError",
"Messages", "Result"}``, HTTP 200 even for a refusal, which has both flags true):
- ``GET /watch/v1/pacotes/list`` → ``Result: {"list": [{"IDPacote": 101, "Nome"}]}``.
- ``POST /watch/v2/assinantes/insert`` {pEmail, pName, pPhone, pPacote, pAssinanteIDIntegracao}
  → ``Result: {"ticket"}``; a refusal for a missing parameter (all five are sent; pPhone may be
  empty), a malformed e-mail, an unknown package, or an e-mail and package that already have a
  ticket ("Assinante já possui ticket para este pacote").
- ``GET /watch/v2/tickets/get?pPacote=&pEmailUsuario=[&pAssinanteIDIntegracao=]`` → ``Result:
  {"list": [{"Ticket", "IDIntegracaoAssinante", "Email", "IDPacote", "Ativo"}]}``; without pPacote
  and pEmailUsuario, ``pPagina=N`` (from 1) pages through every ticket, 100 a page (filtered by
  pAssinanteIDIntegracao when given — our assumption, kept here and in the adapter).
- ``POST /watch/v1/tickets/updatestatus`` {pTicket, pStatus: "true" | "false"} → ``Result: null``.
- ``POST /watch/v1/tickets/delete`` {pTicket, pEmail} → ``Result: null`` (the ticket is gone).
- ``POST /watch/v2/assinantes/editPhone`` {pPacote, pEmail, pPhone} → ``Result: null``.
E-mails compare without case. An unknown ticket, or an e-mail that does not hold it, is a refusal.

Admin (``/_sandbox``, ``Authorization: Bearer CLIENT_ID:CLIENT_SECRET``): everything in
``sandbox.common`` (records are tickets, keyed by ``Ticket``; an injected ``error`` answers the
envelope with the HTTP status asked), plus:
``POST /_sandbox/tokens/expire`` — every access token issued so far expires now (``reset`` keeps
issued tokens valid; a restart forgets them);
``PUT /_sandbox/tokens/lifetime`` {"seconds": N} — the lifetime of tokens issued from now on;
``GET /_sandbox/tokens`` — ``{"issued": N, "valid": M, "lifetime": S}``;
``POST /_sandbox/envelope-faults`` {"count"?, "validation"?, "message"?, "match"?} — the next
``count`` matching API calls answer HTTP 200 with ``HasError`` (and ``IsValidationError`` when
``validation``) and change nothing.
"""

from __future__ import annotations

import argparse
import hmac
import secrets
import sys
import threading
import time
from functools import partial
from typing import Any

from flask import Flask, g, request

from sandbox.common import ApiError, Platform, build_app, json_object, main, product_codes, state, valid_email

TOKEN_PATHS = ("/watch/v1/oauth/authenticate", "/oauth/token")
PAGE_SIZE = 100
DEFAULT_LIFETIME = 3600.0


def envelope(result: Any = None, *, error: bool = False, validation: bool = False, messages=()) -> dict[str, Any]:
    return {"HasError": error, "IsValidationError": validation, "Messages": list(messages), "Result": result}


def _error_body(status: int, code: str, message: str, extra: dict[str, Any]) -> dict[str, Any]:
    # A 4xx other than 401/408/429 is the platform refusing the request; anything else its failure.
    validation = 400 <= status < 500 and status not in (401, 408, 429)
    return envelope(error=True, validation=validation, messages=[message])


class Refusal(ApiError):
    """Watch's way of refusing: HTTP 200, ``HasError`` and ``IsValidationError``."""

    def __init__(self, message: str) -> None:
        super().__init__(200, "validation", message)


class Tokens:
    """Access tokens issued, with their expiry, and authorization codes not yet exchanged."""

    def __init__(self, lifetime: float) -> None:
        self.lock = threading.Lock()
        self.lifetime = lifetime
        self.valid_until: dict[str, float] = {}
        self.codes: set[str] = set()
        self.issued = 0

    def valid(self, token: str) -> bool:
        with self.lock:
            until = self.valid_until.get(token)
            return until is not None and time.time() < until

    def issue(self) -> tuple[str, float]:
        with self.lock:
            token = "wat_" + secrets.token_urlsafe(24)
            self.valid_until[token] = time.time() + self.lifetime
            self.issued += 1
            return token, self.lifetime

    def expire_all(self) -> None:
        with self.lock:
            self.valid_until = dict.fromkeys(self.valid_until, 0.0)


class EnvelopeFaults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queued: list[dict[str, Any]] = []

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        with self.lock:
            for fault in self.queued:
                wanted_method, _, prefix = fault["match"].rpartition(" ")
                if (not wanted_method or wanted_method.upper() == method) and path.startswith(prefix):
                    fault["remaining"] -= 1
                    if fault["remaining"] <= 0:
                        self.queued.remove(fault)
                    return fault
        return None


def _api_authorized(tokens: Tokens, header: str) -> bool:
    if request.path in TOKEN_PATHS:
        return True
    scheme, _, token = header.partition(" ")
    return scheme == "Bearer" and bool(token) and tokens.valid(token)


def _platform(tokens: Tokens) -> Platform:
    return Platform(
        name="watch",
        label="Watch",
        record_key="Ticket",
        product_key="IDPacote",
        demo_products=[
            {"IDPacote": "101", "name": "Watch Básico"},
            {"IDPacote": "102", "name": "Watch Kids"},
            {"IDPacote": "103", "name": "Watch Esportes"},
        ],
        error_body=_error_body,
        api_authorized=partial(_api_authorized, tokens),
    )


PLATFORM = _platform(Tokens(DEFAULT_LIFETIME))  # the description demo seeds read (catalogue)


def create_app(
    token: str, *, state_file: str | None = None, latency_ms: float = 0, token_lifetime: float = DEFAULT_LIFETIME
) -> Flask:
    client_id, colon, client_secret = token.partition(":")
    if not (client_id and colon and client_secret):
        raise ValueError("the Watch sandbox's token is CLIENT_ID:CLIENT_SECRET")
    tokens = Tokens(token_lifetime)
    faults = EnvelopeFaults()
    app = build_app(_platform(tokens), token, state_file=state_file, latency_ms=latency_ms)

    def same(given: str | None, expected: str) -> bool:
        return hmac.compare_digest((given or "").encode(), expected.encode())

    @app.before_request
    def envelope_fault():
        if request.path == "/_sandbox/reset" and request.method == "POST":
            with faults.lock:  # common's reset forgets the rest; issued tokens stay valid
                faults.queued.clear()
            tokens.lifetime = token_lifetime
        if request.path.startswith("/_sandbox/") or g.get("fault"):
            return None
        fault = faults.take(request.method, request.path)
        if fault is None:
            return None
        g.fault = {"kind": "envelope"}
        return envelope(error=True, validation=fault["validation"], messages=[fault["message"]])

    @app.errorhandler(Refusal)
    def refusal(error: Refusal):
        return envelope(error=True, validation=True, messages=[error.message]), 200

    # -- OAuth ----------------------------------------------------------------------------------

    @app.post("/watch/v1/oauth/authenticate")
    def authenticate():
        form = request.form
        if not same(form.get("client_id"), client_id) or not same(form.get("uid"), client_secret):
            raise Refusal("Credenciais inválidas.")
        code = secrets.token_urlsafe(12)
        with tokens.lock:
            tokens.codes.add(code)
        return envelope({"code": code})

    @app.post("/oauth/token")
    def issue_token():
        form = request.form
        if not same(form.get("client_id"), client_id) or not same(form.get("client_secret"), client_secret):
            raise Refusal("Credenciais inválidas.")
        if form.get("grant_type") != "password":
            raise Refusal("grant_type inválido.")
        with tokens.lock:
            known = form.get("code") in tokens.codes
            tokens.codes.discard(form.get("code"))
        if not known:
            raise Refusal("Código de autorização inválido ou já usado.")
        access_token, lifetime = tokens.issue()
        return envelope([{"access_token": access_token, "expires_in": int(lifetime)}])

    # -- API ------------------------------------------------------------------------------------

    @app.get("/watch/v1/pacotes/list")
    def list_packages():
        with state().store.lock:
            listed = [{"IDPacote": _wire_code(p["IDPacote"]), "Nome": p["name"]} for p in state().store.products]
        return envelope({"list": listed})

    @app.post("/watch/v2/assinantes/insert")
    def insert():
        form = request.form
        for name in ("pEmail", "pName", "pPhone", "pPacote", "pAssinanteIDIntegracao"):
            if name not in form or (name != "pPhone" and not form[name].strip()):
                raise Refusal(f"O parâmetro {name} é obrigatório.")
        if not valid_email(form["pEmail"]):
            raise Refusal("E-mail inválido.")
        package = form["pPacote"].strip()
        if package not in product_codes():
            raise Refusal(f"Pacote {package} não encontrado.")
        store = state().store
        with store.lock:
            if _tickets(email=form["pEmail"], package=package):
                raise Refusal("Assinante já possui ticket para este pacote")
            ticket = {
                "Ticket": "TK" + secrets.token_hex(6).upper(),
                "IDIntegracaoAssinante": form["pAssinanteIDIntegracao"],
                "Email": form["pEmail"],
                "Nome": form["pName"],
                "Telefone": form["pPhone"],
                "IDPacote": package,
                "Ativo": True,
            }
            store.records[ticket["Ticket"]] = ticket
            store.save()
        return envelope({"ticket": ticket["Ticket"]})

    @app.get("/watch/v2/tickets/get")
    def get_tickets():
        args = request.args
        reference = args.get("pAssinanteIDIntegracao") or None
        with state().store.lock:
            if args.get("pPacote") and args.get("pEmailUsuario"):
                found = _tickets(email=args["pEmailUsuario"], package=args["pPacote"], reference=reference)
            else:
                try:
                    page = int(args.get("pPagina", ""))
                except ValueError:
                    raise Refusal("Informe pPacote e pEmailUsuario, ou pPagina.") from None
                if page < 1:
                    raise Refusal("pPagina começa em 1.")
                found = _tickets(reference=reference)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            return envelope({"list": [_public(ticket) for ticket in found]})

    @app.post("/watch/v1/tickets/updatestatus")
    def update_status():
        form = request.form
        if form.get("pStatus") not in ("true", "false"):
            raise Refusal("pStatus deve ser true ou false.")
        store = state().store
        with store.lock:
            ticket = _ticket(form.get("pTicket"))
            ticket["Ativo"] = form["pStatus"] == "true"
            store.save()
        return envelope(None)

    @app.post("/watch/v1/tickets/delete")
    def delete_ticket():
        form = request.form
        store = state().store
        with store.lock:
            ticket = _ticket(form.get("pTicket"), email=form.get("pEmail") or "")
            del store.records[ticket["Ticket"]]
            store.save()
        return envelope(None)

    @app.post("/watch/v2/assinantes/editPhone")
    def edit_phone():
        form = request.form
        store = state().store
        with store.lock:
            found = _tickets(email=form.get("pEmail") or "", package=form.get("pPacote") or "")
            if not found:
                raise Refusal("Ticket não encontrado para este e-mail e pacote.")
            for ticket in found:
                ticket["Telefone"] = form.get("pPhone", "")
            store.save()
        return envelope(None)

    # -- admin ----------------------------------------------------------------------------------

    @app.post("/_sandbox/tokens/expire")
    def expire_tokens():
        tokens.expire_all()
        return "", 204

    @app.put("/_sandbox/tokens/lifetime")
    def set_lifetime():
        try:
            tokens.lifetime = max(0.0, float(json_object().get("seconds", DEFAULT_LIFETIME)))
        except (TypeError, ValueError):
            raise ApiError(422, "invalid_lifetime", "seconds deve ser um número.") from None
        return {"lifetime": tokens.lifetime}

    @app.get("/_sandbox/tokens")
    def token_counts():
        with tokens.lock:
            valid = sum(1 for until in tokens.valid_until.values() if until > time.time())
            return {"issued": tokens.issued, "valid": valid, "lifetime": tokens.lifetime}

    @app.post("/_sandbox/envelope-faults")
    def add_envelope_fault():
        spec = json_object()
        try:
            fault = {
                "remaining": max(1, int(spec.get("count", 1))),
                "validation": bool(spec.get("validation", False)),
                "message": str(spec.get("message") or "Erro interno da plataforma (falha simulada)."),
                "match": str(spec.get("match") or ""),
            }
        except (TypeError, ValueError):
            raise ApiError(422, "invalid_fault", "count deve ser um número.") from None
        with faults.lock:
            faults.queued.append(fault)
        return fault, 201

    return app


def _wire_code(code: str) -> int | str:
    """``IDPacote`` is a number on the wire (text in the store, as the admin endpoint adds it)."""
    return int(code) if code.isdigit() else code


def _tickets(*, email: str | None = None, package: str | None = None, reference: str | None = None) -> list[dict]:
    return [
        ticket
        for ticket in state().store.records.values()
        if (email is None or ticket["Email"].casefold() == email.casefold())
        and (package is None or str(ticket["IDPacote"]) == str(package).strip())
        and (reference is None or ticket["IDIntegracaoAssinante"] == reference)
    ]


def _ticket(key: str | None, *, email: str | None = None) -> dict[str, Any]:
    ticket = state().store.records.get(key or "")
    if ticket is None or (email is not None and ticket["Email"].casefold() != email.casefold()):
        raise Refusal("Ticket não encontrado para este e-mail.")
    return ticket


def _public(ticket: dict[str, Any]) -> dict[str, Any]:
    return {
        "Ticket": ticket["Ticket"],
        "IDIntegracaoAssinante": ticket["IDIntegracaoAssinante"],
        "Email": ticket["Email"],
        "IDPacote": _wire_code(str(ticket["IDPacote"])),
        "Ativo": bool(ticket["Ativo"]),
    }


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--token-lifetime", type=float, default=DEFAULT_LIFETIME)
    known, rest = parser.parse_known_args(argv)
    return main(partial(create_app, token_lifetime=known.token_lifetime), PLATFORM.label, rest)


if __name__ == "__main__":
    sys.exit(run())
