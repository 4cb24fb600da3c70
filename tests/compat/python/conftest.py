"""Shared fixtures of the wechatpy compatibility tests: the unmodified wechatpy 1.8.18 client
against wxcard.

The server under test is given by the environment variable WXCARD_URL
(for example http://127.0.0.1:40123). `tests/compat/run.sh` starts one and
sets it. Every account is created through the admin API, so the tests need
no fixtures on disk and can run against a fresh database.

wechatpy hard-codes https://api.weixin.qq.com. We redirect it at the
transport level: the client's private `_http` session is replaced by one
that rewrites WeChat hosts to WXCARD_URL and refuses to send anything
anywhere else. wechatpy itself is not patched.
"""

import base64
import json
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

# Hosts that wechatpy 1.8.18 talks to for the APIs used here (and a few
# neighbours, so a stray call is redirected rather than leaked).
WECHAT_HOSTS = frozenset(
    {"api.weixin.qq.com", "mp.weixin.qq.com", "file.api.weixin.qq.com"}
)

TOKEN_LIFETIME = 7200
REFRESH_GRACE = 300


class RedirectingSession(requests.Session):
    """A requests.Session that sends WeChat traffic to the local server.

    Every request made through it is recorded in `self.sent` as
    (METHOD, path, query) so tests can check what went on the wire; the
    JSON body of each request that has one is kept in `self.bodies` as
    (path, decoded body).
    """

    def __init__(self, base_url):
        super().__init__()
        target = urlsplit(base_url)
        self._scheme = target.scheme
        self._netloc = target.netloc
        self.sent = []
        self.bodies = []

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname in WECHAT_HOSTS:
            parts = parts._replace(scheme=self._scheme, netloc=self._netloc)
        if parts.netloc != self._netloc:
            raise AssertionError(
                "wechatpy tried to reach %s, which is not the server under test" % url
            )
        # Copy the query: wechatpy's auto-retry mutates the same dict in place.
        self.sent.append((method.upper(), parts.path, dict(kwargs.get("params") or {})))
        if kwargs.get("data"):
            self.bodies.append((parts.path, json.loads(kwargs["data"])))
        return super().request(method, urlunsplit(parts), *args, **kwargs)


class Admin:
    """Thin helper around wxcard's admin and simulator APIs."""

    def __init__(self, base_url):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()

    def _check(self, res):
        assert res.status_code == 200, (res.status_code, res.text)
        body = res.json()
        assert body.get("errcode", 0) == 0, body
        return body

    def post(self, path, payload):
        return self._check(self.http.post(self.base + path, json=payload))

    def get(self, path):
        return self._check(self.http.get(self.base + path))

    def new_name(self, prefix):
        return "%s-%s" % (prefix, uuid.uuid4().hex[:8])

    def create_open_platform(self):
        return self.post("/admin/v1/open-platforms", {"name": self.new_name("op")})["id"]

    def create_app(self, kind, open_platform_id=None):
        payload = {"kind": kind, "name": self.new_name(kind)}
        if open_platform_id is not None:
            payload["open_platform_id"] = open_platform_id
        app = self.post("/admin/v1/apps", payload)
        assert app["kind"] == kind
        assert app["appid"] and app["secret"]
        return app

    def create_user(self):
        return self.post("/admin/v1/users", {"nickname": self.new_name("user")})["user_id"]

    def user(self, user_id):
        return self.get("/admin/v1/users/%s" % user_id)

    def login(self, user_id, appid):
        res = self.post("/sim/v1/login", {"user_id": user_id, "appid": appid})
        assert res["errMsg"] == "login:ok", res
        return res["code"]

    def advance_clock(self, seconds):
        return self.post("/admin/v1/clock/advance", {"seconds": seconds})

    def clock_now(self):
        """The platform clock (epoch seconds), which tests may have moved forward."""
        return self.get("/admin/v1/clock")["now"]

    def simulate(self, operation, payload):
        """Call the client simulator (`/sim/v1/<operation>`) and return its JSON.

        A failed wx.* call is still HTTP 200 with `errMsg` "<operation>:fail ...",
        so the errcode is not checked here.
        """
        res = self.http.post("%s/sim/v1/%s" % (self.base, operation), json=payload)
        assert res.status_code == 200, (res.status_code, res.text)
        return res.json()

    def card_package(self, user_id):
        """The cards a simulated user holds, as the simulator's card package shows them."""
        return self.get("/sim/v1/users/%s/cards" % user_id)["cards"]

    def events(self, appid, event):
        """The outbox events of one kind written for an app, newest first."""
        res = self.http.get(self.base + "/admin/v1/events", params={"appid": appid, "event": event})
        return self._check(res)["events"]


@pytest.fixture(scope="session")
def base_url():
    url = os.environ.get("WXCARD_URL")
    if not url:
        pytest.fail(
            "WXCARD_URL is not set: start `wxcard serve` and export its URL, "
            "or use tests/compat/run.sh"
        )
    return url.rstrip("/")


@pytest.fixture(scope="session")
def admin(base_url):
    return Admin(base_url)


@pytest.fixture
def make_client(base_url):
    """Build a WeChatClient whose traffic goes to the server under test."""

    def build(appid, secret, auto_retry=False):
        client = WeChatClient(appid, secret, auto_retry=auto_retry)
        client._http = RedirectingSession(base_url)
        return client

    return build


@pytest.fixture
def service_account(admin):
    return admin.create_app("service_account")


@pytest.fixture
def client(make_client, service_account):
    return make_client(service_account["appid"], service_account["secret"])


@pytest.fixture
def linked_apps(admin):
    """A Service Account and a Mini Program on one open platform, and a user.

    Sharing the open platform is what lets the Mini Program hand out the
    Service Account's cards (wx.addCard).
    """
    open_platform_id = admin.create_open_platform()
    service_account = admin.create_app("service_account", open_platform_id=open_platform_id)
    mini_program = admin.create_app("mini_program", open_platform_id=open_platform_id)
    user_id = admin.create_user()
    user = admin.user(user_id)
    return {
        "open_platform_id": open_platform_id,
        "service_account": service_account,
        "mini_program": mini_program,
        "user_id": user_id,
        "service_account_openid": user["openids"][service_account["appid"]],
        "mini_program_openid": user["openids"][mini_program["appid"]],
        "unionid": user["unionids"][open_platform_id],
    }


@pytest.fixture
def mini_program_login(admin):
    """A Mini Program on an open platform, a user, and a fresh wx.login code."""
    open_platform_id = admin.create_open_platform()
    app = admin.create_app("mini_program", open_platform_id=open_platform_id)
    user_id = admin.create_user()
    code = admin.login(user_id, app["appid"])
    return {
        "app": app,
        "open_platform_id": open_platform_id,
        "user_id": user_id,
        "code": code,
    }

