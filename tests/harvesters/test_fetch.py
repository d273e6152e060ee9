"""The shared fetcher against a real local HTTP server: limits, retries, conditional GETs, address checks."""
from __future__ import annotations

import pytest

from vierstaedte_harvest.fetch import FetchError, Fetcher, HttpSettings
from vierstaedte_harvest.replay import ReplayServer


@pytest.fixture
def server(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "table.csv").write_bytes(b"Ortsbezirk;2023\nAltstadt;1\n" * 100)
    with ReplayServer(tmp_path) as running:
        yield running


def loopback(**settings) -> Fetcher:
    return Fetcher(HttpSettings(allow_private_addresses=True, timeout=2, backoff=0, **settings))


def test_download_with_hash_and_conditional_get(server, tmp_path):
    fetcher = loopback()
    first = fetcher.download(f"{server.base}/files/table.csv", tmp_path)
    assert not first.unchanged and first.size == 2700 and len(first.sha256) == 64 and first.etag
    again = fetcher.download(f"{server.base}/files/table.csv", tmp_path, etag=first.etag)
    assert again.unchanged and again.path is None


def test_size_limit_stops_the_download_and_leaves_no_partial_file(server, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(FetchError) as error:
        loopback(max_bytes=1000).download(f"{server.base}/files/table.csv", work)
    assert error.value.code == "too-large"
    assert list(work.iterdir()) == []


def test_retries_5xx_then_succeeds(server, tmp_path):
    server.faults["/files/table.csv"] = {"status": 503, "times": 2}
    result = loopback(retries=3).download(f"{server.base}/files/table.csv", tmp_path)
    assert result.size == 2700
    assert [path for _, path in server.log].count("/files/table.csv") == 3


def test_gives_up_after_retries_with_a_clear_code(server, tmp_path):
    server.faults["/files/table.csv"] = {"status": 500, "times": 10}
    with pytest.raises(FetchError) as error:
        loopback(retries=1).download(f"{server.base}/files/table.csv", tmp_path)
    assert error.value.code == "http-error" and "500" in str(error.value)


def test_timeout(server, tmp_path):
    server.faults["/files/table.csv"] = {"delay": 1.5, "times": 5}
    with pytest.raises(FetchError) as error:
        Fetcher(HttpSettings(allow_private_addresses=True, timeout=0.5, retries=1, backoff=0)).download(
            f"{server.base}/files/table.csv", tmp_path)
    assert error.value.code == "timeout"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x.csv", "http://localhost/x.csv", "http://10.1.2.3/x.csv",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/x.csv"])
def test_private_and_loopback_addresses_are_refused_by_default(url, tmp_path):
    with pytest.raises(FetchError) as error:
        Fetcher().download(url, tmp_path)
    assert error.value.code == "private-address"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x.csv", "javascript:alert(1)"])
def test_only_http_urls(url, tmp_path):
    with pytest.raises(FetchError) as error:
        Fetcher().download(url, tmp_path)
    assert error.value.code == "bad-url"


def test_json_that_is_an_html_page(server):
    server.faults["/files/page.json"] = {"body": b"<html><body>Login</body></html>"}
    with pytest.raises(FetchError) as error:
        loopback().get_json(f"{server.base}/files/page.json")
    assert error.value.code == "bad-json" and "HTML" in str(error.value)
