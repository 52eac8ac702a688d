"""The redaction processor masks credentials however they are nested or named."""

from __future__ import annotations

from typing import Any

import pytest

from copytrader.observe import redact


def run(event: dict[str, Any]) -> dict[str, Any]:
    return dict(redact.processor(None, "info", event))


@pytest.mark.parametrize("key", [
    "api_key", "apiKey", "apikey", "API_KEY", "x-api-key", "X-API-Key", "secret", "secretKey",
    "secret_key", "publicKey", "password", "token", "authorization", "Authorization",
    "extraKey", "http_token",
])
def test_credential_named_keys_are_masked_at_any_depth(key: str) -> None:
    event = {"event": "req", key: "v1",
             "headers": {key: "v2", "Accept": "json"},
             "users": [{"name": "a", key: "v3"}, ({key: "v4"},)]}
    out = run(event)
    assert out[key] == "***"
    assert out["headers"] == {key: "***", "Accept": "json"}
    assert out["users"][0] == {"name": "a", key: "***"}
    assert out["users"][1] == ({key: "***"},)


@pytest.mark.parametrize("key", ["master", "investmentAmount", "keys", "tokens_used_total",
                                 "stopValue", "symbol"])
def test_ordinary_keys_are_left_alone(key: str) -> None:
    assert run({key: "value", "event": "x"}) == {key: "value", "event": "x"}


def test_registered_secrets_are_cut_out_of_any_string() -> None:
    redact.register_secret("s3cr3t-KEY-123")
    out = run({
        "event": "calling with s3cr3t-KEY-123 now",
        "url": "http://x/?k=s3cr3t-KEY-123&b=1",
        "nested": {"list": ["a", "xx s3cr3t-KEY-123 yy"], "set": {"s3cr3t-KEY-123"}},
        "bytes": b"s3cr3t-KEY-123",
        "number": 5, "none": None, "flag": True,
    })
    assert out == {
        "event": "calling with *** now",
        "url": "http://x/?k=***&b=1",
        "nested": {"list": ["a", "xx *** yy"], "set": {"***"}},
        "bytes": b"***",
        "number": 5, "none": None, "flag": True,
    }


def test_objects_whose_repr_shows_a_secret_are_masked() -> None:
    redact.register_secret("abcd-secret-value")
    out = run({"exc": ValueError("bad key abcd-secret-value"), "ok": ValueError("fine")})
    assert out["exc"] == "ValueError('bad key ***')"
    assert isinstance(out["ok"], ValueError)


def test_longest_secret_first_and_short_or_empty_ones_ignored() -> None:
    redact.register_secret("key-1234")
    redact.register_secret("key-1234-long")
    redact.register_secret("")
    redact.register_secret("ab")
    assert redact.mask_text("key-1234-long key-1234 ab") == "*** *** ab"


def test_clear_secrets_forgets_them() -> None:
    redact.register_secret("forget-me")
    redact.clear_secrets()
    assert redact.mask_text("forget-me") == "forget-me"


def test_input_is_not_mutated_below_the_top_level() -> None:
    inner = {"token": "t0k3n"}
    run({"inner": inner})
    assert inner == {"token": "t0k3n"}
