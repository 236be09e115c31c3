"""How a gateway process is configured; ``chargeops gateway`` fills this from flags and environment."""

import dataclasses
from pathlib import Path

from chargeops.ocpp_gateway.errors import GatewayConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///chargeops-gateway.db"
# Inbound OCPP frames are small; MeterValues with many samples stay well under this. A larger frame
# closes the connection with 1009 (message too big) rather than exhausting memory.
DEFAULT_MAX_FRAME_BYTES = 256 * 1024


@dataclasses.dataclass(frozen=True)
class GatewaySettings:
    """Listen addresses, storage, secrets and timeouts of one gateway process."""

    ocpp_host: str = "0.0.0.0"  # noqa: S104 - chargers reach the gateway from the network by design
    ocpp_port: int = 9000
    control_host: str = "127.0.0.1"
    control_port: int = 9001
    database_url: str = DEFAULT_DATABASE_URL
    api_token: str = ""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    dev_accept_unknown: bool = False
    response_timeout_s: float = 30.0
    # How long a charger waits for its websocket handshake; a password check that could not be answered
    # within it, queue included, is refused with 503 instead of queued (``store.credentials``).
    password_wait_limit_s: float = 10.0
    boot_wait_s: float = 5.0
    drift_interval_s: float = 600.0
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    ping_interval_s: float | None = 60.0

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise GatewayConfigError("--tls-cert and --tls-key go together: give both or neither")
        if len(self.api_token) < 16:
            raise GatewayConfigError("the control API token must be at least 16 characters")

    @property
    def tls(self) -> bool:
        """Whether chargers connect over TLS (security profile 2)."""
        return self.tls_cert is not None
