"""Browser sessions: the CSRF check for every write of a logged-in user, a limit on password guessing.

CSRF. CKAN 2.12 exempts a view from flask-wtf's CSRF check the first time a request to it is
authenticated by an API token, or is anonymous (``ckan_before_request`` calls ``csrf.exempt``
whenever flask-login fell back to ``load_user_from_request``). The exemption is process-wide and
lasts as long as the worker: after one harvester call or one anonymous visit, a view accepts writes
authenticated by nothing but the session cookie, from any site. The hook below restores the rule
per request: a state-changing request whose user comes from the session cookie carries a valid
CSRF token, whatever was exempted before. Requests with an API token (a credential no foreign page
can make a browser send) and anonymous ones stay as CKAN has them. The Action API takes no cookies
at all (``ckan.auth.enable_cookie_auth_in_api = false``); there the hook is a second line.

Login. CKAN 2.12 does not limit failed logins; it only sends the ``failed_login`` signal. Failures
are counted in Redis per account and client address. After ``login_max_failures`` of them that
account cannot log in from that address, not even with the right password, until
``login_lock_minutes`` have passed since the last failure; a successful login clears the count.
Counting per pair keeps a guesser from locking the owner out everywhere. The address is the
connection's (``REMOTE_ADDR``), never a header a client could forge: behind a reverse proxy all
clients share the proxy's address, and the lock becomes one per account.
"""

from __future__ import annotations

import hashlib

import ckan.plugins.toolkit as tk
import flask_login
from ckan import model
from ckan.common import current_user
from ckan.lib import signals
from ckan.lib.redis import connect_to_redis
from flask import Blueprint, current_app, g, has_request_context, make_response, request

session_guard = Blueprint("vierstaedte_session_guard", __name__)


@session_guard.before_app_request
def check_csrf_of_session_writes():
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return None
    if not current_app.config["WTF_CSRF_ENABLED"] or not current_user.is_authenticated:
        return None
    if g.get("login_via_auth_header"):  # authenticated by its API token, not by the cookie
        return None
    current_app.extensions["csrf"].protect()  # 400 without a valid token; ignores exemptions
    return None


def failure_key(login: str, address: str | None) -> str:
    """The Redis key counting failed logins of ``login`` (name or e-mail) from ``address``."""
    user = model.User.by_name(login) or model.User.by_email(login)
    account = user.id if user else login.strip().lower()
    digest = hashlib.sha256(f"{account}\n{address}".encode()).hexdigest()
    return f"{tk.config['ckan.site_id']}:vierstaedte:login-failures:{digest}"


@session_guard.before_app_request
def refuse_locked_login():
    if request.endpoint != "user.login" or request.method != "POST":
        return None
    redis = connect_to_redis()
    key = failure_key(request.form.get("login") or "", request.remote_addr)
    if int(redis.get(key) or 0) < tk.config["ckanext.vierstaedte.login_max_failures"]:
        return None
    seconds = max(redis.ttl(key), 1)
    tk.h.flash_error(
        tk._(
            "Zu viele fehlgeschlagene Anmeldungen. Bitte versuchen Sie es in "
            "{minutes} Minuten erneut."
        ).format(minutes=-(-seconds // 60))
    )
    response = make_response(tk.render("user/login.html", {}), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@signals.failed_login.connect
def count_failed_login(login, **_):
    """Also failures of the old password in the profile form: both guess the same password."""
    if not has_request_context():
        return
    key = failure_key(login or "", request.remote_addr)
    with connect_to_redis().pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 60 * tk.config["ckanext.vierstaedte.login_lock_minutes"])
        pipe.execute()


@flask_login.user_logged_in.connect
def clear_failed_logins(_app, user, **_):
    if has_request_context():
        connect_to_redis().delete(failure_key(user.name, request.remote_addr))
