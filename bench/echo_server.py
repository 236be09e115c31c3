"""A bare ``websockets`` server that answers every OCPP CALL with an empty CALLRESULT: the ceiling.

``bench/gateway_load.py --echo-baseline`` runs it as a separate process and drives it with the same
saturation load as the gateway. It does what any OCPP server must do at the least (parse the frame,
take its message id, answer) and nothing else: no schema, no handler, no store.

    .venv/bin/python bench/echo_server.py --port 0     # prints "Echo server ready on port N."
"""

import argparse
import asyncio
import json
import resource
import signal

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

CALL = 2


async def answer(connection: ServerConnection) -> None:
    """Answer each CALL on one connection with ``[3, id, {}]``."""
    try:
        async for raw in connection:
            frame = json.loads(raw)
            if frame[0] == CALL:
                await connection.send(json.dumps([3, frame[1], {}], separators=(",", ":")))
    except ConnectionClosed:
        pass


async def main(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serve(
        answer,
        host,
        port,
        subprotocols=[Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1")],
        compression=None,
        ping_interval=None,
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"Echo server ready on port {bound}.", flush=True)
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(args.host, args.port))
