"""A stand-in for ITTV / PlayHub's reseller API (DESIGN.md, "Platforms — the wire contracts").

Run: ``python -m sandbox.ittv --port P --token T [--state-file F] [--latency-ms N]``
(127.0.0.1; ``--port 0`` picks a free port and prints it on the first line).

API (``Authorization: Bearer <token>``; errors are ``{"message": "..."}``):
- ``POST /alpha/reseller/customer`` {name, cpf, status, phone, email, username, password, zipcode,
  product, address, city, complement?, number, state} → 201 ``{"_id"}``. Refuses with 400 an
  empty name/cpf/status/email/username/password/product, a missing phone/zipcode/address/city/
  number/state (they may be empty), a CPF/CNPJ with wrong check digits, a malformed e-mail, CEP
  or UF, a status other than ACTIVE/INACTIVE and an unknown product; with 409 a CPF or username
  that exists.
- ``PUT /alpha/reseller/customer/<_id>`` {username, email}; ``PUT .../<_id>/status`` {status};
  ``PUT .../<_id>/order`` {idProduct}; ``POST .../<_id>/changepassword`` {password}. 404 for an
  unknown customer.
- ``GET /alpha/reseller/customer?cpf=<digits>`` (without ``cpf``: every customer) →
  ``[{"_id", "cpf", "email", "status", "product"}]``; ``GET /alpha/reseller/product`` →
  ``[{"_id", "name"}]``. (The real API documents no reads; these are the ones we assume.)

Fault injection and out-of-band edits: the ``/_sandbox`` endpoints of ``sandbox.common`` (its
docstring lists them). Subscribers are keyed there by ``_id``; a record holds every field sent,
password included, so tests can check the seed's default login.
"""

from __future__ import annotations

import re
import secrets
import sys
from typing import Any

from flask import Flask, jsonify, request

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

ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
REQUIRED = ("name", "cpf", "status", "email", "username", "password", "product")
# Fields the contract lists without "?": they must be sent, though they may be empty.
PRESENT = ("phone", "zipcode", "address", "city", "number", "state")
STORED = (*REQUIRED, *PRESENT, "complement")
PUBLIC = ("_id", "cpf", "email", "status", "product")

PLATFORM = Platform(
    name="ittv",
    label="ITTV",
    record_key="_id",
    product_key="_id",
    demo_products=[
        {"_id": "PLAYHUB-BASICO", "name": "PlayHub Básico"},
        {"_id": "PLAYHUB-PREMIUM", "name": "PlayHub Premium"},
        {"_id": "PLAYHUB-ESPORTES", "name": "PlayHub Esportes"},
        {"_id": "PLAYHUB-KIDS", "name": "PlayHub Kids"},
    ],
    error_body=lambda status, code, message, extra: {"message": message},
)


def create_app(token: str, *, state_file: str | None = None, latency_ms: float = 0) -> Flask:
    app = build_app(PLATFORM, token, state_file=state_file, latency_ms=latency_ms)

    @app.post("/alpha/reseller/customer")
    def create_customer():
        body = json_object()
        for name in REQUIRED:
            if not isinstance(body.get(name), str) or not body[name].strip():
                raise ApiError(400, "missing_field", f"O campo '{name}' é obrigatório.")
        for name in PRESENT:
            if not isinstance(body.get(name), str):
                raise ApiError(400, "missing_field", f"O campo '{name}' deve ser enviado (texto).")
        _check_fields(body)
        store = state().store
        with store.lock:
            customers = store.records.values()
            if any(c["cpf"] == body["cpf"] for c in customers):
                raise ApiError(409, "duplicate_cpf", "Já existe um cliente com este CPF/CNPJ.")
            if any(c["username"].lower() == body["username"].lower() for c in customers):
                raise ApiError(409, "duplicate_username", "Este nome de usuário já está em uso.")
            customer = {"_id": secrets.token_hex(12), **{k: body[k] for k in STORED if isinstance(body.get(k), str)}}
            store.records[customer["_id"]] = customer
            store.save()
        return {"_id": customer["_id"]}, 201

    @app.get("/alpha/reseller/customer")
    def list_customers():
        cpf = request.args.get("cpf")
        with state().store.lock:
            found = [c for c in state().store.records.values() if cpf is None or c["cpf"] == cpf]
            return jsonify([{key: customer.get(key) for key in PUBLIC} for customer in found])

    @app.put("/alpha/reseller/customer/<customer_id>")
    def update_login(customer_id: str):
        body = json_object()
        changes = {k: body[k] for k in ("username", "email") if k in body}
        if not changes:
            raise ApiError(400, "missing_field", "Informe username e/ou email.")
        _check_fields(changes)
        store = state().store
        with store.lock:
            customer = _customer(customer_id)
            username = changes.get("username")
            if username and any(
                c["username"].lower() == username.lower() and c["_id"] != customer_id for c in store.records.values()
            ):
                raise ApiError(409, "duplicate_username", "Este nome de usuário já está em uso.")
            customer.update(changes)
            store.save()
            return _public(customer)

    @app.put("/alpha/reseller/customer/<customer_id>/status")
    def set_status(customer_id: str):
        return _change(customer_id, "status", _required(json_object(), "status"))

    @app.put("/alpha/reseller/customer/<customer_id>/order")
    def change_product(customer_id: str):
        return _change(customer_id, "product", _required(json_object(), "idProduct"))

    @app.post("/alpha/reseller/customer/<customer_id>/changepassword")
    def change_password(customer_id: str):
        password = json_object().get("password")
        if not isinstance(password, str) or len(password) < 4:
            raise ApiError(400, "invalid_password", "A senha deve ter ao menos 4 caracteres.")
        return _change(customer_id, "password", password)

    @app.get("/alpha/reseller/product")
    def list_products():
        with state().store.lock:
            return jsonify(list(state().store.products))

    return app


def _required(body: dict[str, Any], name: str) -> object:
    if body.get(name) in (None, ""):
        raise ApiError(400, "missing_field", f"O campo '{name}' é obrigatório.")
    return body[name]


def _check_fields(body: dict[str, Any]) -> None:
    if "cpf" in body and not valid_document(body["cpf"]):
        raise ApiError(400, "invalid_cpf", "CPF/CNPJ inválido.")
    if "email" in body and not valid_email(body["email"]):
        raise ApiError(400, "invalid_email", "E-mail inválido.")
    if "username" in body and (not isinstance(body["username"], str) or not body["username"].strip()):
        raise ApiError(400, "invalid_username", "Nome de usuário inválido.")
    if "status" in body and body["status"] not in (ACTIVE, INACTIVE):
        raise ApiError(400, "invalid_status", "Status deve ser ACTIVE ou INACTIVE.")
    if "product" in body and (not isinstance(body["product"], str) or body["product"] not in product_codes()):
        raise ApiError(400, "unknown_product", f"Produto não encontrado: {body['product']}.")
    if body.get("zipcode") and not (isinstance(body["zipcode"], str) and re.fullmatch(r"\d{8}", body["zipcode"])):
        raise ApiError(400, "invalid_zipcode", "CEP inválido (8 dígitos).")
    if body.get("state") and not (isinstance(body["state"], str) and re.fullmatch(r"[A-Z]{2}", body["state"])):
        raise ApiError(400, "invalid_state", "UF inválida.")


def _change(customer_id: str, field: str, value: object) -> dict[str, Any]:
    if field != "password":
        _check_fields({field: value})
    store = state().store
    with store.lock:
        customer = _customer(customer_id)
        customer[field] = value
        store.save()
        return _public(customer)


def _customer(customer_id: str) -> dict[str, Any]:
    customer = state().store.records.get(customer_id)
    if customer is None:
        raise ApiError(404, "not_found", "Cliente não encontrado.")
    return customer


def _public(customer: dict[str, Any]) -> dict[str, Any]:
    return {key: customer.get(key) for key in PUBLIC}


if __name__ == "__main__":
    sys.exit(main(create_app, PLATFORM.label))
