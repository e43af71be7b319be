"""Tables, one module per aggregate. Importing this package registers every model with the
metadata (Alembic's autogenerate and `flask db check` read it from here)."""

from panel.models.audit import AuditEvent
from panel.models.user import Role, User

__all__ = ["AuditEvent", "Role", "User"]
