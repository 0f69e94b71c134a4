"""Docker's ``AuthConfig`` on the wire: the ``X-Registry-Auth`` header and ``POST /auth`` bodies.

The header is base64url-encoded JSON (``{"username", "password",
"serveraddress", "identitytoken", "registrytoken"}``); the docker CLI sends it
padded or not, and sends ``{}`` when it has no credentials.  Undecodable
headers are ignored, as moby does for an empty one, but malformed JSON is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from dockyard.core.remotes import Credentials
from dockyard.errors import InvalidArgument

HEADER = "X-Registry-Auth"


def from_json(obj: Any) -> Credentials:
    if not isinstance(obj, dict):
        raise InvalidArgument("invalid auth configuration: not a JSON object")
    lower = {str(k).lower(): v for k, v in obj.items()}

    def text(key: str) -> str:
        v = lower.get(key)
        return v if isinstance(v, str) else ""

    username, password = text("username"), text("password")
    if not username and text("auth"):
        try:
            username, _, password = base64.b64decode(text("auth")).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidArgument("invalid auth configuration: bad auth field") from None
    return Credentials(username=username, password=password, identity_token=text("identitytoken"),
                       registry_token=text("registrytoken"), server_address=text("serveraddress"))


def decode_header(value: str | None) -> Credentials | None:
    """The credentials in an ``X-Registry-Auth`` header; None when absent or empty."""
    if not value or not value.strip():
        return None
    raw = value.strip()
    try:
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        obj = json.loads(data)
    except (binascii.Error, ValueError):
        raise InvalidArgument("invalid X-Registry-Auth header: not base64url-encoded JSON") from None
    creds = from_json(obj)
    return None if creds.is_empty else creds


def encode_header(obj: dict[str, str]) -> str:
    """base64url JSON, as the docker CLI sends it."""
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode()


__all__ = ["HEADER", "decode_header", "encode_header", "from_json"]
