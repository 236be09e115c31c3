"""The key that signs subscribers' links, as ``chargeops operator`` (signs) and ``chargeops portal``
(verifies) both read it: ``--signing-key-file FILE``, else ``$CHARGEOPS_SIGNING_KEY``.

The key is the file's bytes without a trailing line break, so a key written by ``openssl rand -base64 48 >
key``, or a Secret made with ``--from-literal``, is the same key on both sides. Use text: random raw bytes
could end in a byte that looks like a line break.
"""

import os
from pathlib import Path

import click

KEY_ENV = "CHARGEOPS_SIGNING_KEY"


def read_key(path: Path | None) -> bytes:
    """The signing key from ``path``, else from the environment; a usage error when there is none."""
    if path is not None:
        try:
            return path.read_bytes().rstrip(b"\r\n")
        except OSError as error:
            raise click.UsageError(f"cannot read the signing key from {path}: {error}") from error
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise click.UsageError(f"give the key that signs links with --signing-key-file or ${KEY_ENV}")
    return key.encode()
