"""Simulated chargers: OCPP 1.6J and 2.0.1 charge points on the ``ocpp`` library, one or thousands at a time.

They are the gateway's counterpart in tests, benchmarks and demos (``chargeops simulate``): each boots,
heartbeats, authorizes id tags, runs sessions with plausible meter values, keeps its configuration and local
authorization list as the gateway sets them, and queues transaction messages while offline to deliver them
in order on reconnect. An application package like ``cli``: it exports nothing; callers import its modules.

    fleet          many stations at once, spread over source addresses; aggregate stats
    schedule       when sessions and offline periods happen (pure), and the driver that makes them happen
    station        one charger's connection loop, boot, heartbeat, and the controls tests drive
    station_config StationConfig, and assembling a 1.6 or 2.0.1 charger from it
    link           one websocket: the ocpp ChargePoint on it, calls that fail fast when it drops
    sessions       authorize, start, sample, stop
    outbox         delivering the transaction queue in order while connected
    v16, v201      the ocpp ChargePoint handlers answering the gateway, per version
    v16_dialect, v201_dialect   the messages each version makes (``dialect.Dialect``)
    state          what a charger holds; the seams between the parts above
    configuration  1.6 configuration keys      device_model  2.0.1 variables
    local_list     local authorization list    offline       the transaction queue (pure)
    meter          register and power profile (pure)         clock  simulated time
"""
