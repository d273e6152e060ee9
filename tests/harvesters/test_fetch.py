"""The fetcher against a real local HTTP server: limits, retries, conditional GETs, addresses.

The address checks resolve names through ``socket.getaddrinfo``; the DNS-rebinding tests replace it
in-process with a resolver that answers differently on successive calls, which tests our code's
"resolve once, connect to what was checked", not a stand-in for a service.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from demo.replay import LoopbackServer, ReplayServer
from vierstaedte_harvest.fetch import Fetcher, FetchError, HttpSettings


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
        Fetcher(
            HttpSettings(allow_private_addresses=True, timeout=0.5, retries=1, backoff=0)
        ).download(f"{server.base}/files/table.csv", tmp_path)
    assert error.value.code == "timeout"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.csv",
        "http://localhost/x.csv",
        "http://10.1.2.3/x.csv",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.csv",
    ],
)
def test_private_and_loopback_addresses_are_refused_by_default(url, tmp_path):
    with pytest.raises(FetchError) as error:
        Fetcher().download(url, tmp_path)
    assert error.value.code == "private-address"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x.csv", "javascript:alert(1)"]
)
def test_only_http_urls(url, tmp_path):
    with pytest.raises(FetchError) as error:
        Fetcher().download(url, tmp_path)
    assert error.value.code == "bad-url"


def test_json_that_is_an_html_page(server):
    server.faults["/files/page.json"] = {"body": b"<html><body>Login</body></html>"}
    with pytest.raises(FetchError) as error:
        loopback().get_json(f"{server.base}/files/page.json")
    assert error.value.code == "bad-json" and "HTML" in str(error.value)


# --- the address guard: checked once, connected to as checked, at every hop ---------------------

REAL_GETADDRINFO = socket.getaddrinfo


class Resolver:
    """``socket.getaddrinfo`` for made-up names: their answers in turn (the last repeats).

    Every lookup is recorded, also of the address literals urllib3 resolves right before it
    connects, so a test sees where a connection went. ``refuse`` names literals that must not be
    connected to: their lookup fails, so no packet leaves the machine.
    """

    def __init__(self, answers: dict[str, list[str]], refuse: tuple[str, ...] = ()):
        self.answers, self.refuse, self.asked = answers, refuse, []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's
        self.asked.append(host)
        if host in self.refuse:
            raise socket.gaierror(socket.EAI_NONAME, f"test: no connection to {host}")
        if host not in self.answers:
            return REAL_GETADDRINFO(host, port, family, type, proto, flags)
        answers = self.answers[host]
        address = answers[min(self.asked.count(host), len(answers)) - 1]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port or 0), 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with ``ok`` (``/redirect?to=URL``: a 302), recording path and Host."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # http.server naming
        self.server.seen.append((self.path, self.headers.get("Host")))
        url = urlsplit(self.path)
        if url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(url.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def recorder():
    with LoopbackServer(_Recorder) as running:
        running.seen = []
        yield running


def test_dns_rebinding_cannot_reach_loopback(recorder, tmp_path, monkeypatch):
    """The name answers a public address for the check and 127.0.0.1 a moment later: the connection
    goes to the address that was checked, never to the loopback server."""
    port = recorder.server_address[1]
    resolver = Resolver({"rebind.test": ["93.184.215.14", "127.0.0.1"]}, refuse=("93.184.215.14",))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(FetchError) as error:
        fetcher = Fetcher(HttpSettings(timeout=2, retries=0, backoff=0))
        fetcher.download(f"http://rebind.test:{port}/x.csv", tmp_path)
    assert error.value.code == "connection-error"
    assert recorder.seen == []
    assert resolver.asked == ["rebind.test", "93.184.215.14"]  # resolved once; connected as checked


def test_the_checked_address_is_connected_to_with_the_name_as_host(recorder, tmp_path, monkeypatch):
    """Allowed loopback (the replay setup) is pinned too: a second, other answer is never used."""
    port = recorder.server_address[1]
    resolver = Resolver({"portal.test": ["127.0.0.1", "127.0.0.2"]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    download = loopback(retries=0).download(f"http://portal.test:{port}/x.csv", tmp_path)
    assert download.path.read_bytes() == b"ok"
    assert recorder.seen == [("/x.csv", f"portal.test:{port}")]


@pytest.fixture
def tls_recorder(tmp_path):
    """The recorder over TLS, certified for ``portal.test`` only; ``names``: the clients' SNI."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=portal.test",
            "-addext",
            "subjectAltName=DNS:portal.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    with LoopbackServer(_Recorder) as running:
        running.socket = context.wrap_socket(running.socket, server_side=True)
        running.seen, running.names, running.ca = [], names, cert
        yield running


def test_tls_to_the_checked_address_verifies_the_name(tls_recorder, tmp_path, monkeypatch):
    port = tls_recorder.server_address[1]
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        Resolver({"portal.test": ["127.0.0.1", "127.0.0.2"], "other.test": ["127.0.0.1"]}),
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_recorder.ca))
    download = loopback(retries=0).download(f"https://portal.test:{port}/x.csv", tmp_path)
    assert download.path.read_bytes() == b"ok"
    assert tls_recorder.names == ["portal.test"]
    assert tls_recorder.seen == [("/x.csv", f"portal.test:{port}")]
    with pytest.raises(FetchError, match="(?i)certificate"):  # checked against the name asked for
        loopback(retries=0).download(f"https://other.test:{port}/x.csv", tmp_path)


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",
        "100.127.255.254",  # shared address space (carrier-grade NAT)
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.2",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "ff0e::1",
        "2001:db8::1",
        "2002:7f00:1::1",
        "2002:a9fe:a9fe::1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2001::1",
    ],
)
def test_every_non_global_address_is_refused(address, monkeypatch):
    """Literals and names alike; nothing is connected to (check_url resolves and decides)."""
    monkeypatch.setattr(socket, "getaddrinfo", Resolver({"inside.test": [address]}))
    literal = f"[{address}]" if ":" in address else address
    for url in (f"http://{literal}/x.csv", "https://inside.test/x.csv"):
        with pytest.raises(FetchError) as error:
            Fetcher().check_url(url)
        assert error.value.code == "private-address" and address in str(error.value)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "64:ff9b::5db8:d70e"])
def test_global_addresses_pass_the_check(address, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", Resolver({"outside.test": [address]}))
    assert Fetcher().check_url("https://outside.test/x.csv") == address


def test_one_non_global_answer_among_several_refuses_the_name(monkeypatch):
    def both(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("100.64.0.1", 443)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", both)
    with pytest.raises(FetchError, match="100.64.0.1"):
        Fetcher().check_url("https://mixed.test/x.csv")


def test_every_redirect_hop_is_checked(recorder, tmp_path):
    """Only the server's own address is allowed: a redirect elsewhere, at any hop, is refused."""
    base = recorder.base
    settings = HttpSettings(timeout=2, retries=0, allow_private_addresses=["127.0.0.1/32"])
    fetcher = Fetcher(settings)
    assert fetcher.get_bytes(f"{base}/redirect?to={quote(base + '/table.csv')}")[0] == b"ok"
    elsewhere = f"http://127.0.0.2:{recorder.server_address[1]}/x.csv"
    second_hop = f"{base}/redirect?to={quote(elsewhere)}"
    for start in (
        f"{base}/redirect?to={quote(elsewhere)}",
        f"{base}/redirect?to={quote(second_hop, safe='')}",
    ):
        with pytest.raises(FetchError) as error:
            fetcher.download(start, tmp_path)
        assert error.value.code == "private-address" and "127.0.0.2" in str(error.value)


@pytest.mark.parametrize("setting", [["not a network"], "yes", [42]])
def test_allowed_networks_must_be_networks(setting):
    with pytest.raises(ValueError, match="allow_private_addresses"):
        HttpSettings.from_config({"allow_private_addresses": setting})
