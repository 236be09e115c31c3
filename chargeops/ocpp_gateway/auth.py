"""Who is connecting: the charge point id from the URL and the HTTP Basic credentials of the upgrade.

OCPP 1.6 Security Whitepaper §2.3 and OCPP 2.0.1 A00.FR.2xx: the id is the last path segment, and the
Basic-auth user name must equal it. Pure parsing; the password check itself is the store's.
"""

import base64
import binascii
import dataclasses
import re
from urllib.parse import unquote

from chargeops.api.v1alpha1.charger import CHARGE_POINT_ID_PATTERN

PATH_PREFIX = "/ocpp/"
_ID = re.compile(CHARGE_POINT_ID_PATTERN)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """User name and password from an Authorization header."""

    username: str
    password: str


def charge_point_id(path: str) -> str | None:
    """The id in ``/ocpp/{id}`` (percent-decoded), or None when the path is not a valid charger URL."""
    path = path.split("?", 1)[0]
    if not path.startswith(PATH_PREFIX):
        return None
    candidate = unquote(path.removeprefix(PATH_PREFIX))
    return candidate if _ID.fullmatch(candidate) else None


def basic_credentials(header: str | None) -> Credentials | None:
    """The credentials of a ``Basic`` Authorization header, or None when absent or malformed."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return Credentials(username, password) if separator else None
