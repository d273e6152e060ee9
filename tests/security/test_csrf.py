"""CSRF and password guessing, against the live CKAN (gunicorn) with real browser sessions.

CKAN 2.12 (``ckan/config/middleware/flask_app.py``, ``ckan_before_request``) calls
``csrf.exempt(view)`` for every request that flask-login identified through
``load_user_from_request`` — a request with an API token, and any request without a logged-in
session cookie (the flag ``g.login_via_auth_header`` is set for anonymous requests too).
``CSRFProtect.exempt`` adds the view to a set that lives as long as the worker process, so after
one token (or anonymous) request a view accepts cookie-authenticated POSTs without a CSRF
token from then on, for everyone. The harvesters send tokens all day, and anybody can send an
anonymous GET. These tests first make those requests, many times so that every worker sees
them, and then attack with the session cookie alone from a foreign origin.
"""

from __future__ import annotations

import http.cookiejar
import re
import time

import pytest
import requests
from ckan.tests import factories
from ckan.tests.helpers import call_action

PASSWORD = "-".join(("richtig", "geheim", "2026"))  # in pieces: the secrets scan looks for literals
EVIL = {"Origin": "https://angreifer.example", "Referer": "https://angreifer.example/seite.html"}
CSRF_INPUT = re.compile(r'<input type="hidden" name="(_csrf_token)" value="([^"]+)"')
ROUNDS = 12  # requests per view and kind: gunicorn runs 2 workers, each keeps its own exemption set


class BrowserCookies(http.cookiejar.DefaultCookiePolicy):
    """A browser's reading of CKAN's empty ``Domain=`` attribute (``SESSION_COOKIE_DOMAIN =``):
    ignored, the cookie is the host's. Python's cookie jar drops such a cookie instead."""

    def set_ok_domain(self, cookie, request):
        if cookie.domain_specified and cookie.domain == ".":
            cookie.domain, cookie.domain_specified = (
                http.cookiejar.eff_request_host(request)[1],
                False,
            )
        return super().set_ok_domain(cookie, request)


def new_session() -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(BrowserCookies())
    return session


def csrf_field(page: requests.Response) -> dict[str, str]:
    match = CSRF_INPUT.search(page.text)
    assert match, f"no CSRF field in {page.url} (HTTP {page.status_code})"
    return {match.group(1): match.group(2)}


def log_in(
    url: str, login: str, password: str, session: requests.Session | None = None
) -> requests.Response:
    """Post the login form as a browser does (with its CSRF field); the session keeps the cookies."""
    session = session or new_session()
    form = session.get(f"{url}/user/login", timeout=30)
    return session.post(
        f"{url}/user/login",
        data={"login": login, "password": password, **csrf_field(form)},
        allow_redirects=False,
        timeout=30,
    )


def browser(url: str, name: str) -> requests.Session:
    session = new_session()
    response = log_in(url, name, PASSWORD, session)
    assert response.status_code == 302, response.text[:500]
    assert session.get(f"{url}/user/edit/{name}", timeout=30).status_code == 200  # logged in
    return session


def admin() -> dict:
    return {"ignore_auth": True, "user": "site-admin-of-the-test"}


@pytest.fixture
def victim(platform):
    """A Mainz admin logged in with a browser session, and a Mainz dataset."""
    factories.Sysadmin(name="site-admin-of-the-test")
    user = factories.User(password=PASSWORD, fullname="Opfer Original", about="unverändert")
    call_action(
        "organization_member_create",
        context=admin(),
        id="mainz",
        username=user["name"],
        role="admin",
    )
    dataset = call_action(
        "package_create",
        context=admin(),
        name="mainz-ziel",
        title="Ziel",
        owner_org="mainz",
        notes="Ziel der CSRF-Prüfung.",
        theme=["SOCI"],
        spatial_granularity="stadt",
    )
    return {"user": user, "dataset": dataset, "session": browser(platform["url"], user["name"])}


def token_and_anonymous_requests(url: str, token: str, paths: list[str]) -> None:
    """What the platform sees all day: harvester token calls, and anonymous visitors."""
    for _ in range(ROUNDS):
        for path in paths:
            requests.get(
                url + path, headers={"Authorization": token}, allow_redirects=False, timeout=30
            )
            requests.get(url + path, allow_redirects=False, timeout=30)
        requests.post(
            f"{url}/api/3/action/organization_list_for_user",
            json={"permission": "create_dataset"},
            headers={"Authorization": token},
            timeout=30,
        )
        requests.post(f"{url}/api/3/action/package_search", json={"rows": 0}, timeout=30)


def test_cookie_only_cross_origin_posts_stay_refused_after_token_requests(platform, victim):
    url, user, dataset, session = (
        platform["url"],
        victim["user"],
        victim["dataset"],
        victim["session"],
    )
    name, token = user["name"], platform["tokens"]["mainz"].read_text().strip()
    forms = {
        "user-edit": (
            f"/user/edit/{name}",
            {
                "name": name,
                "email": user["email"],
                "fullname": "Gekapert",
                "about": "gekapert",
                "save": "",
            },
        ),
        "api-token": (f"/user/{name}/api-tokens", {"name": "gekapert"}),
        "dataset-delete": (f"/dataset/delete/{dataset['id']}", {"delete": ""}),
    }
    api = {
        "user_patch": {"id": name, "about": "gekapert per API"},
        "package_patch": {"id": dataset["id"], "title": "Gekapert per API"},
    }
    token_and_anonymous_requests(url, token, [path for path, _ in forms.values()])

    accepted = []
    for _ in range(ROUNDS // 2):  # new connections: the attacks reach both workers
        for kind, (path, data) in forms.items():
            response = requests.post(
                url + path,
                data=data,
                cookies=session.cookies,
                headers=EVIL,
                allow_redirects=False,
                timeout=30,
            )
            if response.status_code not in (400, 403):
                accepted.append(f"{kind}: HTTP {response.status_code}")
        for action, data in api.items():
            response = requests.post(
                f"{url}/api/3/action/{action}",
                json=data,
                cookies=session.cookies,
                headers=EVIL,
                timeout=30,
            )
            if response.status_code not in (400, 403):
                accepted.append(f"{action}: HTTP {response.status_code}")
    assert accepted == []
    shown = call_action("user_show", context=admin(), id=name)
    assert (shown["fullname"], shown["about"]) == ("Opfer Original", "unverändert")
    assert call_action("api_token_list", context=admin(), user_id=name) == []
    package = call_action("package_show", context=admin(), id=dataset["id"])
    assert (package["state"], package["title"]) == ("active", "Ziel")

    # what must keep working: token calls to the API, and the portal's own forms with their CSRF field
    patched = requests.post(
        f"{url}/api/3/action/package_patch",
        json={"id": dataset["id"], "title": "Per Token"},
        headers={"Authorization": token},
        timeout=30,
    )
    assert patched.status_code == 200, patched.text[:500]
    edit = session.get(f"{url}/user/edit/{name}", timeout=30)
    saved = session.post(
        f"{url}/user/edit/{name}",
        allow_redirects=False,
        timeout=30,
        data={
            **forms["user-edit"][1],
            "fullname": "Selbst geändert",
            "about": "per Formular",
            **csrf_field(edit),
        },
    )
    assert saved.status_code == 302, saved.text[:500]
    assert call_action("user_show", context=admin(), id=name)["fullname"] == "Selbst geändert"
    confirm = session.get(f"{url}/dataset/delete/{dataset['id']}", timeout=30)
    deleted = session.post(
        f"{url}/dataset/delete/{dataset['id']}",
        data={"delete": "", **csrf_field(confirm)},
        allow_redirects=False,
        timeout=30,
    )
    assert deleted.status_code == 302, deleted.text[:500]
    assert call_action("package_show", context=admin(), id=dataset["id"])["state"] == "deleted"


def test_password_guessing_locks_the_account_for_that_address(platform):
    """Five wrong passwords lock the account from that address for 15 minutes; other accounts log in."""
    from ckan.lib.redis import connect_to_redis

    from ckanext.vierstaedte.views.session_guard import failure_key

    url = platform["url"]
    user, other = factories.User(password=PASSWORD), factories.User(password=PASSWORD)
    for attempt in range(4):  # four typos, then the right password: the count starts again
        assert log_in(url, user["name"], f"falsch-{attempt}").status_code == 200
    assert log_in(url, user["name"], PASSWORD).status_code == 302
    for attempt in range(5):
        # by name and by e-mail: the same account
        assert (
            log_in(
                url, user["email"] if attempt % 2 else user["name"], f"falsch-{attempt}"
            ).status_code
            == 200
        )
    for login in (user["name"], user["email"]):
        locked = log_in(url, login, PASSWORD)
        assert locked.status_code == 429, locked.status_code
        assert int(locked.headers["Retry-After"]) > 14 * 60
    assert log_in(url, other["name"], PASSWORD).status_code == 302

    # fifteen minutes later (the counter's time to live, cut short here) the right password works again
    redis = connect_to_redis()
    key = failure_key(user["name"], "127.0.0.1")
    assert 14 * 60 < redis.ttl(key) <= 15 * 60
    redis.expire(key, 1)
    time.sleep(1.5)
    assert not redis.exists(key)
    assert log_in(url, user["name"], PASSWORD).status_code == 302
