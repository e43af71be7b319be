"""The contract transitions, explored: no sequence of actions reaches a state the seeds' rules
forbid. First on the pure table (thousands of sequences), then through the domain functions on
the real database (fewer, slower), where the rules that need the database (one synced ITTV
contract per client) and the one-transaction bookkeeping are checked too."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from panel.domain import DomainError
from panel.domain import contracts as contracts_domain
from panel.domain.contract_rules import ContractAction, PlatformTraits, State, allowed, decide
from panel.domain.kinds.ittv import ITTV as IttvProvider
from panel.domain.kinds.skeelo import SKEELO as SkeeloProvider
from panel.domain.vocabulary import AccessStatus
from panel.extensions import db
from panel.models import Contract, ContractEvent, ContractStatus, ListTab, Operation, OperationKind, Subscription
from tests.factories import SYSTEM, ittv_plan, make_client, make_contract

ITTV = PlatformTraits("ITTV", IttvProvider.supported_statuses, IttvProvider.reactivation_needs_unblock)
SKEELO = PlatformTraits("Skeelo", SkeeloProvider.supported_statuses, SkeeloProvider.reactivation_needs_unblock)
NEW = State(ContractStatus.active, None)
actions = st.sampled_from(list(ContractAction))


def check_invariants(state: State, traits: PlatformTraits) -> None:
    contract, desired = state.contract, state.desired
    assert desired is None or desired in traits.supported
    if contract is ContractStatus.suspended:
        assert desired in (None, AccessStatus.BLOCKED)  # a suspended contract's subscriber is blocked
    if contract is ContractStatus.cancelled:
        assert desired in (None, AccessStatus.CANCELLED)
    if desired in (AccessStatus.ACTIVE, AccessStatus.PARTIAL_BLOCK):
        assert contract is ContractStatus.active
    if desired is AccessStatus.CANCELLED:
        assert contract is ContractStatus.cancelled


@settings(max_examples=2000, deadline=None)
@given(traits=st.sampled_from([ITTV, SKEELO]), steps=st.lists(actions, max_size=25))
def test_no_sequence_of_actions_breaks_the_rules(traits, steps):
    state = NEW
    for action in steps:
        try:
            outcome = decide(state, action, traits)
        except DomainError as refusal:
            assert refusal.message  # refused with words for the operator; the state stays
            assert action not in allowed(state, traits)
            continue
        before, state = state, outcome.state
        check_invariants(state, traits)
        # The platform hears of a change exactly when its subscriber's desired status changes
        # (or when the operator syncs).
        if action is ContractAction.sync:
            assert outcome.operation is OperationKind.sync
        elif before.desired is not None and state.desired != before.desired:
            assert outcome.operation is OperationKind.set_status
        else:
            assert outcome.operation is None
        # A suspended contract comes back to active only by Cancelar suspensão.
        if before.contract is ContractStatus.suspended and state.contract is ContractStatus.active:
            assert action is ContractAction.reactivate
        # Cancelled is final.
        if before.contract is ContractStatus.cancelled:
            pytest.fail("a cancelled contract accepted an action")


@given(traits=st.sampled_from([ITTV, SKEELO]), steps=st.lists(actions, max_size=25), action=actions)
@settings(max_examples=500, deadline=None)
def test_a_cancelled_contract_refuses_every_action(traits, steps, action):
    state = NEW
    for step in steps + [ContractAction.cancel]:
        with contextlib.suppress(DomainError):
            state = decide(state, step, traits).state
    assert state.contract is ContractStatus.cancelled
    with pytest.raises(DomainError, match="cancelado"):
        decide(state, action, traits)


def test_reactivation_at_ittv_waits_for_the_unblock_and_at_skeelo_does_not():
    suspended = State(ContractStatus.suspended, AccessStatus.BLOCKED)
    ittv = decide(suspended, ContractAction.reactivate, ITTV)
    assert ittv.state == State(ContractStatus.active, AccessStatus.BLOCKED) and ittv.operation is None
    assert decide(ittv.state, ContractAction.unblock, ITTV).state.desired is AccessStatus.ACTIVE
    skeelo = decide(suspended, ContractAction.reactivate, SKEELO)
    assert skeelo.state == State(ContractStatus.active, AccessStatus.ACTIVE)
    assert skeelo.operation is OperationKind.set_status


def test_partial_block_exists_only_where_the_platform_has_it():
    synced = State(ContractStatus.active, AccessStatus.ACTIVE)
    assert decide(synced, ContractAction.partial_block, ITTV).state.desired is AccessStatus.PARTIAL_BLOCK
    with pytest.raises(DomainError, match="Skeelo não tem bloqueio parcial"):
        decide(synced, ContractAction.partial_block, SKEELO)


# -- through the domain functions, on the database ----------------------------------------


class ContractsOfOneClient(RuleBasedStateMachine):
    """Two ITTV contracts of one client, driven by random actions through ``contracts.act``."""

    app = None  # set by the test

    @initialize()
    def setup(self):
        app = self.app
        client_id = make_client(app, email="cliente@example.com.br")
        plan_id = ittv_plan(app)
        self.contract_ids = [make_contract(app, client_id, plan_id) for _ in range(2)]
        self.accepted = 0
        self.cancelled_before: set[int] = set()

    def teardown(self):
        # Each run starts from an empty database, as each test does.
        with self.app.app_context():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()

    @rule(which=st.integers(0, 1), action=actions)
    def act(self, which, action):
        contract_id = self.contract_ids[which]
        with self.app.app_context():
            contract = db.session.get(Contract, contract_id)
            was_cancelled = contract.status == ContractStatus.cancelled.value
            events = _count(ContractEvent)
            try:
                contracts_domain.act(SYSTEM, contract, action)
            except DomainError:
                db.session.rollback()
                assert _count(ContractEvent) == events  # a refusal leaves no trace
                return
            assert not was_cancelled, "a cancelled contract accepted an action"
            assert _count(ContractEvent) == events + 1  # one history line per accepted action
            self.accepted += 1

    @invariant()
    def rules_hold(self):
        if not hasattr(self, "contract_ids"):
            return
        with self.app.app_context():
            contracts = [db.session.get(Contract, cid) for cid in self.contract_ids]
            for contract in contracts:
                check_invariants(contracts_domain.state_of(contract), ITTV)
                for operation in db.session.scalars(
                    db.select(Operation).join(Subscription).where(Subscription.contract_id == contract.id)
                ):
                    assert operation.status == "queued"  # handed to the queue; no worker in these tests
                subscription = contract.subscription
                if subscription is not None:  # the Integradores tab follows the contract and the access
                    assert subscription.list_tab == ListTab.of(contract.status, subscription.desired_status).value
            # ITTV: at most one synced, not cancelled contract of the client.
            live = [c for c in contracts if c.subscription is not None and c.status != "cancelled"]
            assert len(live) <= 1


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_domain_actions_keep_the_rules_on_the_database(app):
    ContractsOfOneClient.app = app
    run_state_machine_as_test(
        ContractsOfOneClient,
        settings=settings(
            max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
