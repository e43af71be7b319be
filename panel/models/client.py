"""Clients (*Pessoas / Empresas*): who contracts the plans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panel.extensions import db
from panel.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow


class ClientKind(LabelledEnum):
    """Pessoa física (CPF) or pessoa jurídica (CNPJ)."""

    pf = "pf", "Pessoa física"
    pj = "pj", "Empresa"

    @property
    def document_label(self) -> str:
        return {ClientKind.pf: "CPF", ClientKind.pj: "CNPJ"}[self]

    @property
    def name_label(self) -> str:
        return {ClientKind.pf: "Nome", ClientKind.pj: "Razão social"}[self]


class Client(db.Model):
    __tablename__ = "clients"
    __table_args__ = (
        CheckConstraint("kind IN ('pf', 'pj')", name="kind_known"),
        # The landing list (newest active first) and its keyset pages read this index only.
        Index("ix_clients_active_id", "active", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ClientKind] = mapped_column(enum_column(ClientKind, 2))
    # name: the person's name or the company's razão social
    name: Mapped[str] = mapped_column(String(120))
    # search_name: the name lowercased and without accents, so "joao" finds "João" on any database
    search_name: Mapped[str] = mapped_column(String(120), default="")
    # document: CPF (11) or CNPJ (14) digits, check digits verified; shown masked
    document: Mapped[str] = mapped_column(String(14), unique=True)
    # email: optional to register, required to sync (ITTV login, Skeelo contact)
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    phone: Mapped[str] = mapped_column(String(11), default="")  # digits, with DDD
    zipcode: Mapped[str] = mapped_column(String(8), default="")  # CEP digits
    street: Mapped[str] = mapped_column(String(120), default="")
    number: Mapped[str] = mapped_column(String(20), default="")
    complement: Mapped[str] = mapped_column(String(60), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(2), default="")  # UF
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contracts: Mapped[list[Contract]] = relationship(  # noqa: F821
        back_populates="client", order_by="Contract.id.desc()"
    )

    def __repr__(self) -> str:
        return f"<Client {self.id}>"  # no personal data in logs
