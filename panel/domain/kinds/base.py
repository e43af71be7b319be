"""What a platform *is*, apart from how we talk to it over HTTP (its adapter, panel.providers):
how operators call it, which plans it serves, which access statuses it can hold, and the seeds'
rules that come with it. The domain reads kinds, never adapters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from panel.domain.vocabulary import AccessStatus, PlanProducts
from panel.models import PlanType


@dataclass(frozen=True)
class Credential:
    """One secret field a platform account needs (stored encrypted, never shown back)."""

    name: str  # the form field, and the key in the stored secrets
    label: str  # how Configurações asks for it


TOKEN = Credential("token", "Token")
CREDENTIAL_SEPARATOR = ":"


@dataclass(frozen=True)
class PlatformKind:
    name: str  # stored on each platform row ("ittv")
    label: str  # shown to operators ("ITTV")
    role_label: str  # how the seeds call it: operadora, fornecedor
    plan_type: PlanType  # the access plans it serves: TV/OTT (an operadora) or SVA (a fornecedor)
    supported_statuses: frozenset[AccessStatus]  # the panel offers only these for it
    # Whether subscribers log in with a username and password we set (ITTV does, Skeelo not).
    has_login: bool = False
    # The seeds' rules: one synced contract per client (ITTV finds customers by CPF), and a
    # reactivated contract's subscriber stays blocked until the operator unblocks it.
    one_contract_per_client: bool = False
    reactivation_needs_unblock: bool = False
    credentials: tuple[Credential, ...] = (TOKEN,)
    # The client's fields the platform knows a subscriber by — its login, or its key (Watch's
    # e-mail): a change of one of them is sent there (an update_login operation). None: the
    # login's e-mail and document where there is a login, nothing elsewhere.
    follows_fields: tuple[str, ...] | None = None
    # Why this platform cannot serve a plan's packages (None: it can): a rule of the platform,
    # checked before a plan is saved; no call is made.
    packages_rule: Callable[[PlanProducts], str | None] = field(default=lambda plan: None, repr=False)

    @property
    def has_partial_block(self) -> bool:
        """Whether base packages mean anything here (ITTV's partial block)."""
        return AccessStatus.PARTIAL_BLOCK in self.supported_statuses

    @property
    def followed_fields(self) -> tuple[str, ...]:
        if self.follows_fields is not None:
            return self.follows_fields
        return ("email", "document") if self.has_login else ()

    @property
    def title(self) -> str:
        """'ITTV (operadora)'."""
        return f"{self.label} ({self.role_label})"

    def package_problem(self, plan: PlanProducts) -> str | None:
        return self.packages_rule(plan)

    def pack_credentials(self, values: Mapping[str, str]) -> str:
        """The one secret an account stores (encrypted) and its adapter is given: the token
        itself for a kind with one field; otherwise the fields in their declared order, joined by
        ':' (only the last may hold a ':' — checked when they are saved)."""
        return CREDENTIAL_SEPARATOR.join(values[credential.name] for credential in self.credentials)

    def unpack_credentials(self, secret: str) -> dict[str, str]:
        """The fields of a packed secret (a missing one comes back empty)."""
        parts = secret.split(CREDENTIAL_SEPARATOR, len(self.credentials) - 1)
        parts += [""] * (len(self.credentials) - len(parts))
        return {credential.name: part for credential, part in zip(self.credentials, parts, strict=True)}
