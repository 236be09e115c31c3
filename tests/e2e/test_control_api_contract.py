"""The control API against its own OpenAPI document, by schemathesis: every operation, generated inputs.

For every operation of the document, schemathesis generates requests (valid ones and ones that break
the schema), sends them to a running gateway with the token, and checks each answer: no 5xx, a status
code the document lists for that operation, and headers, content type and body as it declares them.
Chargers are not connected, so commands answer 409 or 422; ``test_control_api.py`` covers their 200s.

The cases are generated at collection time from ``openapi.document()``, and the first test checks that
the live ``/openapi.json`` is exactly that document. (schemathesis' lazy loader, which would read the
live document inside a fixture, does not run under pytest 9.2: it sets ``Function._nodeid``, gone there.)
"""

import json
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from chargeops.ocpp_gateway.control import openapi
from tests.e2e.harness import gateway_in_thread, gateway_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

# Generated examples per operation, beside the boundary cases of schemathesis' coverage phase: enough to
# reach every documented status, few enough that both backends finish in seconds.
EXAMPLES_PER_OPERATION = 15

STATELESS_CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


class Api:
    """The running gateway's address and an HTTP session that carries its token."""

    def __init__(self, base_url: str, http: requests.Session) -> None:
        self.base_url = base_url
        self.http = http


@pytest.fixture(scope="module")
def api(module_database_url: str) -> Iterator[Api]:
    """One gateway for all operations: what one operation stores, the next may read."""
    with gateway_in_thread(gateway_settings(module_database_url)) as running, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {running.token}"
        yield Api(running.control_url, http)


schema = schemathesis.openapi.from_dict(openapi.document())
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION)


def test_the_live_document_is_the_one_the_cases_are_generated_from(api: Api) -> None:
    response = requests.get(f"{api.base_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(openapi.document()))


@schema.parametrize()
@settings(deadline=None)
def test_every_operation_answers_as_its_openapi_document_says(case: schemathesis.Case, api: Api) -> None:
    case.call_and_validate(base_url=api.base_url, session=api.http, checks=STATELESS_CHECKS)
