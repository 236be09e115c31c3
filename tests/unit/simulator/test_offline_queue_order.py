"""The transaction queue sends in order and gives offline-started 1.6 transactions their real id (§3.7)."""

import pytest

from chargeops.simulator.errors import UnknownTransactionError
from chargeops.simulator.offline import TransactionQueue


def deliver_all(queue: TransactionQueue, *, next_id: int) -> list[tuple[str, int | None]]:
    """Send the queue as the outbox does, the central system numbering starts from ``next_id``."""
    sent = []
    while (message := queue.head()) is not None:
        payload = queue.wire_payload(message)
        sent.append((message.action, payload.get("transaction_id")))
        if message.starts_transaction:
            queue.delivered(message, transaction_id=next_id)
            sent[-1] = (message.action, next_id)
            next_id += 1
        else:
            queue.delivered(message)
    return sent


def test_messages_made_offline_get_the_id_their_start_was_given() -> None:
    queue = TransactionQueue()
    first, second = queue.new_ref(), queue.new_ref()
    queue.append("StartTransaction", {"connector_id": 1}, local_ref=first, starts_transaction=True, offline=True)
    queue.append("MeterValues", {"transaction_id": 0}, local_ref=first, offline=True)
    queue.append("StopTransaction", {"transaction_id": 0}, local_ref=first, ends_transaction=True, offline=True)
    queue.append("StartTransaction", {"connector_id": 1}, local_ref=second, starts_transaction=True, offline=True)
    queue.append("MeterValues", {"transaction_id": 0}, local_ref=second, offline=True)
    queue.append("StopTransaction", {"transaction_id": 0}, local_ref=second, ends_transaction=True, offline=True)

    assert deliver_all(queue, next_id=41) == [
        ("StartTransaction", 41),
        ("MeterValues", 41),
        ("StopTransaction", 41),
        ("StartTransaction", 42),
        ("MeterValues", 42),
        ("StopTransaction", 42),
    ]


def test_messages_keep_the_order_they_were_made_in() -> None:
    queue = TransactionQueue()
    for n in range(5):
        queue.append("MeterValues", {"n": n})
    assert [message.seq for message in queue] == [0, 1, 2, 3, 4]
    assert [message.payload["n"] for message in queue] == [0, 1, 2, 3, 4]


def test_only_the_head_can_be_acknowledged() -> None:
    queue = TransactionQueue()
    queue.append("MeterValues", {})
    second = queue.append("MeterValues", {})
    with pytest.raises(ValueError, match="not at the head"):
        queue.delivered(second)


def test_a_message_cannot_be_sent_before_its_start_was_answered() -> None:
    queue = TransactionQueue()
    ref = queue.new_ref()
    sample = queue.append("MeterValues", {"transaction_id": 0}, local_ref=ref)
    with pytest.raises(UnknownTransactionError):
        queue.wire_payload(sample)


def test_dropping_a_start_drops_its_transaction_but_not_others() -> None:
    queue = TransactionQueue()
    doomed, other = queue.new_ref(), queue.new_ref()
    head = queue.append("StartTransaction", {}, local_ref=doomed, starts_transaction=True)
    queue.append("StartTransaction", {}, local_ref=other, starts_transaction=True)
    queue.append("MeterValues", {"transaction_id": 0}, local_ref=doomed)
    queue.append("StopTransaction", {"transaction_id": 0}, local_ref=doomed, ends_transaction=True)
    dropped = queue.discard(head)
    assert [(m.action, m.local_ref) for m in dropped] == [
        ("StartTransaction", doomed),
        ("MeterValues", doomed),
        ("StopTransaction", doomed),
    ]
    assert [(m.action, m.local_ref) for m in queue] == [("StartTransaction", other)]


def test_the_real_id_is_forgotten_once_the_transaction_ended() -> None:
    queue = TransactionQueue()
    ref = queue.new_ref()
    deliver = queue.append("StartTransaction", {}, local_ref=ref, starts_transaction=True)
    queue.delivered(deliver, transaction_id=7)
    assert queue.transaction_id(ref) == 7
    stop = queue.append("StopTransaction", {"transaction_id": 0}, local_ref=ref, ends_transaction=True)
    assert queue.wire_payload(stop)["transaction_id"] == 7
    queue.delivered(stop)
    assert queue.transaction_id(ref) is None


def test_an_acknowledged_start_needs_its_transaction_id() -> None:
    queue = TransactionQueue()
    head = queue.append("StartTransaction", {}, local_ref=queue.new_ref(), starts_transaction=True)
    with pytest.raises(ValueError, match="transaction id"):
        queue.delivered(head)


def test_a_full_queue_thins_periodic_samples_but_keeps_starts_and_stops() -> None:
    queue = TransactionQueue(capacity=4)
    ref = queue.new_ref()
    queue.append("StartTransaction", {}, local_ref=ref, starts_transaction=True)
    for n in range(6):
        queue.append("MeterValues", {"n": n}, local_ref=ref)
    queue.append("StopTransaction", {}, local_ref=ref, ends_transaction=True)
    actions = [(m.action, m.payload.get("n")) for m in queue]
    assert actions[0] == ("StartTransaction", None)
    assert actions[-1] == ("StopTransaction", None)
    assert [n for action, n in actions if action == "MeterValues"] == [4, 5]  # the newest samples survive
    assert queue.thinned == 4
