"""The observation store: every valid public normalised row, in one indexed table.

Cross-city reads (the comparison, the indicator actions, the key figures, the AI tools) ask
one question of every city's tables at once. Asked of each table through ``datastore_search``
it pages through the catalogue and costs one query per table; asked of one table holding all
the rows it is one indexed query. This package keeps that table:

* ``store`` — its layout (the contract's columns, plus the year, the source ids and a per-table
  state that keeps "skipped" explainable), created on first use in the DataStore database;
* ``sync`` — which tables belong in it (``logic.tables`` decides, as for every shared output)
  and the copy of one table into it, one ``INSERT … SELECT`` in one transaction; ``rebuild``
  and ``check`` for the whole catalogue;
* ``actions`` — what keeps it in step with publishing: the chained DataStore actions and the
  dataset hooks ``plugin.py`` delegates to.
"""
