"""Generated OCPP-J frames for 1.6 and 2.0.1, each with the answer the specification asks for.

A frame is drawn as one of: a well-formed CALL of an action the gateway handles with its payload mutated
(keys dropped or added, values replaced by junk of any JSON type, by huge or unicode strings, by huge
numbers), an unknown or unsupported action, text that is not JSON, JSON that is not an array, an array
with a wrong MessageTypeId, a CALL of the wrong length or with a bad message id, action or payload,
a CALLRESULT or CALLERROR answering nothing, and any of these as a binary frame.

The expected answer is worked out independently of the gateway. For a payload it is the first error
jsonschema finds against the action's official JSON schema, classified by OCPP-J §4.2.3 (1.6) and
Part 4 §4.2.3 (2.0.1); a payload the schema accepts but with an integer beyond 32 bits (OCPP's
integer) gets TypeConstraintViolation, and one that holds a NUL character, where its handler stores
strings, PropertyConstraintViolation (no OCPP string holds one), as does a 1.6 StartTransaction on a
negative connectorId; any other a CALLRESULT. Timestamps are
never replaced by other strings, so which of them a handler parses does not matter here.
"""

import copy
import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any

import ocpp
from hypothesis import strategies as st
from jsonschema import Draft4Validator

V16 = "1.6"
V201 = "2.0.1"
STAMP = "2026-11-27T10:00:00Z"

# The code each version uses where the frame is not RPC at all, or has a MessageTypeId it does not know.
FRAME_ERROR = {V16: "FormationViolation", V201: "RpcFrameworkError"}
UNKNOWN_TYPE = {V16: "FormationViolation", V201: "MessageTypeNotSupported"}
FORMAT = {V16: "FormationViolation", V201: "FormatViolation"}
OCCURRENCE = {V16: "OccurenceConstraintViolation", V201: "OccurrenceConstraintViolation"}

BASES: dict[str, dict[str, dict[str, Any]]] = {
    V16: {
        "BootNotification": {"chargePointVendor": "Vendor", "chargePointModel": "Model", "firmwareVersion": "1.0"},
        "Heartbeat": {},
        "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": STAMP},
        "Authorize": {"idTag": "TAG-FUZZ"},
        "StartTransaction": {"connectorId": 1, "idTag": "TAG-FUZZ", "meterStart": 0, "timestamp": STAMP},
        "StopTransaction": {
            "transactionId": 1,
            "meterStop": 10,
            "timestamp": STAMP,
            "reason": "Local",
            "transactionData": [{"timestamp": STAMP, "sampledValue": [{"value": "10", "unit": "Wh"}]}],
        },
        "MeterValues": {
            "connectorId": 1,
            "transactionId": 1,
            "meterValue": [
                {
                    "timestamp": STAMP,
                    "sampledValue": [{"value": "5", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}],
                }
            ],
        },
        "DataTransfer": {"vendorId": "Vendor", "messageId": "m", "data": "payload"},
        "FirmwareStatusNotification": {"status": "Installed"},
        "DiagnosticsStatusNotification": {"status": "Idle"},
    },
    V201: {
        "BootNotification": {"chargingStation": {"model": "Model", "vendorName": "Vendor"}, "reason": "PowerUp"},
        "Heartbeat": {},
        "StatusNotification": {"timestamp": STAMP, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
        "Authorize": {"idToken": {"idToken": "TAG-FUZZ", "type": "ISO14443"}},
        "TransactionEvent": {
            "eventType": "Updated",
            "timestamp": STAMP,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 1,
            "transactionInfo": {"transactionId": "TX-FUZZ"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": STAMP, "sampledValue": [{"value": 5.0, "unitOfMeasure": {"unit": "Wh"}}]}],
        },
        "MeterValues": {"evseId": 1, "meterValue": [{"timestamp": STAMP, "sampledValue": [{"value": 5.0}]}]},
        "NotifyEvent": {
            "generatedAt": STAMP,
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": STAMP,
                    "trigger": "Alerting",
                    "actualValue": "x",
                    "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "Connector"},
                    "variable": {"name": "Available"},
                }
            ],
        },
        "SecurityEventNotification": {"type": "FirmwareUpdated", "timestamp": STAMP},
        "NotifyReport": {"requestId": 1, "generatedAt": STAMP, "seqNo": 0},
        "FirmwareStatusNotification": {"status": "Installed"},
    },
}
# Keys whose strings the gateway reads as date-times; mutations keep them valid or make them non-strings.
TIME_KEYS = frozenset({"timestamp", "generatedAt"})
# Handlers that parse the payload into a model and refuse a NUL in any string (``actions.payloads``).
NUL_REFUSED = {
    V16: frozenset(BASES[V16]) - {"Heartbeat"},
    V201: frozenset({"BootNotification", "StatusNotification", "Authorize", "TransactionEvent"}),
}
# Actions each version defines, handled here or not: an unknown one is NotImplemented, a known one
# without a handler NotSupported.
DEFINED = {
    V16: frozenset(path.stem for path in (Path(ocpp.__file__).parent / "v16" / "schemas").glob("*.json"))
    - {path.stem for path in (Path(ocpp.__file__).parent / "v16" / "schemas").glob("*Response.json")},
    V201: frozenset(
        path.stem.removesuffix("Request")
        for path in (Path(ocpp.__file__).parent / "v201" / "schemas").glob("*Request.json")
    ),
}


@cache
def schema_validator(version: str, action: str, *, int32: bool = False) -> Draft4Validator:
    """Draft 4 validator of the official request schema of ``action`` (as the ``ocpp`` package ships it),
    with ``int32`` every integer bounded to 32 bits."""
    folder = Path(ocpp.__file__).parent / ("v16" if version == V16 else "v201") / "schemas"
    name = f"{action}.json" if version == V16 else f"{action}Request.json"
    schema = json.loads((folder / name).read_text(encoding="utf-8"))
    return Draft4Validator(_bounded(schema) if int32 else schema)


def _bounded(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_bounded(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "integer":
        schema = {"minimum": -(2**31), "maximum": 2**31 - 1, **schema}
    return {key: _bounded(value) for key, value in schema.items()}


def spec_code(validator: str, version: str) -> str:
    """The OCPP-J error code of a payload failing the schema keyword ``validator``."""
    if validator in ("type", "maxLength"):
        return "TypeConstraintViolation"  # "violates data type constraints" (CiString lengths are types)
    if validator == "required":
        return "ProtocolError"  # "Payload for Action is incomplete"
    if validator in ("enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "pattern"):
        return "PropertyConstraintViolation"  # "at least one field contains an invalid value"
    if validator in ("minItems", "maxItems", "uniqueItems"):
        return OCCURRENCE[version]
    return FORMAT[version]  # additionalProperties: "not conform the PDU structure"


@dataclasses.dataclass(frozen=True)
class Expected:
    """The answer a frame must get: a CALLRESULT (``code`` None) or a CALLERROR, to ``message_id``."""

    message_id: str
    code: str | None


@dataclasses.dataclass(frozen=True)
class Frame:
    """A frame to send and its expected answer (None: none, as for a CALLRESULT nobody waits for)."""

    data: str | bytes
    expected: Expected | None
    kind: str


def payload_answer(version: str, action: str, payload: dict[str, Any]) -> str | None:
    """The CALLERROR code ``payload`` deserves, or None for a CALLRESULT."""
    first = next(iter(schema_validator(version, action).iter_errors(payload)), None)
    if first is not None:
        return spec_code(str(first.validator), version)
    if not schema_validator(version, action, int32=True).is_valid(payload):
        return "TypeConstraintViolation"
    if action in NUL_REFUSED[version] and _has_nul(payload):
        return "PropertyConstraintViolation"
    if version == V16 and action == "StartTransaction" and payload.get("connectorId", 0) < 0:
        return "PropertyConstraintViolation"  # connectors are numbered from 0 up (OCPP 1.6 §3.5)
    return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


TEXTS = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40),
    st.sampled_from(["", "\x00", "a\x00b", "\u202e\u0645\u0631\u062d\u0628\u0627", "\U0001f50c" * 3, "Ω" * 21]),
    st.integers(0, 20_000).map(lambda n: "V" * n),  # up to far beyond every CiString limit
    # Numbers as 1.6 writes meter readings: huge, tiny, negative, not finite.
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e30", "-1e30", "9" * 40, "1E+400", "NaN", "-Infinity", "0x10", "1_000"]),
)
NUMBERS = st.one_of(
    st.integers(-(2**31), 2**31),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 1e308, -0.0]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXTS)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


def _containers(value: Any, found: list[Any]) -> list[Any]:
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


@st.composite
def mutated_payload(draw: st.DrawFn, version: str, action: str) -> dict[str, Any]:
    """The valid base payload of ``action`` with up to three mutations anywhere in it."""
    payload = copy.deepcopy(BASES[version][action])
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(_containers(payload, [])))
        if isinstance(target, list):
            _mutate_list(draw, target)
        else:
            _mutate_dict(draw, target)
    return payload


def _mutate_list(draw: st.DrawFn, target: list[Any]) -> None:
    operation = draw(st.sampled_from(["clear", "append", "replace"] if target else ["append"]))
    if operation == "clear":
        target.clear()
    elif operation == "append":
        target.append(draw(st.sampled_from(target) if target else JUNK))
    else:
        target[draw(st.integers(0, len(target) - 1))] = draw(JUNK)


def _mutate_dict(draw: st.DrawFn, target: dict[str, Any]) -> None:
    operation = draw(st.sampled_from(["drop", "junk", "same_type", "extra"] if target else ["extra"]))
    if operation == "extra":
        target[draw(st.text(min_size=1, max_size=12))] = draw(JUNK)
        return
    key = draw(st.sampled_from(sorted(target)))
    if operation == "drop":
        del target[key]
        return
    value = draw(JUNK) if operation == "junk" else draw(_same_type(target[key]))
    if key in TIME_KEYS and isinstance(value, str):
        value = 20261127  # a timestamp stays a valid one or stops being a string
    target[key] = value


def _same_type(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(-(2**31), 2**31) | st.integers(-(2**70), 2**70)
    if isinstance(value, float):
        return st.floats(allow_nan=False, allow_infinity=False)
    if isinstance(value, str):
        return TEXTS
    return JUNK


MESSAGE_IDS = st.text(min_size=1, max_size=36)
BAD_MESSAGE_IDS = st.one_of(
    st.just(""), st.text(min_size=37, max_size=60), st.integers(), st.none(), st.lists(st.integers(), max_size=2)
)


def call_frames(version: str) -> st.SearchStrategy[Frame]:
    """CALLs of handled actions, payload mutated."""

    @st.composite
    def build(draw: st.DrawFn) -> Frame:
        action = draw(st.sampled_from(sorted(BASES[version])))
        payload = draw(mutated_payload(version, action))
        message_id = draw(MESSAGE_IDS)
        frame = _json_text([2, message_id, action, payload])
        return Frame(frame, Expected(message_id, payload_answer(version, action, payload)), f"call:{action}")

    return build()


def envelope_frames(version: str) -> st.SearchStrategy[Frame]:
    """Frames wrong at the RPC level, each with its answer."""
    unknown_action = st.text(min_size=1, max_size=30).filter(lambda name: name not in DEFINED[version])
    unsupported_action = st.sampled_from(sorted(DEFINED[version] - set(BASES[version])))
    not_json = st.one_of(
        st.text(max_size=30).filter(_not_json),
        st.sampled_from(['[2,"a","Heartbeat",{}', "[2,'a','Heartbeat',{}]", '[2,"a","Heartbeat",{}]]', "NaN"]),
    )
    not_array = st.one_of(SCALARS, st.dictionaries(st.text(max_size=8), SCALARS, max_size=3), st.just([])).map(
        _json_text
    )
    bad_type = st.one_of(st.integers().filter(lambda n: n not in (2, 3, 4)), st.text(max_size=3), st.none())
    non_string = st.one_of(st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2))
    non_object = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
    return _evenly(
        st.builds(
            lambda mid, action: Frame(_json_text([2, mid, action, {}]), Expected(mid, "NotImplemented"), "unknown"),
            MESSAGE_IDS,
            unknown_action,
        ),
        st.builds(
            lambda mid, action: Frame(_json_text([2, mid, action, {}]), Expected(mid, "NotSupported"), "unsupported"),
            MESSAGE_IDS,
            unsupported_action,
        ),
        not_json.map(lambda text: Frame(text, Expected("-1", FRAME_ERROR[version]), "not_json")),
        not_array.map(lambda text: Frame(text, Expected("-1", FRAME_ERROR[version]), "not_array")),
        st.builds(
            lambda kind, mid: Frame(
                _json_text([kind, mid, "Heartbeat", {}]), Expected(mid, UNKNOWN_TYPE[version]), "type"
            ),
            bad_type,
            MESSAGE_IDS,
        ),
        st.builds(
            lambda mid: Frame(_json_text([2, mid, "Heartbeat"]), Expected(mid, "ProtocolError"), "short_call"),
            MESSAGE_IDS,
        ),
        st.builds(
            lambda mid, extra: Frame(
                _json_text([2, mid, "Heartbeat", {}, extra]), Expected(mid, "ProtocolError"), "long_call"
            ),
            MESSAGE_IDS,
            SCALARS,
        ),
        st.just(Frame("[2]", Expected("-1", "ProtocolError"), "bare_call")),
        st.builds(
            lambda mid: Frame(_json_text([2, mid, "Heartbeat", {}]), Expected("-1", FRAME_ERROR[version]), "bad_id"),
            BAD_MESSAGE_IDS,
        ),
        st.builds(
            lambda mid, action: Frame(_json_text([2, mid, action, {}]), Expected(mid, FORMAT[version]), "bad_action"),
            MESSAGE_IDS,
            non_string,
        ),
        st.builds(
            lambda mid, payload: Frame(
                _json_text([2, mid, "Heartbeat", payload]), Expected(mid, FORMAT[version]), "bad_payload"
            ),
            MESSAGE_IDS,
            non_object,
        ),
        st.builds(lambda mid, payload: Frame(_json_text([3, mid, payload]), None, "stray_result"), MESSAGE_IDS, JUNK),
        st.builds(lambda mid, code: Frame(_json_text([4, mid, code, "", {}]), None, "stray_error"), MESSAGE_IDS, TEXTS),
        st.sampled_from([Frame("[3]", None, "stray_result"), Frame('[4,"x"]', None, "stray_error")]),
    )


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _evenly(*strategies: st.SearchStrategy[Frame]) -> st.SearchStrategy[Frame]:
    """One of ``strategies``, each as likely (``one_of`` favours its simplest branches)."""
    return st.sampled_from(strategies).flatmap(lambda strategy: strategy)


def frames(version: str) -> st.SearchStrategy[Frame]:
    """Any frame for a ``version`` connection: three in five a CALL of a handled action, one in six binary."""
    calls = call_frames(version)
    text_frames = _evenly(calls, calls, calls, envelope_frames(version), envelope_frames(version))
    invalid_utf8 = st.binary(min_size=1, max_size=20).filter(_not_utf8)
    binary = st.one_of(
        text_frames.map(
            lambda frame: dataclasses.replace(frame, data=_encoded(frame.data), kind=f"binary-{frame.kind}")
        ),
        invalid_utf8.map(lambda data: Frame(data, Expected("-1", FRAME_ERROR[version]), "binary-not_utf8")),
    )
    return _evenly(text_frames, text_frames, text_frames, text_frames, text_frames, binary)


def _encoded(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return True
    return False
