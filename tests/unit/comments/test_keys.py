"""Thread keys, idempotency keys and request fingerprints."""

from __future__ import annotations

import pytest

from parley.comments.idempotency import check_key, request_hash
from parley.comments.threads import check_thread_key, clean_title, clean_url
from parley.errors import ValidationFailed


@pytest.mark.parametrize("key", ["a", "article-1", "https://news.example/a?b=c", "ü/漢/🙂", "k" * 512])
def test_good_thread_keys(key: str) -> None:
    assert check_thread_key(key) == key


@pytest.mark.parametrize("key", ["", "k" * 513, "a\x00b", "a\nb", "a\x7fb", "a\ud800b"])
def test_bad_thread_keys(key: str) -> None:
    with pytest.raises(ValidationFailed):
        check_thread_key(key)


def test_titles_and_urls_are_cleaned() -> None:
    assert clean_title("  Eine \n  Geschichte ") == "Eine Geschichte"
    assert len(clean_title("x" * 900)) == 500
    assert clean_url(" https://news.example/a ") == "https://news.example/a"
    for bad in ("javascript:alert(1)", "ftp://x", "//evil.example", None, "https://" + "x" * 2050):
        assert clean_url(bad) == ""


@pytest.mark.parametrize("key", ["", "   ", "k" * 256, "tab\there", "nl\nx"])
def test_bad_idempotency_keys(key: str) -> None:
    with pytest.raises(ValidationFailed):
        check_key(key)


def test_idempotency_fingerprint_covers_method_path_and_body() -> None:
    base = request_hash("POST", "t", b'{"body":"x"}')
    assert base == request_hash("POST", "t", b'{"body":"x"}')
    assert base != request_hash("POST", "u", b'{"body":"x"}')
    assert base != request_hash("PATCH", "t", b'{"body":"x"}')
    assert base != request_hash("POST", "t", b'{"body":"y"}')
    assert check_key("  abc  ") == "abc"
