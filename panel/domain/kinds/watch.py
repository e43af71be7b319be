"""Watch Brasil, an OTT sold as SVA (a fornecedor): OAuth client credentials instead of a token,
one *ticket* per package for a subscriber keyed by e-mail; active, blocked (every ticket
inactive) or cancelled (no tickets). No partial block, no login we set."""

from panel.domain.kinds.base import Credential, PlatformKind
from panel.domain.vocabulary import AccessStatus
from panel.models import PlanType

WATCH = PlatformKind(
    name="watch",
    label="Watch Brasil",
    role_label="fornecedor",
    plan_type=PlanType.sva,
    supported_statuses=frozenset({AccessStatus.ACTIVE, AccessStatus.BLOCKED, AccessStatus.CANCELLED}),
    credentials=(Credential("client_id", "Client ID"), Credential("client_secret", "Client secret")),
    follows_fields=("email",),  # the e-mail is the subscriber's key: a new one moves the tickets
)
