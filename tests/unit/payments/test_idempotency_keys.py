"""Idempotency keys name our objects and digest our content: stable across runs, new for new content."""

from hypothesis import given
from hypothesis import strategies as st

from chargeops.payments import idempotency

UID = "5b0e6c1a-8a4b-4d8e-9a51-0c1f3f7e2a10"
ITEM = {"amount": 1240, "currency": "eur", "description": "Charging", "metadata": {"chargeops_line": "line:0"}}


def test_a_key_names_the_invoice_the_step_and_the_line() -> None:
    key = idempotency.key(UID, "item", index=3, params=ITEM)

    prefix, uid, step, index, digest = key.split(":")
    assert (prefix, uid, step, index) == ("chargeops", UID, "item", "3")
    assert len(digest) == 12


def test_a_key_without_index_has_four_parts() -> None:
    assert idempotency.key(UID, "finalize", params={"auto_advance": True}).count(":") == 3


def test_the_same_content_in_another_order_gets_the_same_key() -> None:
    reordered = dict(reversed(list(ITEM.items())))

    assert idempotency.key(UID, "item", index=0, params=reordered) == idempotency.key(UID, "item", index=0, params=ITEM)


def test_stripe_ids_do_not_change_the_key() -> None:
    with_ids = ITEM | {"customer": "cus_a", "invoice": "in_a"}
    other_ids = ITEM | {"customer": "cus_b", "invoice": "in_b"}

    assert idempotency.key(UID, "item", index=0, params=with_ids) == idempotency.key(
        UID, "item", index=0, params=other_ids
    )


@given(amount=st.integers(), other=st.integers())
def test_different_content_gets_a_different_key(amount: int, other: int) -> None:
    first = idempotency.key(UID, "item", index=0, params=ITEM | {"amount": amount})
    second = idempotency.key(UID, "item", index=0, params=ITEM | {"amount": other})

    assert (first == second) == (amount == other)


def test_keys_stay_within_stripes_limit_of_255_characters() -> None:
    assert len(idempotency.key(UID, "item", index=4999, params=ITEM)) < 255
