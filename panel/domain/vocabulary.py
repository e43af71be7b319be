"""The words every layer shares: the access a subscriber has at a platform, the packages a plan
gives there, what we tell a platform about a subscriber, and what it tells us back.

The web, the jobs and the adapters all speak these; each adapter (panel.providers) translates them
into its platform's own words and calls. A platform's *kind* — what it can do, how operators call
it — is in panel.domain.kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from panel.models.types import LabelledEnum


class AccessStatus(LabelledEnum):
    """What a subscriber may use at the platform; desired and confirmed states use these words."""

    ACTIVE = "active", "Ativo"
    PARTIAL_BLOCK = "partial_block", "Bloqueio parcial"  # ITTV: only the plan's base packages
    BLOCKED = "blocked", "Bloqueio total"
    CANCELLED = "cancelled", "Cancelado"  # final on platforms that know it; a new contract is needed


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """One entry of a platform's catalogue; ``code`` is the sigla plans refer to."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PlanProducts:
    """The packages a plan gives at one platform, and which of them survive a partial block."""

    codes: tuple[str, ...]
    base_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.codes:
            raise ValueError("a plan needs at least one product at the platform")
        if not set(self.base_codes) <= set(self.codes):
            raise ValueError("base packages must be among the plan's packages")


@dataclass(frozen=True, slots=True)
class SubscriberRef:
    """How we find a subscriber at a platform: our stable reference, the document (ITTV finds
    customers by CPF/CNPJ) and, once known, the platform's own id."""

    external_ref: str
    document: str = field(repr=False)
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriberData:
    """Everything a platform may need to create a subscriber. Personal fields stay out of repr()
    so that a stray log line or traceback cannot print them."""

    external_ref: str
    name: str = field(repr=False)
    document: str = field(repr=False)  # CPF or CNPJ, digits only
    email: str = field(repr=False)
    plan: PlanProducts
    phone: str = field(default="", repr=False)
    zipcode: str = field(default="", repr=False)
    street: str = field(default="", repr=False)
    number: str = field(default="", repr=False)
    complement: str = field(default="", repr=False)
    city: str = field(default="", repr=False)
    state: str = field(default="", repr=False)  # UF
    # Login at platforms that have one (ITTV): by the seed's rule, e-mail and document digits.
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    @property
    def ref(self) -> SubscriberRef:
        return SubscriberRef(self.external_ref, self.document)

    def personal_values(self) -> tuple[str, ...]:
        """Values that must never reach a log line or an error message: every personal field
        a platform may be sent, plus each word of the name and the e-mail's part before the @
        (a platform may quote them apart: "Prezado João"). ``redact`` leaves values shorter
        than three characters alone (the UF, a house number "12")."""
        fields = (
            self.name,
            self.document,
            self.email,
            self.phone,
            self.zipcode,
            self.street,
            self.number,
            self.complement,
            self.city,
            self.state,
            self.username,
            self.password,
        )
        words = re.findall(r"[^\W_]+", self.name)  # 'João "Jota"' → João, Jota
        logins = (value.partition("@")[0] for value in (self.email, self.username) if "@" in value)
        extra = (*words, *logins)
        return tuple(value for value in (*fields, *extra) if value)


@dataclass(frozen=True, slots=True)
class RemoteSubscriber:
    """A subscriber as the platform answered it, in the platform's own words."""

    external_id: str  # the platform's id (ITTV ``_id``, Skeelo ``id``)
    external_ref: str | None  # our reference as the platform keeps it (None where it keeps none)
    document: str = field(repr=False)
    email: str = field(repr=False)
    platform_status: str  # e.g. ACTIVE / INACTIVE (ITTV), active / inactive / cancelled (Skeelo)
    products: tuple[str, ...]
    name: str = field(default="", repr=False)  # where the platform lists it (for reconciliation)

    def personal_values(self) -> tuple[str, ...]:
        """What we know of the person here, masked in what the platform answers about it."""
        local = self.email.partition("@")[0] if "@" in self.email else ""
        return tuple(value for value in (self.document, self.email, local, self.name) if value)
