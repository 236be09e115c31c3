"""The energy meter of a simulated connector and the power an EV draws from it: pure integer arithmetic.

``sessions`` advances a ``MeterRegister`` by the power a ``PowerProfile`` gives for each sample interval, and
the readings go out as Energy.Active.Import.Register in MeterValues / TransactionEvent. Billing on the other
side trusts that a register only grows and that a session's energy is meterStop - meterStart, so both hold
here by construction: energy is integer watt-milliseconds, converted to whole Wh with the remainder carried
to the next step, never rounded away (hypothesis checks it in ``tests/unit/simulator``).
"""

from dataclasses import dataclass, field

# One Wh is 3,600 J, i.e. 3,600,000 W·ms; the register shows whole Wh (OCPP's default unit for the register).
_WMS_PER_WH = 3_600_000


@dataclass
class MeterRegister:
    """A cumulative energy register in Wh that carries the sub-Wh remainder between steps."""

    energy_wh: int = 0
    """The reading shown: Energy.Active.Import.Register in Wh."""

    _residual_wms: int = field(default=0, repr=False)

    def advance(self, *, power_w: int, elapsed_ms: int) -> int:
        """Deliver ``power_w`` for ``elapsed_ms``; return by how many Wh the reading went up."""
        if power_w < 0 or elapsed_ms < 0:
            raise ValueError(f"power and time must not be negative, got {power_w} W for {elapsed_ms} ms")
        added_wh, self._residual_wms = divmod(self._residual_wms + power_w * elapsed_ms, _WMS_PER_WH)
        self.energy_wh += added_wh
        return added_wh


@dataclass(frozen=True)
class PowerProfile:
    """How much power an EV draws over a session: a ramp up, a plateau, a taper as its battery fills."""

    max_power_w: int = 11_000
    """Plateau power: 11 kW is a three-phase 16 A wallbox."""

    energy_need_wh: int = 30_000
    """What the EV takes before it stops drawing (SuspendedEV); 30 kWh is half of a typical battery."""

    ramp_s: int = 30
    """Seconds from the start of charging to full power (the EV's contactor and current ramp)."""

    taper_from_percent: int = 80
    """Share of ``energy_need_wh`` after which power falls linearly, as constant-voltage charging does."""

    min_taper_percent: int = 10
    """Lowest power during the taper, in percent of ``max_power_w``, until the need is met."""

    def power_w(self, *, elapsed_s: int, delivered_wh: int) -> int:
        """The power drawn ``elapsed_s`` into charging with ``delivered_wh`` already in the battery."""
        if delivered_wh >= self.energy_need_wh:
            return 0
        power = self.max_power_w
        if elapsed_s < self.ramp_s:
            power = self.max_power_w * max(elapsed_s, 1) // self.ramp_s
        taper_from_wh = self.energy_need_wh * self.taper_from_percent // 100
        if delivered_wh > taper_from_wh:
            left_wh = self.energy_need_wh - delivered_wh
            tapered = self.max_power_w * left_wh // max(self.energy_need_wh - taper_from_wh, 1)
            power = min(power, max(tapered, self.max_power_w * self.min_taper_percent // 100))
        return power

    def is_full(self, delivered_wh: int) -> bool:
        """Whether the EV has taken all it wants (the connector goes SuspendedEV)."""
        return delivered_wh >= self.energy_need_wh
