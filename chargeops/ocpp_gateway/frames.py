"""CallErrors for frames the ``ocpp`` library cannot route, and error codes in each version's spelling.

The library logs an unparsable frame and answers nothing, which leaves a charger waiting for its
timeout. OCPP-J says otherwise (1.6 §4.2.3, 2.0.1 Part 4 §4.2.3): answer with a CALLERROR, using the
frame's message id when one can be read and "-1" when not. The two versions also spell two codes
differently (1.6 "FormationViolation" and "OccurenceConstraintViolation"); the library uses the 2.0.1
spelling everywhere, so replies on a 1.6 connection are translated.
"""

import json

from ocpp.exceptions import OCPPError
from ocpp.messages import CallError

from chargeops.api.v1alpha1 import OcppVersion

UNKNOWN_MESSAGE_ID = "-1"
CALL = 2

_V16_SPELLING = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}
_V201_SPELLING = {v16: v201 for v201, v16 in _V16_SPELLING.items()}
# 2.0.1 names its own codes for a frame that is not RPC at all, or of a type it does not know.
_FRAME_ERROR = {OcppVersion.V16: "FormationViolation", OcppVersion.V201: "RpcFrameworkError"}
_UNKNOWN_TYPE = {OcppVersion.V16: "FormationViolation", OcppVersion.V201: "MessageTypeNotSupported"}


def spelled_for(code: str, version: OcppVersion) -> str:
    """``code`` as ``version`` spells it."""
    return (_V16_SPELLING if version is OcppVersion.V16 else _V201_SPELLING).get(code, code)


def error_for_unroutable(raw: str | bytes, error: OCPPError, version: OcppVersion) -> str | None:
    """The CALLERROR answering a frame ``unpack`` refused, or None when the frame was a reply (never
    answered: OCPP-J forbids answering a CALLRESULT or CALLERROR)."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _call_error(UNKNOWN_MESSAGE_ID, _FRAME_ERROR[version], "Frame is not valid JSON.")
    if not isinstance(frame, list) or not frame:
        return _call_error(UNKNOWN_MESSAGE_ID, _FRAME_ERROR[version], "Frame is not a JSON array.")
    message_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else UNKNOWN_MESSAGE_ID
    if frame[0] not in (2, 3, 4):
        return _call_error(message_id, _UNKNOWN_TYPE[version], f"MessageTypeId {frame[0]!r} is not 2, 3 or 4.")
    if frame[0] != CALL:
        return None
    code = spelled_for(getattr(error, "code", "FormatViolation"), version)
    return _call_error(message_id, code, "Frame does not have the shape [2, messageId, action, payload].")


def malformed_call(message_id: object, action: object, payload: object, version: OcppVersion) -> str | None:
    """A CALLERROR for a CALL that unpacked but is not well formed (id not a string, payload not an
    object), or None when it is well formed."""
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= 36:
        return _call_error(UNKNOWN_MESSAGE_ID, _FRAME_ERROR[version], "messageId must be a string of 1-36 characters.")
    if not isinstance(action, str):
        return _call_error(message_id, spelled_for("FormatViolation", version), "action must be a string.")
    if not isinstance(payload, dict):
        return _call_error(message_id, spelled_for("FormatViolation", version), "payload must be a JSON object.")
    return None


def translate(message: str, version: OcppVersion) -> str:
    """An outgoing frame with any CallError code spelled for ``version``; other frames unchanged."""
    if not message.startswith("[4"):
        return message
    frame = json.loads(message)
    spelled = spelled_for(frame[2], version)
    if spelled == frame[2]:
        return message
    frame[2] = spelled
    return json.dumps(frame, separators=(",", ":"))


def error_code(message: str) -> str:
    """The error code of an outgoing CALLERROR frame."""
    return str(json.loads(message)[2])


def _call_error(message_id: str, code: str, description: str) -> str:
    return str(CallError(message_id, code, description, {}).to_json())
