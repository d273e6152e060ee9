"""The benchmarks: each measures against a baseline in the same run, so ratios travel.

A package of the checkout, never installed: run it from the checkout's top
folder as ``python -m bench.run`` (what ``bench/run`` does from anywhere), or
one benchmark alone as ``python -m bench.normalise``, ``bench.harvest`` or
``bench.load``. The figures they gave, and how they were measured, are in
``docs/performance.md``.

* ``run``: all benchmarks, one summary table;
* ``normalise``: the normalisation engine against ``pandas.read_csv``;
* ``harvest``: our harvester against ckanext-harvest, on ``source``'s synthetic
  city CKAN (``peer_harvest`` runs ckanext-harvest's stages in one process);
* ``load``: the portal's read endpoints with our plugin and without;
* ``benchstack``: the benchmarks' own CKAN next to the shared services
  (``stack.sh`` does the privileged parts; ``gunicorn_ready`` tells when every
  web worker is up).
"""
