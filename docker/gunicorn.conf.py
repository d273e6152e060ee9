"""Gunicorn settings of the CKAN image.

Override any of them per deployment with GUNICORN_CMD_ARGS, e.g. ``--workers 4``
(gunicorn lets that variable win over this file).
"""

bind = "0.0.0.0:5000"
# Processes, not threads: CKAN 2.12.0's DataStore reads a row after handing its connection back to
# the pool (resource_id_from_alias); with several threads per worker another request can close the
# cursor under it ("cursor already closed" under concurrent datastore_search, see docs/performance.md).
workers = 3
threads = 1
timeout = 120
accesslog = "-"
# Port 5000 is reachable only on the compose network (nginx, the harvester), so the
# proxy's X-Forwarded-Proto can be trusted; CKAN then sees HTTPS requests as secure.
forwarded_allow_ips = "*"
# Heartbeat files in memory, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm"
