"""One module per OCPP action the gateway answers, each with ``async def handle(ctx, payload)``.

The session classes in ``chargeops.ocpp_gateway.session`` are one-line adapters onto these. A handler
gets the payload as the ``ocpp`` library passes it (snake_case keys, nested objects as dicts, already
schema-validated), parses it into a typed model first, and returns the library's ``call_result``. A
business "no" is a normal result; a malformed request raises an ``ocpp.exceptions`` class.
"""
