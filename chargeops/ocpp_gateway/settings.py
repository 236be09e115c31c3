"""How a gateway process is configured; ``chargeops gateway`` fills this from flags and environment."""

import dataclasses
import os
import socket
from pathlib import Path

from chargeops.ocpp_gateway.errors import GatewayConfigError
from chargeops.ocpp_gateway.store.credentials import MIN_KEY_BYTES

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///chargeops-gateway.db"
# Inbound OCPP frames are small; MeterValues with many samples stay well under this. A larger frame
# closes the connection with 1009 (message too big) rather than exhausting memory.
DEFAULT_MAX_FRAME_BYTES = 256 * 1024
# Several replicas share a PostgreSQL; each renews its lease this often, and a lease not renewed for
# LEASE_RENEWALS intervals has expired: the chargers that replica held read as disconnected.
DEFAULT_LEASE_INTERVAL_S = 5.0
LEASE_RENEWALS = 3
REPLICA_ID_MAX_LENGTH = 128


def default_replica_id() -> str:
    """``<hostname>-<pid>``: unique per process on a host, and a pod's hostname is its name."""
    return f"{socket.gethostname()}-{os.getpid()}"[-REPLICA_ID_MAX_LENGTH:]


@dataclasses.dataclass(frozen=True)
class GatewaySettings:
    """Listen addresses, storage, secrets and timeouts of one gateway process."""

    ocpp_host: str = "0.0.0.0"  # noqa: S104 - chargers reach the gateway from the network by design
    ocpp_port: int = 9000
    control_host: str = "127.0.0.1"
    control_port: int = 9001
    database_url: str = DEFAULT_DATABASE_URL
    api_token: str = ""
    # A second token that may only read (GET): for the portal, which shows sessions and needs no more.
    api_read_token: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    dev_accept_unknown: bool = False
    response_timeout_s: float = 30.0
    # How long a charger waits for its websocket handshake; a password check that could not be answered
    # within it, queue included, is refused with 503 instead of queued (``store.credentials``).
    password_wait_limit_s: float = 10.0
    boot_wait_s: float = 5.0
    # While the event loop runs this late, new chargers are answered 503 with Retry-After (``admission``);
    # None admits every charger. At 50,000 chargers held, the lag's p99 was within 0.1 s; each statement of a
    # PostgreSQL transaction waits about one lag, so a loop this late already holds row locks too long.
    overload_lag_s: float | None = 0.25
    drift_interval_s: float = 600.0
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    ping_interval_s: float | None = 60.0
    # A charger that has not answered a ping this long after it is cut (websockets' keepalive; its default).
    ping_timeout_s: float | None = 20.0
    replica_id: str = dataclasses.field(default_factory=default_replica_id)
    lease_interval_s: float = DEFAULT_LEASE_INTERVAL_S
    # Shared by every replica of one store: verified passwords are then remembered in the store, and a
    # restarted replica checks them without scrypt (``store.credentials``). None: in this process only.
    password_key: str | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise GatewayConfigError("--tls-cert and --tls-key go together: give both or neither")
        if len(self.api_token) < 16:
            raise GatewayConfigError("the control API token must be at least 16 characters")
        if self.api_read_token is not None and len(self.api_read_token) < 16:
            raise GatewayConfigError("the control API read token must be at least 16 characters")
        if self.api_read_token == self.api_token:
            raise GatewayConfigError("the control API read token must differ from the API token")
        if not 1 <= len(self.replica_id) <= REPLICA_ID_MAX_LENGTH:
            raise GatewayConfigError(f"the replica id must be 1 to {REPLICA_ID_MAX_LENGTH} characters")
        if self.overload_lag_s is not None and self.overload_lag_s <= 0:
            raise GatewayConfigError("the overload lag must be positive (or none, to admit every charger)")
        if self.lease_interval_s <= 0:
            raise GatewayConfigError("the lease interval must be positive")
        if self.password_key is not None and len(self.password_key.encode()) < MIN_KEY_BYTES:
            raise GatewayConfigError(f"the password key must be at least {MIN_KEY_BYTES} bytes")

    @property
    def lease_ttl_s(self) -> float:
        """How long a lease runs after a renewal: a replica that missed this many renewals is gone."""
        return self.lease_interval_s * LEASE_RENEWALS

    @property
    def tls(self) -> bool:
        """Whether chargers connect over TLS (security profile 2)."""
        return self.tls_cert is not None
