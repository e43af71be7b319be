"""The platform kinds the panel knows, by name. Adding a platform: its kind here (one module and
one line in ``KINDS``), its adapter in panel.providers, its sandbox (README, "Adding a platform")."""

from __future__ import annotations

from panel.domain.common import DomainError
from panel.domain.kinds.base import TOKEN, Credential, PlatformKind
from panel.domain.kinds.ittv import ITTV
from panel.domain.kinds.skeelo import SKEELO
from panel.domain.kinds.watch import WATCH

KINDS: dict[str, PlatformKind] = {kind.name: kind for kind in (ITTV, SKEELO, WATCH)}


def kind_of(name: str) -> PlatformKind:
    try:
        return KINDS[name]
    except KeyError:
        raise DomainError("Tipo de plataforma desconhecido.", "kind") from None


def kinds_for_plan_type(plan_type: str) -> list[PlatformKind]:
    return [kind for kind in KINDS.values() if kind.plan_type == plan_type]


__all__ = ["KINDS", "TOKEN", "Credential", "PlatformKind", "kind_of", "kinds_for_plan_type"]
