"""Column helpers shared by every model."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Enum, event
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator


class LabelledEnum(enum.StrEnum):
    """A word we store, with the word operators read for it, declared together:
    ``ACTIVE = "active", "Ativo"``. Members are strings (they compare equal to the stored value)."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def enum_column(enum_class: type[enum.Enum], length: int = 16) -> Enum:
    """A column that holds ``enum_class``'s values as plain text (no database enum type: a new
    member needs no migration) and reads them back as members; a stored word assigned to it
    ("active") becomes its member at once (``_members_on_set``)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


@event.listens_for(Mapper, "mapper_configured")
def _members_on_set(mapper: Mapper, class_) -> None:
    for attribute in mapper.column_attrs:
        column_type = attribute.columns[0].type
        enum_class = getattr(column_type, "enum_class", None)
        if isinstance(column_type, Enum) and enum_class is not None:
            event.listen(attribute.class_attribute, "set", _as_member(enum_class), retval=True)


def _as_member(enum_class: type[enum.Enum]):
    def coerce(_target, value, _old, _initiator):
        return enum_class(value) if isinstance(value, str) and not isinstance(value, enum_class) else value

    return coerce


def utcnow() -> datetime:
    return datetime.now(UTC)


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
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


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
