"""Password reads: Chargers created together that name one Secret share one read of it."""

import asyncio
import base64
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chargeops.operator.errors import SecretNotFoundError
from chargeops.operator.runtime import SecretReader


class Api:
    """Answers ``read_namespaced_secret`` from ``secrets`` (404 for others) and counts the reads."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.reads = 0
        self.fail = False

    def read_namespaced_secret(self, name: str, namespace: str) -> k8s.V1Secret:
        self.reads += 1
        if self.fail:
            raise ApiException(status=500, reason="etcd is slow")
        data = self.secrets.get((namespace, name))
        if data is None:
            raise ApiException(status=404, reason="Not Found")
        return k8s.V1Secret(data={key: base64.b64encode(value.encode()).decode() for key, value in data.items()})


def reader() -> tuple[Api, SecretReader]:
    api = Api()
    api.secrets["site-a", "passwords"] = {"password": "s3cret-pass-one"}
    fake: Any = api
    return api, SecretReader(fake)


async def test_reads_started_together_share_one_request() -> None:
    api, secrets = reader()

    values = await asyncio.gather(*(secrets.require("site-a", "passwords", "password") for _ in range(50)))

    assert values == ["s3cret-pass-one"] * 50
    assert api.reads == 1


async def test_a_later_read_asks_again_and_sees_a_new_password_at_once() -> None:
    api, secrets = reader()
    await secrets.require("site-a", "passwords", "password")
    api.secrets["site-a", "passwords"] = {"password": "s3cret-pass-two"}

    assert await secrets.require("site-a", "passwords", "password") == "s3cret-pass-two"
    assert api.reads == 2


async def test_a_secret_created_after_a_miss_is_found_by_the_next_read() -> None:
    api, secrets = reader()
    with pytest.raises(SecretNotFoundError):
        await secrets.require("site-a", "smtp-login", "username")
    api.secrets["site-a", "smtp-login"] = {"username": "postman"}

    assert await secrets.require("site-a", "smtp-login", "username") == "postman"


async def test_a_missing_secret_or_key_is_named() -> None:
    _, secrets = reader()

    with pytest.raises(SecretNotFoundError, match="passwords"):
        await secrets.require("site-a", "passwords", "pin")
    with pytest.raises(SecretNotFoundError, match="elsewhere"):
        await secrets.require("site-a", "elsewhere", "password")


async def test_a_failed_read_is_not_shared_with_the_next_caller() -> None:
    api, secrets = reader()
    api.fail = True
    with pytest.raises(ApiException):
        await secrets.require("site-a", "passwords", "password")
    api.fail = False

    assert await secrets.require("site-a", "passwords", "password") == "s3cret-pass-one"
    assert api.reads == 2
