"""What the harvester says when CKAN's answer is not CKAN's: a proxy's error page.

Behind a load balancer (docs/cluster.md) a node killed mid-call, or none up, reaches the
harvester as nginx's HTML page with HTTP 502, 503 or 504. The report and the log must say that in
a sentence an operator can act on, not quote the page; CKAN's own refusals keep their codes.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from demo.replay import LoopbackServer
from vierstaedte_harvest.publish import Publisher, PublishError

NGINX_PAGE = (
    b"<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>{status}</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class _Proxy(BaseHTTPRequestHandler):
    status = 502
    content_type = "text/html"
    body = NGINX_PAGE

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = self.body.replace(b"{status}", str(self.status).encode())
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _answering(status: int, content_type: str = "text/html", body: bytes = NGINX_PAGE):
    return type("Answer", (_Proxy,), {"status": status, "content_type": content_type, "body": body})


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_proxy_error_page_is_said_in_a_sentence(status):
    with LoopbackServer(_answering(status)) as proxy:
        publisher = Publisher(proxy.base, "token-not-shown", "mainz")
        with pytest.raises(PublishError) as raised:
            publisher.write("package_create", name="mainz-x")
    error = raised.value
    assert error.code == "ckan-unreachable"
    assert str(error) == (
        f"package_create: the proxy in front of CKAN ({proxy.base}) answered HTTP {status}: no "
        "CKAN node answered the call (one down or restarting?); the next run checks what it did"
    )
    assert "token-not-shown" not in str(error)


def test_other_errors_keep_their_codes():
    """An HTTP 500 page is CKAN failing, not a missing node; a JSON refusal is CKAN's own."""
    with LoopbackServer(_answering(500, body=b"Internal Server Error")) as server:
        with pytest.raises(PublishError) as raised:
            Publisher(server.base, "t", "mainz").write("package_create", name="mainz-x")
    assert raised.value.code == "ckan-error"
    assert "internal error (HTTP 500)" in str(raised.value)

    refusal = b'{"success": false, "error": {"__type": "Validation Error", "name": ["taken"]}}'
    with LoopbackServer(_answering(409, "application/json", refusal)) as server:
        with pytest.raises(PublishError) as raised:
            Publisher(server.base, "t", "mainz").write("package_create", name="mainz-x")
    assert raised.value.code == "ckan-validation"
    assert "taken" in str(raised.value)
