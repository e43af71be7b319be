"""The outbox: every request the panel makes of a platform is a row here first — an operator's
request about a subscriber (``Operation``) or about a platform account (``PlatformTask``, *Testar
conexão* / *Sincronizar produtos*). Both share one lifecycle (``panel.domain.outbox``): a status,
attempts, a lease while a worker runs it, and a job id per delivery to the queue. The database is
the truth; a job carries only the row's id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from panel.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow


class OutboxStatus(LabelledEnum):
    pending = "pending", "Pendente"  # recorded, not yet handed to the queue
    queued = "queued", "Na fila"
    running = "running", "Em execução"
    done = "done", "Concluída"
    failed = "failed", "Falhou"

    @property
    def finished(self) -> bool:
        return self in (OutboxStatus.done, OutboxStatus.failed)


WAITING = (OutboxStatus.pending, OutboxStatus.queued)
UNFINISHED = (OutboxStatus.pending, OutboxStatus.queued, OutboxStatus.running)


class OutboxRow:
    """The columns of the shared lifecycle, mixed into each outbox table."""

    # The job that carries row N is "<job_prefix>-N", then "-<deliveries>" after each re-delivery.
    job_prefix: ClassVar[str]

    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)  # times a worker took it up
    # deliveries: times it was handed to the queue again (a retry, a relay re-send); names the
    # job that carries it now (``job_id``)
    deliveries: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # lease_until: while running, when its worker is taken as dead (the relay then sends it again)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def requested_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @property
    def job_id(self) -> str:
        """The id of the job that carries the row now: enqueuing the same job twice is a no-op."""
        return self.job_id_for(self.id, self.deliveries)

    @classmethod
    def job_id_for(cls, row_id: int, deliveries: int) -> str:
        return f"{cls.job_prefix}-{row_id}-{deliveries}" if deliveries else f"{cls.job_prefix}-{row_id}"
