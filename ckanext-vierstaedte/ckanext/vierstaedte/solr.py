"""CKAN's Solr connection with the password as HTTP Basic auth, never inside the URL.

Workaround for a bug in CKAN 2.12.0: ``ckan.lib.search.common.make_connection`` writes
``solr_user``/``solr_password`` into the URL (``http://<user>:<password>@host/solr/core``) and
hands that URL to ``pysolr.Solr``. pysolr 3.11 puts its URL into every ``SolrError`` it
raises and into its log line ("Failed to connect to server at http://ckan:<password>@…"),
and CKAN copies the URL into its own ("Could not connect to Solr using …"). So whenever Solr
is down or answers with an error, CKAN logs the password, the Action API returns it (a 409/500
"Search error"/"Unable to add package to search index: …"), and a harvester writes that
message into its report, which CKAN records and shows on the public harvest page.

``make_connection`` here is CKAN's, except that the credentials go to ``pysolr.Solr(...,
auth=(user, password))``: requests sends them as an ``Authorization`` header and pysolr's
``url`` (all its messages show) holds no secret. Credentials written into ``solr_url`` itself
are moved to ``auth`` as well. Dates, decoder and timeout are CKAN's.

``install`` rebinds the name in the modules that look it up at call time (``common``,
``index``, ``query`` and the package ``ckan.lib.search``), from the plugin's
``update_config``, which every CKAN process (web, workers, CLI) runs before it searches.

Rejected: a netrc file read by requests (``trust_env``) would need a ``NETRC`` variable at
every place a CKAN process starts, and requests would send those credentials to any other
service on the same host name too.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

import ckan.lib.search as search
import pysolr
import simplejson
from ckan.common import config
from ckan.lib.search import common, index, query


def make_connection(decode_dates: bool = True, url: str | None = None) -> pysolr.Solr:
    """Drop-in for ``ckan.lib.search.common.make_connection``; ``url`` another core of the same
    Solr (the council core), with the same credentials."""
    parts = urlsplit(url or config["solr_url"])
    user, password = config["solr_user"], config["solr_password"]
    if parts.password is not None:
        user, password = user or unquote(parts.username or ""), password or unquote(parts.password)
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    kwargs = {"timeout": config.get("solr_timeout")}
    if user and password:
        kwargs["auth"] = (user, password)
    if decode_dates:
        kwargs["decoder"] = simplejson.JSONDecoder(object_hook=common.solr_datetime_decoder)
    return pysolr.Solr(urlunsplit(parts), **kwargs)


def install() -> None:
    for module in (common, index, query, search):
        module.make_connection = make_connection
