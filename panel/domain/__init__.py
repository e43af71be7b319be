"""Business rules. Functions here take objects, data and an explicit actor; they change the
database, write the audit/history line with the change and commit (one transaction per
function). They never render, never read the Flask request and never call a platform."""

from panel.domain.common import Actor, DomainError

__all__ = ["Actor", "DomainError"]
