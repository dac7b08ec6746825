"""Origins are stored exactly as browsers send them, and this host is recognised behind any scheme."""

from __future__ import annotations

import pytest

from app.widget.origins import normalize_origin, same_origin


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://Shop.Example/", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_normalised(given: str, stored: str) -> None:
    assert normalize_origin(given) == stored


@pytest.mark.parametrize(
    "bad", ["", "shop.example", "ftp://shop.example", "https://shop.example/path", "https://*.shop.example",
            "https://user@shop.example", "https://shop.example:99999", "https://shop.example?x=1"],
)  # fmt: skip
def test_not_an_origin(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_origin(bad)


def test_same_origin() -> None:
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same_origin("https://chat.example", "chat.example")  # TLS ended at a proxy
    assert not same_origin("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not same_origin("http://localhost:8000", "127.0.0.1:8000")
    assert not same_origin("null", "127.0.0.1:8000") and not same_origin("http://a.example", None)
