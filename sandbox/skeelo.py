"""A stand-in for Skeelo's subscriber API (DESIGN.md, "Platforms — the wire contracts").

Run: ``python -m sandbox.skeelo --port P --token T [--state-file F] [--latency-ms N]``
(127.0.0.1; ``--port 0`` picks a free port and prints it on the first line).

API (``Authorization: Bearer <token>``; errors are ``{"error": {"code", "message"}}``):
- ``GET /v1/products`` → ``[{"code", "name"}]``.
- ``POST /v1/subscribers`` {external_id, name, document, email, products: [codes]} → 201 the
  subscriber (``{id, external_id, name, document, email, status: "active", products, ...}``).
  422 for a missing field, a CPF/CNPJ with wrong check digits, a malformed e-mail, an empty or
  unknown product list; 409 ``already_exists`` (with ``"subscriber"``: the existing one) for an
  ``external_id`` that exists. (A document may have several subscribers: one per contract.)
- ``GET /v1/subscribers/<external_id>`` → 200 the subscriber, or 404.
- ``PATCH /v1/subscribers/<external_id>`` {status: active | inactive | cancelled} and/or
  {products: [codes]} → 200 the subscriber; 409 ``subscriber_cancelled`` on any change once
  cancelled.
- ``GET /v1/subscribers?status=&cursor=&limit=`` → ``{"items": [...], "next_cursor"}`` (50 a
  page by default).

Fault injection and out-of-band edits: the ``/_sandbox`` endpoints of ``sandbox.common`` (its
docstring lists them). Subscribers are keyed there by ``external_id``.
"""

from __future__ import annotations

import base64
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request

from sandbox.common import (
    ApiError,
    Platform,
    build_app,
    json_object,
    main,
    product_codes,
    state,
    valid_document,
    valid_email,
)

STATUSES = ("active", "inactive", "cancelled")
REQUIRED = ("external_id", "name", "document", "email")


def _error_body(status: int, code: str, message: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}, **extra}


PLATFORM = Platform(
    name="skeelo",
    label="Skeelo",
    record_key="external_id",
    product_key="code",
    demo_products=[
        {"code": "SKEELO-EBOOKS", "name": "Skeelo Ebooks"},
        {"code": "SKEELO-AUDIOBOOKS", "name": "Skeelo Audiobooks"},
        {"code": "SKEELO-MINIBOOKS", "name": "Skeelo Minibooks"},
    ],
    error_body=_error_body,
)


def create_app(token: str, *, state_file: str | None = None, latency_ms: float = 0) -> Flask:
    app = build_app(PLATFORM, token, state_file=state_file, latency_ms=latency_ms)

    @app.get("/v1/products")
    def list_products():
        with state().store.lock:
            return list(state().store.products)

    @app.post("/v1/subscribers")
    def create_subscriber():
        body = json_object()
        for name in REQUIRED:
            if not isinstance(body.get(name), str) or not body[name].strip():
                raise ApiError(422, "missing_field", f"Campo obrigatório: {name}.")
        if len(body["external_id"]) > 64:
            raise ApiError(422, "invalid_external_id", "external_id deve ter até 64 caracteres.")
        if not valid_document(body["document"]):
            raise ApiError(422, "invalid_document", "Documento (CPF/CNPJ) inválido.")
        if not valid_email(body["email"]):
            raise ApiError(422, "invalid_email", "E-mail inválido.")
        products = _products(body.get("products"))
        store = state().store
        with store.lock:
            existing = store.records.get(body["external_id"])
            if existing is not None:
                raise ApiError(
                    409, "already_exists", "Já existe um assinante com este external_id.", subscriber=existing
                )
            now = _now()
            subscriber = {
                "id": "sub_" + secrets.token_hex(8),
                "external_id": body["external_id"],
                "name": body["name"],
                "document": body["document"],
                "email": body["email"],
                "status": "active",
                "products": products,
                "created_at": now,
                "updated_at": now,
            }
            store.records[subscriber["external_id"]] = subscriber
            store.save()
        return subscriber, 201

    @app.get("/v1/subscribers/<external_id>")
    def get_subscriber(external_id: str):
        with state().store.lock:
            return dict(_subscriber(external_id))

    @app.patch("/v1/subscribers/<external_id>")
    def update_subscriber(external_id: str):
        body = json_object()
        changes: dict[str, Any] = {}
        if "status" in body:
            if body["status"] not in STATUSES:
                raise ApiError(422, "invalid_status", "status deve ser active, inactive ou cancelled.")
            changes["status"] = body["status"]
        if "products" in body:
            changes["products"] = _products(body["products"])
        if not changes:
            raise ApiError(422, "missing_field", "Informe status e/ou products.")
        store = state().store
        with store.lock:
            subscriber = _subscriber(external_id)
            if subscriber["status"] == "cancelled":
                raise ApiError(409, "subscriber_cancelled", "Assinante cancelado: o cancelamento é definitivo.")
            subscriber.update(changes, updated_at=_now())
            store.save()
            return dict(subscriber)

    @app.get("/v1/subscribers")
    def list_subscribers():
        status = request.args.get("status") or None
        if status is not None and status not in STATUSES:
            raise ApiError(422, "invalid_status", "status deve ser active, inactive ou cancelled.")
        try:
            limit = min(200, max(1, int(request.args.get("limit", 50))))
            start = int(base64.urlsafe_b64decode(request.args["cursor"]).decode()) if request.args.get("cursor") else 0
        except (ValueError, UnicodeDecodeError):
            raise ApiError(422, "invalid_cursor", "cursor ou limit inválido.") from None
        with state().store.lock:
            matching = [dict(s) for s in state().store.records.values() if status is None or s["status"] == status]
        page = matching[start : start + limit]
        more = start + limit < len(matching)
        next_cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None
        return {"items": page, "next_cursor": next_cursor}

    return app


def _products(value: object) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(code, str) for code in value):
        raise ApiError(422, "invalid_products", "products deve ser uma lista não vazia de códigos.")
    unknown = sorted(set(value) - product_codes())
    if unknown:
        what = "Produto desconhecido" if len(unknown) == 1 else "Produtos desconhecidos"
        raise ApiError(422, "unknown_product", f"{what}: {', '.join(unknown)}.")
    return list(dict.fromkeys(value))


def _subscriber(external_id: str) -> dict[str, Any]:
    subscriber = state().store.records.get(external_id)
    if subscriber is None:
        raise ApiError(404, "not_found", "Assinante não encontrado.")
    return subscriber


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


if __name__ == "__main__":
    sys.exit(main(create_app, PLATFORM.label))
