"""CKAN logs in to Solr, but the Solr password never shows in an error, a log line or a response.

CKAN 2.12.0 wrote the password into the Solr URL, and pysolr repeats that URL in every error:
with Solr unreachable, ``package_create`` answered with the password and logged it
(``ckanext/vierstaedte/solr.py``). The tests call the real Action API in-process with Solr
at a closed port, and index and search in the real, password-protected test Solr.
"""

from __future__ import annotations

import logging
import socket
from urllib.parse import quote

import pysolr
import pytest
from ckan.common import config
from ckan.lib.search import common
from ckan.tests import factories
from ckan.tests.helpers import call_action

from tests.factories import Metadata


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MADE_UP_PW = "Solr-Passwort+/&:@9f2c"
UNREACHABLE = f"http://127.0.0.1:{_closed_port()}/solr/ckan_test"


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_unreachable_solr_error_does_not_show_the_password(app, cities, caplog, monkeypatch):
    token = factories.SysadminWithToken()["token"]
    # Solr goes away after the set-up, which searches
    settings = {"solr_url": UNREACHABLE, "solr_user": "ckan", "solr_password": MADE_UP_PW}
    for key, value in settings.items():
        monkeypatch.setitem(config, key, value)
    # the ini's logging set-up disables loggers created before it, pysolr's among them
    monkeypatch.setattr(logging.getLogger("pysolr"), "disabled", False)
    caplog.set_level(logging.DEBUG)
    response = app.post(
        "/api/3/action/package_create",
        json=Metadata(),
        headers={"Authorization": token},
        status=500,
    )

    assert response.json["error"]["__type"] == "Search Index Error"
    assert "Unable to add package to search index" in response.json["error"]["message"]
    assert UNREACHABLE.split("//")[1].split("/")[0] in response.json["error"]["message"]
    assert "Failed to connect to server" in caplog.text  # pysolr's error was logged
    for form in (MADE_UP_PW, quote(MADE_UP_PW, safe=""), "//ckan:"):
        assert form not in response.get_data(as_text=True)
        assert form not in caplog.text


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.ckan_config("solr_url", f"http://ckan:{quote(MADE_UP_PW, safe='')}@127.0.0.1:1/solr/x")
@pytest.mark.ckan_config("solr_user", "")
@pytest.mark.ckan_config("solr_password", "")
def test_credentials_in_the_solr_url_become_basic_auth():
    connection = common.make_connection()
    assert connection.url == "http://127.0.0.1:1/solr/x"
    assert connection.auth == ("ckan", MADE_UP_PW)


@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_ckan_indexes_and_searches_in_the_protected_solr(app, cities):
    assert config["solr_password"]
    with pytest.raises(pysolr.SolrError, match="401"):
        pysolr.Solr(config["solr_url"], timeout=30).search("*:*")  # Solr wants the password

    token = factories.SysadminWithToken()["token"]
    app.post("/api/3/action/package_create", json=Metadata(), headers={"Authorization": token})

    found = call_action("package_search", q="Ortsbezirk")["results"]
    assert [d["name"] for d in found] == ["mainz-einwohner-2023"]
