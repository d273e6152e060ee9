"""Council information (OParl) of the four cities: stored, indexed, shown.

Council objects are not CKAN datasets (thousands of papers would bury the statistics): the
extension keeps them in its own tables (``model``), the harvester writes them through the
actions in ``actions``, the dedicated Solr core is fed by ``index`` and queried by ``search``.
"""
