"""Gunicorn settings of the CKAN image.

Override any of them per deployment with GUNICORN_CMD_ARGS, e.g. ``--workers 4``
(gunicorn lets that variable win over this file).
"""
bind = "0.0.0.0:5000"
workers = 2
threads = 4
timeout = 120
accesslog = "-"
# Port 5000 is reachable only on the compose network (nginx, the harvester), so the
# proxy's X-Forwarded-Proto can be trusted; CKAN then sees HTTPS requests as secure.
forwarded_allow_ips = "*"
# Heartbeat files in memory, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm"
