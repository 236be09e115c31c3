"""Idempotency keys: the same request for the same Invoice always carries the same key.

Stripe replays the first answer to a repeated key instead of acting twice, for 24 hours, and refuses a
key reused with other parameters. So a key is made of our ids (which object, which step, which line)
plus a digest of the parameters: a retry, a rerun after a crash, or a second operator process sends the
same key for the same content, and different content never collides with an earlier key. The Stripe ids
a request refers to (its customer, its invoice) stay out of the digest: the key says what we mean to
create, from our objects alone, whichever run happened to create the Stripe objects it hangs on::

    chargeops:2f0c…-uid:item:3:5d41402abc4b
    chargeops:<uid>:<step>[:<index>]:<digest of the parameters>

Past the 24 hours, ``invoices`` finds what an earlier run made by our ids in its metadata instead.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

PREFIX = "chargeops"

# Parameters that hold ids Stripe assigned, left out of the digest.
STRIPE_ID_PARAMS = frozenset({"customer", "invoice"})

# Twelve hex digits (48 bits) tell apart the few contents one step of one invoice can ever have.
_DIGEST_HEX = 12


def key(uid: str, step: str, *, params: Mapping[str, Any], index: int | None = None) -> str:
    """The key of one request: ``chargeops:<uid>:<step>[:<index>]:<digest of params>``."""
    parts = [PREFIX, uid, step, *([] if index is None else [str(index)]), digest(params)]
    return ":".join(parts)


def digest(params: Mapping[str, Any]) -> str:
    """A short digest of request parameters, but for Stripe's ids, that does not depend on key order."""
    ours = {name: value for name, value in params.items() if name not in STRIPE_ID_PARAMS}
    canonical = json.dumps(ours, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:_DIGEST_HEX]
