"""Tables, one module per aggregate. Importing this package registers every model with the
metadata (Alembic's autogenerate and `flask db check` read it from here)."""

from panel.models.audit import AuditEvent
from panel.models.billing_rule import BillingRule, RuleAction, RuleType
from panel.models.client import Client, ClientKind
from panel.models.contract import BlockOrigin, Contract, ContractEvent, ContractStatus, ListTab, Subscription
from panel.models.invoice import Invoice
from panel.models.licence import AccessChange, LicenceMember, LicenceSnapshot, SubscriptionTabDelta
from panel.models.operation import Operation, OperationKind, OperationStatus
from panel.models.outbox import OutboxRow, OutboxStatus
from panel.models.plan import CompositionMode, Plan, PlanComponent, PlanType, plan_products
from panel.models.platform import BillingMode, Platform, PlatformTask, Product, TaskKind, TaskStatus
from panel.models.reconciliation import (
    DifferenceKind,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationTrigger,
    Resolution,
)
from panel.models.regua import ReguaRun, ReguaTrigger
from panel.models.user import Role, User

__all__ = [
    "AccessChange",
    "LicenceMember",
    "LicenceSnapshot",
    "SubscriptionTabDelta",
    "AuditEvent",
    "BlockOrigin",
    "ReguaRun",
    "DifferenceKind",
    "ReconciliationDifference",
    "ReconciliationRun",
    "ReconciliationTrigger",
    "Resolution",
    "ReguaTrigger",
    "BillingMode",
    "BillingRule",
    "Client",
    "ClientKind",
    "CompositionMode",
    "Contract",
    "ContractEvent",
    "ContractStatus",
    "Invoice",
    "ListTab",
    "Operation",
    "OperationKind",
    "OperationStatus",
    "OutboxRow",
    "OutboxStatus",
    "Subscription",
    "Plan",
    "PlanComponent",
    "PlanType",
    "Platform",
    "PlatformTask",
    "Product",
    "Role",
    "RuleAction",
    "RuleType",
    "TaskKind",
    "TaskStatus",
    "User",
    "plan_products",
]
