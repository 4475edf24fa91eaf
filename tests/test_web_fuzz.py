"""Fuzzing: schemathesis on the app's own OpenAPI schema, and hypothesis on near-valid tokens.

Whatever arrives, the app answers without a server error, and mangled tokens change nothing.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webapp import site, smtp_inbox  # noqa: F401


@pytest.fixture
def api_schema(site):  # noqa: ANN001, ANN201, F811
    return schemathesis.openapi.from_url(site.url + "/openapi.json")


def test_no_server_errors_anywhere(api_schema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case) -> None:  # noqa: ANN001
            response = case.call(timeout=10)
            assert response.status_code < 500, (case.method, case.formatted_path, response.status_code)
            assert response.headers.get("x-content-type-options") == ["nosniff"]

        run()


def test_the_schema_covers_every_route(api_schema) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert {"/vote/{token}", "/unsubscribe/{token}", "/confirm/{token}", "/p/{number}", "/issues/",
            "/issues/{number}", "/feed.xml", "/subscribe", "/", "/healthz"} <= paths


_ACTED_ON = ("vote", "subscriber", "suppression", "discardedaction", "scannermark")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%/"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mangled_tokens_are_refused_and_change_nothing(site, data) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    base = {"/vote/": site.signer.vote_token(reader, 1) + f".{site.data['c1']}a",
            "/unsubscribe/": site.unsubscribe_path(reader).rsplit("/", 1)[1]}
    prefix = data.draw(st.sampled_from(sorted(base)))
    token = list(base[prefix])
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(token) - 1))
        token[position] = data.draw(st.sampled_from(_ALPHABET))
    mangled = "".join(token)
    if mangled == base[prefix]:
        return
    before = site.snapshot(_ACTED_ON)
    with httpx.Client(base_url=site.url, timeout=10) as client:
        response = client.post(prefix + mangled, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code in (400, 403, 404, 405), (mangled, response.status_code)
    assert site.snapshot(_ACTED_ON) == before
