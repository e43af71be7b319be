"""Business rules, and the words every layer shares (``vocabulary``, ``kinds``). Functions here
take objects, data and an explicit actor; they change the session and write the audit/history
line with the change, then flush — the request, job or command that called them commits (one
commit point per unit of work). They never render, never read the Flask request, never call a
platform and never import jobs or adapters: a request for a platform is an outbox row
(``outbox.deliver``), sent by the jobs layer once its transaction commits."""

from panel.domain.common import Actor, DomainError

__all__ = ["Actor", "DomainError"]
