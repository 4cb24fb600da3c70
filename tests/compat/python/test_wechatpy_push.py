"""Wire-compatibility proof for event pushes: wxcard pushes card events to a
developer server built on wechatpy 1.8.18's server-side helpers.

Each test starts a tiny receiver in this process (`http.server` on
127.0.0.1, port 0, in a thread). It answers WeChat's URL handshake with
`wechatpy.utils.check_signature` and the echostr, checks the signature of
every POST the same way, records it and answers "success". The test then
configures the Service Account's push URL (`PUT /admin/v1/apps/{appid}/push`),
makes something happen through wechatpy or the simulator, waits (bounded
polling of `GET /admin/v1/events`) until wxcard reports the event delivered,
and reads the pushed body with wechatpy alone: `wechatpy.parse_message` in
plain mode, `wechatpy.crypto.WeChatCrypto.decrypt_message` then
`parse_message` in safe and compatible mode.
"""

import json
import random
import string
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import (
    CardPassCheckEvent,
    UserConsumeCardEvent,
    UserDeleteCardEvent,
    UserGetCardEvent,
)
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner, check_signature, random_string

DELIVERY_TIMEOUT = 10.0
POLL_INTERVAL = 0.05

GENERAL_COUPON = {
    "card_type": "GENERAL_COUPON",
    "general_coupon": {
        "base_info": {
            "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0",
            "brand_name": "示例咖啡",
            "code_type": "CODE_TYPE_QRCODE",
            "title": "满50减10元",
            "color": "Color020",
            "notice": "结账时出示二维码",
            "description": "每单限用一张",
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0},
            "sku": {"quantity": 100},
            "get_limit": 10,
        },
        "default_detail": "消费满50元立减10元",
    },
}


class Receiver:
    """A developer server: wechatpy's check_signature on every request.

    `requests` holds (method, query, body, status answered) for each request.
    """

    def __init__(self, token):
        self.token = token
        self.requests = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _query(self):
                return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

            def _answer(self, status, text):
                body = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _signed(self, query):
                try:
                    check_signature(
                        receiver.token, query.get("signature"), query.get("timestamp"), query.get("nonce")
                    )
                except InvalidSignatureException:
                    return False
                return True

            def do_GET(self):
                query = self._query()
                status = 200 if self._signed(query) else 403
                receiver._record("GET", query, "", status)
                self._answer(status, query.get("echostr", "") if status == 200 else "invalid signature")

            def do_POST(self):
                query = self._query()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                status = 200 if self._signed(query) else 403
                receiver._record("POST", query, body, status)
                self._answer(status, "success" if status == 200 else "invalid signature")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address
        self.url = "http://%s:%d/wechat" % (host, port)

    def _record(self, method, query, body, status):
        with self._lock:
            self.requests.append((method, query, body, status))

    def posts(self):
        with self._lock:
            return [(query, body, status) for method, query, body, status in self.requests if method == "POST"]

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def encoding_aes_key():
    """43 letters and digits ending in 'G', so that key + '=' is not canonical
    base64 (as most console keys are, crypto.md A.4)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choice(alphabet) for _ in range(42)) + "G"


class PushingShop:
    """A Service Account (driven by wechatpy) whose events go to a Receiver,
    its Mini Program on the same open platform, and a user."""

    def __init__(self, admin, client, apps, mode):
        self.admin = admin
        self.client = client
        self.mode = mode
        self.account = apps["service_account"]
        self.appid = self.account["appid"]
        self.mini_program_appid = apps["mini_program"]["appid"]
        self.user_id = apps["user_id"]
        self.openid = apps["service_account_openid"]
        self.unionid = apps["unionid"]
        self.token = "py" + uuid.uuid4().hex[:12]
        self.aes_key = None if mode == "plain" else encoding_aes_key()
        self.receiver = Receiver(self.token)

    def configure_push(self):
        payload = {"url": self.receiver.url, "token": self.token, "mode": self.mode}
        if self.aes_key is not None:
            payload["encoding_aes_key"] = self.aes_key
        res = self.admin.http.put("%s/admin/v1/apps/%s/push" % (self.admin.base, self.appid), json=payload)
        return res.status_code, res.json()

    def create_card(self):
        return self.client.card.create({"card": GENERAL_COUPON})

    def claim(self, card_id, outer_str):
        """Claim the card in the Mini Program with a cardExt signed by
        WeChatSigner, and return the code wechatpy decrypts."""
        api_ticket = self.client.jsapi.get_jsapi_card_ticket()
        timestamp = int(time.time())
        nonce_str = random_string(16)
        signer = WeChatSigner()
        signer.add_data(api_ticket, timestamp, card_id, None, None, nonce_str)
        card_ext = json.dumps(
            {"timestamp": timestamp, "nonce_str": nonce_str, "signature": signer.signature, "outer_str": outer_str}
        )
        result = self.admin.simulate(
            "addCard",
            {"user_id": self.user_id, "appid": self.mini_program_appid, "cardList": [{"cardId": card_id, "cardExt": card_ext}]},
        )
        assert result["errMsg"] == "addCard:ok", result
        (item,) = result["cardList"]
        assert item["isSuccess"] is True
        return self.client.card.decrypt_code(item["code"])

    def delivered(self, event):
        """Wait until the outbox holds exactly one `event` for the account and
        it is delivered; return its details (with `deliveries`)."""
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while True:
            events = self.admin.events(self.appid, event)
            if len(events) == 1 and events[0]["status"] == "delivered":
                return self.admin.get("/admin/v1/events/%d" % events[0]["id"])
            if time.monotonic() > deadline:
                details = [self.admin.get("/admin/v1/events/%d" % e["id"]) for e in events]
                pytest.fail("waited %.0f s for %s to be delivered; the outbox holds %r" % (DELIVERY_TIMEOUT, event, details))
            time.sleep(POLL_INTERVAL)

    def pushed(self, event):
        """The one push (query, body, decrypted XML) whose message is `event`."""
        found = []
        for query, body, status in self.receiver.posts():
            xml = self.decrypt(query, body) if self.mode != "plain" else body
            if xmltodict.parse(xml)["xml"].get("Event") == event:
                assert status == 200, (query, body)
                found.append((query, body, xml))
        assert len(found) == 1, found
        return found[0]

    def decrypt(self, query, body):
        crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
        return crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])


@pytest.fixture
def pushing_shop(admin, make_client, linked_apps):
    """Build a PushingShop for a mode, with its push URL configured."""
    shops = []

    def build(mode):
        account = linked_apps["service_account"]
        shop = PushingShop(admin, make_client(account["appid"], account["secret"]), linked_apps, mode)
        shops.append(shop)
        status, body = shop.configure_push()
        assert status == 200, body
        assert body["ok"] is True, body
        assert body["errcode"] == 0
        ((method, query, _, answered),) = shop.receiver.requests
        assert method == "GET" and answered == 200, query
        return shop

    yield build
    for shop in shops:
        shop.receiver.close()


def assert_delivered_once(detail, shop):
    assert detail["status"] == "delivered"
    assert detail["attempts"] == 1
    (delivery,) = detail["deliveries"]
    assert delivery["http_status"] == 200
    assert delivery["answer"] == "success"
    assert delivery["error"] is None
    assert delivery["url"] == shop.receiver.url


# --- Plain mode ---------------------------------------------------------------------


def test_plain_mode_pushes_card_pass_check_that_wechatpy_parses_into_a_CardPassCheckEvent(pushing_shop):
    shop = pushing_shop("plain")

    card_id = shop.create_card()
    detail = shop.delivered("card_pass_check")
    query, body, _ = shop.pushed("card_pass_check")
    message = parse_message(body)

    assert isinstance(message, CardPassCheckEvent)
    assert message.type == "event"
    assert message.event == "card_pass_check"
    assert message.card_id == card_id
    assert message.target == shop.account["original_id"]
    assert message.time == detail["created_at"]
    assert message.source
    assert "encrypt_type" not in query and "msg_signature" not in query
    assert "openid" not in query
    assert detail["payload"]["card_id"] == card_id
    assert_delivered_once(detail, shop)


def test_plain_mode_pushes_user_get_card_that_wechatpy_parses_with_the_claimed_code_openid_unionid_and_outer_str(
    pushing_shop,
):
    shop = pushing_shop("plain")
    card_id = shop.create_card()

    code = shop.claim(card_id, outer_str="py-poster")
    detail = shop.delivered("user_get_card")
    query, body, _ = shop.pushed("user_get_card")
    message = parse_message(body)

    assert isinstance(message, UserGetCardEvent)
    assert message.card_id == card_id
    assert message.code == code
    assert message.source == shop.openid
    assert message.target == shop.account["original_id"]
    assert message.outer_str == "py-poster"
    assert message.is_given_by_friend == 0
    assert message.friend is None
    assert message.old_code is None
    assert message.union_id == shop.unionid
    assert message.time == detail["created_at"]
    assert query["openid"] == shop.openid
    assert_delivered_once(detail, shop)


def test_plain_mode_pushes_user_consume_card_after_consume_code_with_consume_source_FROM_API(pushing_shop):
    shop = pushing_shop("plain")
    card_id = shop.create_card()
    code = shop.claim(card_id, outer_str="py-consume")

    consumed = shop.client.card.consume_code(code, card_id)
    detail = shop.delivered("user_consume_card")
    query, body, _ = shop.pushed("user_consume_card")
    message = parse_message(body)

    assert consumed["openid"] == shop.openid
    assert isinstance(message, UserConsumeCardEvent)
    assert message.card_id == card_id
    assert message.code == code
    assert message.consume_source == "FROM_API"
    assert message.source == shop.openid
    assert message.target == shop.account["original_id"]
    assert query["openid"] == shop.openid
    assert_delivered_once(detail, shop)


def test_plain_mode_pushes_user_del_card_when_the_user_deletes_the_card_from_the_card_package(pushing_shop):
    shop = pushing_shop("plain")
    card_id = shop.create_card()
    code = shop.claim(card_id, outer_str="py-delete")

    shop.admin.post("/sim/v1/users/%s/cards/%s/%s/delete" % (shop.user_id, card_id, code), {})
    detail = shop.delivered("user_del_card")
    query, body, _ = shop.pushed("user_del_card")
    message = parse_message(body)

    assert isinstance(message, UserDeleteCardEvent)
    assert message.card_id == card_id
    assert message.code == code
    assert message.source == shop.openid
    assert message.target == shop.account["original_id"]
    assert query["openid"] == shop.openid
    assert_delivered_once(detail, shop)


# --- Safe and compatible mode ---------------------------------------------------------


def test_safe_mode_pushes_only_ToUserName_and_Encrypt_which_WeChatCrypto_decrypts_to_card_pass_check(pushing_shop):
    shop = pushing_shop("safe")

    card_id = shop.create_card()
    detail = shop.delivered("card_pass_check")
    query, body, xml = shop.pushed("card_pass_check")
    message = parse_message(xml)

    assert query["encrypt_type"] == "aes"
    assert list(xmltodict.parse(body)["xml"]) == ["ToUserName", "Encrypt"]
    assert xmltodict.parse(body)["xml"]["ToUserName"] == shop.account["original_id"]
    assert isinstance(message, CardPassCheckEvent)
    assert message.card_id == card_id
    assert message.target == shop.account["original_id"]
    assert message.time == detail["created_at"]
    # The ciphertext names the account's appid: another appid refuses it.
    with pytest.raises(InvalidAppIdException):
        WeChatCrypto(shop.token, shop.aes_key, "wx0000000000000000").decrypt_message(
            body, query["msg_signature"], query["timestamp"], query["nonce"]
        )
    assert_delivered_once(detail, shop)


def test_safe_mode_pushes_user_get_card_that_decrypts_to_the_claimed_code_and_openid(pushing_shop):
    shop = pushing_shop("safe")
    card_id = shop.create_card()

    code = shop.claim(card_id, outer_str="py-safe")
    detail = shop.delivered("user_get_card")
    query, body, xml = shop.pushed("user_get_card")
    message = parse_message(xml)

    assert list(xmltodict.parse(body)["xml"]) == ["ToUserName", "Encrypt"]
    assert isinstance(message, UserGetCardEvent)
    assert message.card_id == card_id
    assert message.code == code
    assert message.source == shop.openid
    assert message.outer_str == "py-safe"
    assert message.union_id == shop.unionid
    assert query["openid"] == shop.openid
    assert_delivered_once(detail, shop)


def test_compatible_mode_pushes_the_plain_elements_and_an_Encrypt_that_decrypts_to_the_same_user_get_card(
    pushing_shop,
):
    shop = pushing_shop("compatible")
    card_id = shop.create_card()

    code = shop.claim(card_id, outer_str="py-compatible")
    detail = shop.delivered("user_get_card")
    query, body, xml = shop.pushed("user_get_card")
    plain = parse_message(body)
    decrypted = parse_message(xml)

    assert query["encrypt_type"] == "aes"
    assert isinstance(plain, UserGetCardEvent)
    assert isinstance(decrypted, UserGetCardEvent)
    plain_fields = dict(xmltodict.parse(body)["xml"])
    assert plain_fields.pop("Encrypt")
    assert plain_fields == dict(xmltodict.parse(xml)["xml"])
    assert decrypted.card_id == card_id
    assert decrypted.code == code
    assert decrypted.source == shop.openid
    assert decrypted.outer_str == "py-compatible"
    assert_delivered_once(detail, shop)


def test_a_push_url_whose_server_does_not_verify_the_token_is_refused_with_400(admin, make_client, linked_apps):
    account = linked_apps["service_account"]
    shop = PushingShop(admin, make_client(account["appid"], account["secret"]), linked_apps, "plain")
    try:
        real_token = shop.token
        shop.token = real_token + "x"

        status, body = shop.configure_push()

        assert status == 400, body
        assert body["ok"] is False
        assert "403" in body["detail"], body
        ((method, query, _, answered),) = shop.receiver.requests
        assert method == "GET"
        assert answered == 403
        with pytest.raises(InvalidSignatureException):
            check_signature(real_token, query["signature"], query["timestamp"], query["nonce"])
        check_signature(shop.token, query["signature"], query["timestamp"], query["nonce"])
    finally:
        shop.receiver.close()
