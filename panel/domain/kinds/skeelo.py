"""Skeelo, the fornecedor of the seeds: SVA (ebooks), a subscriber is active, blocked or
cancelled (no partial block), and cancelling is final."""

from panel.domain.kinds.base import PlatformKind
from panel.domain.vocabulary import AccessStatus
from panel.models import PlanType

SKEELO = PlatformKind(
    name="skeelo",
    label="Skeelo",
    role_label="fornecedor",
    plan_type=PlanType.sva,
    supported_statuses=frozenset({AccessStatus.ACTIVE, AccessStatus.BLOCKED, AccessStatus.CANCELLED}),
)
