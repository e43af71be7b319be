"""Clients (*Pessoas / Empresas*): registration, the checks on their documents and contact
data, and the searches of the Painel do Cliente.

CPF and CNPJ are stored as digits (check digits verified with validate-docbr) and are unique:
one register per person or company. A change of e-mail or document while the client has a
synced contract at a platform that logs subscribers in with them (ITTV) schedules the login
update there, in the same transaction.
"""

from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from validate_docbr import CNPJ, CPF

from panel.domain import audit
from panel.domain.common import Actor, DomainError, check_all
from panel.domain.contracts import schedule_login_update, synced_with_login
from panel.extensions import db
from panel.formats import digits
from panel.inputs import without_control_characters
from panel.models import Client, ClientKind, Contract

UFS = (
    "AC",
    "AL",
    "AM",
    "AP",
    "BA",
    "CE",
    "DF",
    "ES",
    "GO",
    "MA",
    "MG",
    "MS",
    "MT",
    "PA",
    "PB",
    "PE",
    "PI",
    "PR",
    "RJ",
    "RN",
    "RO",
    "RR",
    "RS",
    "SC",
    "SE",
    "SP",
    "TO",
)
LANDING_SIZE = 1000  # "Últimos 1000 novos cadastros ativos", as in the ERP


@dataclass(frozen=True)
class ClientData:
    """What the *Pessoas / Empresas* form collects (as typed; the checks clean it)."""

    kind: str
    name: str
    document: str
    email: str = ""
    phone: str = ""
    zipcode: str = ""
    street: str = ""
    number: str = ""
    complement: str = ""
    city: str = ""
    state: str = ""
    active: bool = True


# -- checks ---------------------------------------------------------------------------------


def _kind(value: str) -> ClientKind:
    try:
        return ClientKind(value or "")
    except ValueError:
        raise DomainError("Escolha pessoa física ou empresa.", "kind") from None


def check_document(kind: ClientKind, typed: str, client: Client | None = None) -> str:
    """The CPF (pessoa física) or CNPJ (empresa) as digits, check digits verified, not taken."""
    label = kind.document_label
    value = digits(typed)
    if not value:
        raise DomainError(f"Informe o {label}.", "document")
    size, checker = (11, CPF()) if kind is ClientKind.pf else (14, CNPJ())
    if len(value) != size:
        raise DomainError(f"O {label} tem {size} dígitos.", "document")
    if not checker.validate(value):
        raise DomainError(f"{label} inválido: confira os dígitos.", "document")
    query = select(Client.id).where(Client.document == value)
    if client is not None:
        query = query.where(Client.id != client.id)
    if db.session.scalar(query) is not None:
        raise DomainError(f"Já existe um cliente com este {label}.", "document")
    return value


def check_email(typed: str) -> str:
    text = (typed or "").strip()
    if not text:
        return ""
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError("E-mail inválido (ex.: nome@provedor.com.br).", "email") from None


def _text(typed: str, field: str, label: str, limit: int, *, required: bool = False) -> str:
    text = " ".join((typed or "").split())
    if required and not text:
        raise DomainError(f"Informe {label}.", field)
    if len(text) > limit:
        raise DomainError(f"{label[0].upper()}{label[1:]}: no máximo {limit} caracteres.", field)
    return text


def _phone(typed: str) -> str:
    value = digits(typed)
    if value and len(value) not in (10, 11):
        raise DomainError("Informe o telefone com DDD (10 ou 11 dígitos).", "phone")
    return value


def _zipcode(typed: str) -> str:
    value = digits(typed)
    if value and len(value) != 8:
        raise DomainError("O CEP tem 8 dígitos.", "zipcode")
    return value


def _state(typed: str) -> str:
    value = (typed or "").strip().upper()
    if value and value not in UFS:
        raise DomainError("Escolha a UF.", "state")
    return value


def _clean(data: ClientData, client: Client | None) -> dict:
    kind = _kind(data.kind)
    name_label = "o nome" if kind is ClientKind.pf else "a razão social"
    name, document, email, phone, zipcode, street, number, complement, city, state = check_all(
        lambda: _text(data.name, "name", name_label, 120, required=True),
        lambda: check_document(kind, data.document, client),
        lambda: check_email(data.email),
        lambda: _phone(data.phone),
        lambda: _zipcode(data.zipcode),
        lambda: _text(data.street, "street", "o endereço", 120),
        lambda: _text(data.number, "number", "o número", 20),
        lambda: _text(data.complement, "complement", "o complemento", 60),
        lambda: _text(data.city, "city", "a cidade", 80),
        lambda: _state(data.state),
    )
    return {
        "kind": kind.value,
        "name": name,
        "search_name": search_key(name),
        "document": document,
        "email": email,
        "phone": phone,
        "zipcode": zipcode,
        "street": street,
        "number": number,
        "complement": complement,
        "city": city,
        "state": state,
        "active": bool(data.active),
    }


# -- saving ---------------------------------------------------------------------------------


def search_key(text: str) -> str:
    """Lowercase, without accents: how names are compared in a search."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _snapshot(client: Client) -> dict:
    values = {field: getattr(client, field) for field in asdict(ClientData("", "", ""))}
    values["client_kind"] = values.pop("kind")  # "kind" names a platform's adapter in the audit
    return values


@contextmanager
def _saving():
    """Flush what the block writes; the same document registered at the same moment by someone
    else (caught by the unique key) reads as the check's refusal (the caller rolls back)."""
    try:
        yield
        db.session.flush()
    except IntegrityError:
        raise DomainError("Já existe um cliente com este documento.", "document") from None


def create_client(actor: Actor, data: ClientData) -> Client:
    client = Client(**_clean(data, None))
    with _saving():
        db.session.add(client)
        db.session.flush()
        audit.record(
            actor,
            "client.created",
            f"Cadastrou o cliente {client.name}.",
            target=client,
            changes={key: [None, value] for key, value in _snapshot(client).items() if value not in ("", None)},
        )
    return client


def update_client(actor: Actor, client: Client, data: ClientData) -> Client:
    """Change a client's register. A new e-mail or document reaches every platform where a
    contract of theirs is synced and they log in with it (the login-data update is scheduled
    here, with the change)."""
    cleaned = _clean(data, client)
    if cleaned["kind"] != client.kind:
        raise DomainError("O tipo do cadastro não muda: cadastre a empresa ou a pessoa à parte.", "kind")
    login_fields = [field for field in ("email", "document") if cleaned[field] != getattr(client, field)]
    if "email" in login_fields and not cleaned["email"] and synced_with_login(client):
        raise DomainError(
            "Este cliente tem contrato sincronizado em plataforma com login: o e-mail não pode ficar vazio.", "email"
        )
    before = _snapshot(client)
    with _saving():
        for key, value in cleaned.items():
            setattr(client, key, value)
        changes = audit.diff(before, _snapshot(client))
        if not changes:
            return client
        audit.record(
            actor, "client.updated", f"Alterou o cadastro do cliente {client.name}.", target=client, changes=changes
        )
        if login_fields:
            schedule_login_update(actor, client, login_fields)
    return client


# -- reading --------------------------------------------------------------------------------


def containing(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def matching(text: str) -> tuple[list, int | None]:
    """The search rules every client search shares: conditions on the client (name or e-mail
    containing ``text``, CPF/CNPJ starting with its digits), and the short number it may be (a
    client's code or a contract's number), for the caller to match where it can."""
    conditions = [
        Client.search_name.like(containing(search_key(text)), escape="\\"),
        Client.email.ilike(containing(text), escape="\\"),
    ]
    number = digits(text)
    short = None
    if number and len(number) >= len(text.replace(" ", "")) - 4:  # mostly digits: a document or contract
        if len(number) >= 5:  # fewer digits would match half the documents
            conditions.append(Client.document.startswith(number))
        if len(number) <= 9:
            short = int(number)
    return conditions, short


def latest_active(*, before_id: int | None = None, limit: int = LANDING_SIZE) -> list[Client]:
    """The newest active registers, newest first; ``before_id`` continues after a page (keyset:
    no OFFSET, no COUNT)."""
    query = select(Client).where(Client.active).order_by(Client.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Client.id < before_id)
    return list(db.session.scalars(query))


def search(text: str, *, before_id: int | None = None, limit: int = 100) -> list[Client]:
    """Clients (active or not) whose name or e-mail contains ``text``, whose CPF/CNPJ starts
    with its digits, whose code is ``text`` or who hold the contract numbered ``text``; newest
    first, keyset-paged."""
    text = " ".join(without_control_characters(text).split())  # NUL: PostgreSQL refuses it
    if not text:
        return []
    conditions, number = matching(text)
    if number is not None:  # the client's code, or a contract's number
        conditions.append(Client.id == number)
        conditions.append(Client.id.in_(select(Contract.client_id).where(Contract.id == number)))
    query = select(Client).where(or_(*conditions)).order_by(Client.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Client.id < before_id)
    return list(db.session.scalars(query))
