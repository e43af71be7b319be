"""Column helpers shared by every model."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator


# How operators read the progress of queued work (platform checks and operations alike).
PROGRESS_LABELS = {
    "pending": "Pendente", "queued": "Na fila", "running": "Em execução", "done": "Concluída", "failed": "Falhou",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps the offset; SQLite drops it, so values read back are marked UTC again here
    instead of every caller guessing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; store aware UTC datetimes")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class ScaledDecimal(TypeDecorator):
    """An exact Decimal kept as a whole number of 10^-scale units (cents for scale 2).

    SQLite has no exact decimal type (it would go through float), so every database stores the
    scaled integer; a value with more decimals than the column holds is refused, never rounded.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Decimal | None, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__} (floats are never stored)")
        scaled = value.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect):
        if value is None:
            return None
        return Decimal(value).scaleb(-self.scale)
