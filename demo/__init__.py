"""The demo: recorded city-portal payloads, the configs that harvest them, and their server.

Used by ``scripts/stack up`` (the local portal's four cities) and by the tests; never
installed, so nothing here reaches a production harvester:

* ``replay.py``: a small HTTP server replaying ``payloads/`` on 127.0.0.1;
* ``payloads/``: what the cities' portals answer (a CKAN API, a DCAT-AP.de catalogue,
  manifests and their tables);
* ``configs/``: a harvester config per city pointed at the replay server, with the shipped
  mappings of ``harvesters/vierstaedte_harvest/mappings/``.
"""
