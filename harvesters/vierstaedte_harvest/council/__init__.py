"""Council information over OParl: the city's council information system, read into the portal.

A standalone part of the harvester like the catalogue readers: it never imports CKAN and talks
to the portal only through the council actions of the Action API (``store.py``). The order of
one run is in ``run.py``; the HTTP side (allowed hosts, politeness, vendor-tolerant JSON) in
``client.py``; the walk System → Body → lists in ``reader.py``; vendor repairs of single objects
in ``quirks.py``; the files and their text in ``files.py`` and ``extract.py``. Council objects are
not CKAN datasets: the portal keeps them in its own tables and Solr core (``docs/council.md``).
"""
