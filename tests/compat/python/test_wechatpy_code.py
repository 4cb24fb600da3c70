"""Wire-compatibility proof: the merchant side of flows A and B with wechatpy 1.8.18.

Flow A: the merchant creates a coupon, signs a cardExt with the Service
Account's wx_card api_ticket, a Mini Program on the same open platform claims
it (`/sim/v1/addCard`, standing in for `wx.addCard`), and the merchant
decrypts the returned code. Flow B: the Mini Program opens the card with the
real code, and the merchant views and redeems it.

Everything the merchant does goes through wechatpy's own methods
(`client.card.*`, `client.jsapi.get_jsapi_card_ticket()`) and its own signer
(`wechatpy.utils.WeChatSigner`; 1.8.18 has no cardExt helper). The assertions
read the fields wechatpy returns. Only the Mini Program side and the outbox
are driven through wxcard's simulator and admin APIs with plain requests.
"""

import copy
import json
import re
import time
import uuid

import pytest
from wechatpy.exceptions import WeChatClientException
from wechatpy.utils import WeChatSigner, random_string

FIXED_TERM_DAYS = 30
UTC8 = 8 * 3600
DAY = 24 * 3600

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
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": FIXED_TERM_DAYS, "fixed_begin_term": 0},
            "sku": {"quantity": 100},
            "get_limit": 10,
        },
        "default_detail": "消费满50元立减10元",
    },
}


class Shop:
    """One merchant: a Service Account (driven by wechatpy), its Mini Program and a user."""

    def __init__(self, admin, client, apps):
        self.admin = admin
        self.client = client
        self.apps = apps
        self.appid = apps["service_account"]["appid"]
        self.mini_program_appid = apps["mini_program"]["appid"]
        self.user_id = apps["user_id"]
        self.openid = apps["service_account_openid"]

    def create_card(self, **base_info):
        card = copy.deepcopy(GENERAL_COUPON)
        card["general_coupon"]["base_info"].update(base_info)
        return self.client.card.create({"card": card})

    def card_ext(self, card_id, code=None, outer_str=None):
        """Sign a cardExt the way a wechatpy merchant does: WeChatSigner over
        (api_ticket, timestamp, card_id, code, openid, nonce_str)."""
        api_ticket = self.client.jsapi.get_jsapi_card_ticket()
        timestamp = int(time.time())
        nonce_str = random_string(16)
        signer = WeChatSigner()
        signer.add_data(api_ticket, timestamp, card_id, code, None, nonce_str)
        ext = {"timestamp": timestamp, "nonce_str": nonce_str, "signature": signer.signature}
        if code is not None:
            ext["code"] = code
        if outer_str is not None:
            ext["outer_str"] = outer_str
        return json.dumps(ext)

    def add_card(self, card_id, card_ext):
        """The Mini Program's wx.addCard; returns the simulator's result."""
        return self.admin.simulate(
            "addCard",
            {
                "user_id": self.user_id,
                "appid": self.mini_program_appid,
                "cardList": [{"cardId": card_id, "cardExt": card_ext}],
            },
        )

    def claim(self, card_id, code=None, outer_str=None):
        """Claim one card in the Mini Program and return its encrypted code."""
        result = self.add_card(card_id, self.card_ext(card_id, code=code, outer_str=outer_str))
        assert result["errMsg"] == "addCard:ok", result
        (item,) = result["cardList"]
        assert item["isSuccess"] is True
        return item["code"]

    def claim_code(self, card_id, code=None):
        """Claim one card and decrypt its code with wechatpy."""
        return self.client.card.decrypt_code(self.claim(card_id, code=code))

    def last_body(self, path):
        """The JSON body wechatpy sent in its last request to `path`."""
        return [body for p, body in self.client._http.bodies if p == path][-1]


@pytest.fixture
def shop(admin, make_client, linked_apps):
    service_account = linked_apps["service_account"]
    return Shop(admin, make_client(service_account["appid"], service_account["secret"]), linked_apps)


def start_of_day_utc8(epoch):
    return (epoch + UTC8) // DAY * DAY - UTC8


def assert_errcode(raised, errcode):
    assert raised.value.errcode == errcode, (raised.value.errcode, raised.value.errmsg)


# --- Flow A: claim in the Mini Program, decrypt on the merchant side ------------------


def test_a_card_claimed_in_the_mini_program_decrypts_to_the_code_pushed_in_user_get_card(shop):
    card_id = shop.create_card()
    card_ext = shop.card_ext(card_id, outer_str="poster-01")

    result = shop.add_card(card_id, card_ext)

    assert result["errMsg"] == "addCard:ok"
    (item,) = result["cardList"]
    assert item["cardId"] == card_id
    assert item["cardExt"] == card_ext
    assert item["isSuccess"] is True
    encrypted = item["code"]

    code = shop.client.card.decrypt_code(encrypted)

    assert re.fullmatch(r"[0-9]{12}", code), code
    assert encrypted != code
    assert shop.last_body("/card/code/decrypt") == {"encrypt_code": encrypted}
    # The platform pushes user_get_card with the *Service Account* openid (not
    # the Mini Program's), the unionid that joins the two, and the outer_str.
    (event,) = shop.admin.events(shop.appid, "user_get_card")
    assert event["payload"]["card_id"] == card_id
    assert event["payload"]["code"] == code
    assert event["payload"]["openid"] == shop.openid
    assert event["payload"]["openid"] != shop.apps["mini_program_openid"]
    assert event["payload"]["union_id"] == shop.apps["unionid"]
    assert event["payload"]["outer_str"] == "poster-01"


def test_a_signed_card_ext_claims_once_and_its_replay_is_refused(shop):
    card_id = shop.create_card()
    card_ext = shop.card_ext(card_id)
    first = shop.add_card(card_id, card_ext)

    replay = shop.add_card(card_id, card_ext)

    assert first["errMsg"] == "addCard:ok"
    assert replay["errMsg"].startswith("addCard:fail")
    assert replay["errcode"] == 40080
    assert replay["diagnosis"]["summary"]
    (held,) = shop.client.card.get_card_list(shop.openid)["card_list"]
    assert held["code"] == shop.client.card.decrypt_code(first["cardList"][0]["code"])
    assert len(shop.admin.events(shop.appid, "user_get_card")) == 1


# --- Flow B: view the card, then redeem it ---------------------------------------------


def test_open_card_takes_the_decrypted_code_and_refuses_the_encrypted_one(shop):
    card_id = shop.create_card()
    encrypted = shop.claim(card_id)
    code = shop.client.card.decrypt_code(encrypted)

    def open_card(value):
        return shop.admin.simulate(
            "openCard",
            {"user_id": shop.user_id, "appid": shop.mini_program_appid, "cardList": [{"cardId": card_id, "code": value}]},
        )

    assert open_card(code)["errMsg"] == "openCard:ok"
    wrong = open_card(encrypted)
    assert wrong["errMsg"].startswith("openCard:fail")
    assert "/card/code/decrypt" in wrong["diagnosis"]["summary"]


def test_get_code_shows_a_claimed_code_as_normal_with_its_fixed_term_window(shop):
    card_id = shop.create_card()
    before = shop.admin.clock_now()
    code = shop.claim_code(card_id)
    after = shop.admin.clock_now()

    info = shop.client.card.get_code(code)

    # check_consume defaults to True, and wechatpy then leaves it out.
    assert shop.last_body("/card/code/get") == {"code": code}
    assert info["card"]["card_id"] == card_id
    assert info["openid"] == shop.openid
    assert info["can_consume"] is True
    assert info["user_card_status"] == "NORMAL"
    # DATE_TYPE_FIX_TERM, fixed_begin_term 0: from the start of the claim day
    # (UTC+8) for 30 days.
    begin = info["card"]["begin_time"]
    assert begin in {start_of_day_utc8(before), start_of_day_utc8(after)}
    assert info["card"]["end_time"] == begin + FIXED_TERM_DAYS * DAY - 1


def test_consume_code_redeems_once_and_a_second_consume_raises_40099(shop):
    card_id = shop.create_card()
    code = shop.claim_code(card_id)

    consumed = shop.client.card.consume_code(code)
    with pytest.raises(WeChatClientException) as again:
        shop.client.card.consume_code(code)

    assert shop.last_body("/card/code/consume") == {"code": code}
    assert consumed["card"]["card_id"] == card_id
    assert consumed["openid"] == shop.openid
    assert_errcode(again, 40099)
    (event,) = shop.admin.events(shop.appid, "user_consume_card")
    assert event["payload"]["card_id"] == card_id
    assert event["payload"]["code"] == code
    assert event["payload"]["openid"] == shop.openid
    assert event["payload"]["consume_source"] == "FROM_API"


def test_get_code_on_a_consumed_code_raises_40099_unless_check_consume_is_false(shop):
    card_id = shop.create_card()
    code = shop.claim_code(card_id)
    shop.client.card.consume_code(code, card_id)

    with pytest.raises(WeChatClientException) as checked:
        shop.client.card.get_code(code, card_id)
    info = shop.client.card.get_code(code, card_id, check_consume=False)

    assert_errcode(checked, 40099)
    assert shop.last_body("/card/code/get") == {"code": code, "card_id": card_id, "check_consume": False}
    assert info["card"]["card_id"] == card_id
    assert info["openid"] == shop.openid
    assert info["can_consume"] is False
    assert info["user_card_status"] == "CONSUMED"


def test_get_card_list_lists_the_codes_the_user_still_holds(shop):
    card_id = shop.create_card()
    other_card_id = shop.create_card()
    consumed, invalidated, kept = (shop.claim_code(card_id) for _ in range(3))
    other = shop.claim_code(other_card_id)

    everything = shop.client.card.get_card_list(shop.openid)
    shop.client.card.consume_code(consumed)
    shop.client.card.invalid_code(invalidated)
    remaining = shop.client.card.get_card_list(shop.openid)
    of_one_card = shop.client.card.get_card_list(shop.openid, card_id)

    def pairs(listing):
        return sorted((c["card_id"], c["code"]) for c in listing["card_list"])

    assert pairs(everything) == sorted(
        [(card_id, consumed), (card_id, invalidated), (card_id, kept), (other_card_id, other)]
    )
    assert everything["has_share_card"] is False
    assert pairs(remaining) == sorted([(card_id, kept), (other_card_id, other)])
    assert pairs(of_one_card) == [(card_id, kept)]
    assert shop.last_body("/card/user/getcardlist") == {"openid": shop.openid, "card_id": card_id}


def test_invalid_code_makes_a_claimed_code_unavailable_for_good(shop):
    card_id = shop.create_card()
    invalidated = shop.claim_code(card_id)
    untouched = shop.claim_code(card_id)

    result = shop.client.card.invalid_code(invalidated)

    assert result["errcode"] == 0
    assert shop.last_body("/card/code/unavailable") == {"code": invalidated}
    info = shop.client.card.get_code(invalidated, check_consume=False)
    assert info["user_card_status"] == "UNAVAILABLE"
    assert info["can_consume"] is False
    with pytest.raises(WeChatClientException) as checked:
        shop.client.card.get_code(invalidated)
    assert_errcode(checked, 40127)
    with pytest.raises(WeChatClientException) as consumed:
        shop.client.card.consume_code(invalidated)
    assert_errcode(consumed, 40127)
    # The user's other code is not affected.
    assert shop.client.card.get_code(untouched)["user_card_status"] == "NORMAL"


# --- Custom codes ----------------------------------------------------------------------


def test_a_system_code_card_refuses_a_card_ext_that_carries_a_code(shop):
    card_id = shop.create_card()

    result = shop.add_card(card_id, shop.card_ext(card_id, code="123456789012"))

    assert result["errMsg"].startswith("addCard:fail")
    assert result["errcode"] == 40080
    assert result["diagnosis"]["summary"]
    assert shop.client.card.get_card_list(shop.openid)["card_list"] == []


def test_a_custom_code_card_is_claimed_with_the_code_signed_into_the_card_ext(shop):
    card_id = shop.create_card(use_custom_code=True)
    custom = "WXPY" + uuid.uuid4().hex[:12].upper()

    without_code = shop.add_card(card_id, shop.card_ext(card_id))
    code = shop.claim_code(card_id, code=custom)

    assert without_code["errMsg"].startswith("addCard:fail")
    assert without_code["errcode"] == 40080
    assert code == custom
    # A custom code is unique only within its card, so card_id is required.
    with pytest.raises(WeChatClientException) as no_card_id:
        shop.client.card.get_code(custom)
    assert_errcode(no_card_id, 41012)
    assert shop.client.card.get_code(custom, card_id)["user_card_status"] == "NORMAL"


def test_update_code_rekeys_a_custom_code_and_the_new_code_is_redeemable(shop):
    card_id = shop.create_card(use_custom_code=True)
    old_code = "OLD" + uuid.uuid4().hex[:12].upper()
    new_code = "NEW" + uuid.uuid4().hex[:12].upper()
    assert shop.claim_code(card_id, code=old_code) == old_code

    result = shop.client.card.update_code(card_id, old_code, new_code)

    assert result["errcode"] == 0
    assert shop.last_body("/card/code/update") == {"card_id": card_id, "code": old_code, "new_code": new_code}
    info = shop.client.card.get_code(new_code, card_id)
    assert info["openid"] == shop.openid
    assert info["user_card_status"] == "NORMAL"
    with pytest.raises(WeChatClientException) as gone:
        shop.client.card.get_code(old_code, card_id)
    assert_errcode(gone, 40056)
    held = shop.client.card.get_card_list(shop.openid, card_id)["card_list"]
    assert held == [{"code": new_code, "card_id": card_id}]
    assert shop.client.card.consume_code(new_code, card_id)["openid"] == shop.openid


# --- Deposit mode: codes imported by the merchant, handed out by the platform ----------


def test_deposit_code_get_deposit_count_and_check_code_manage_a_deposit_card(shop):
    card_id = shop.create_card(
        use_custom_code=True, get_custom_code_mode="GET_CUSTOM_CODE_MODE_DEPOSIT", sku={"quantity": 0}
    )
    prefix = "DEP" + uuid.uuid4().hex[:8].upper()
    first = [prefix + "01", prefix + "02", prefix + "03"]

    deposited = shop.client.card.deposit_code(card_id, first)
    again = shop.client.card.deposit_code(card_id, [prefix + "03", prefix + "04"])
    count = shop.client.card.get_deposit_count(card_id)
    checked = shop.client.card.check_code(card_id, [prefix + "01", prefix + "04", prefix + "99"])

    assert shop.last_body("/card/code/deposit") == {"card_id": card_id, "code": [prefix + "03", prefix + "04"]}
    assert deposited["succ_code"] == first
    assert deposited["duplicate_code"] == [] and deposited["fail_code"] == []
    assert again["succ_code"] == [prefix + "04"]
    assert again["duplicate_code"] == [prefix + "03"]
    assert count["count"] == 4
    assert checked["exist_code"] == [prefix + "01", prefix + "04"]
    assert checked["not_exist_code"] == [prefix + "99"]

    # Stock may rise only up to the codes deposited and not handed out yet.
    with pytest.raises(WeChatClientException) as too_much:
        shop.client.card.modify_stock(card_id, 5)
    assert_errcode(too_much, 40136)
    shop.client.card.modify_stock(card_id, 4)
    assert shop.client.card.get(card_id)["general_coupon"]["base_info"]["sku"]["quantity"] == 4

    # The platform hands out a deposited code; the cardExt carries none.
    code = shop.claim_code(card_id)
    assert code in first + [prefix + "04"]
    info = shop.client.card.get_code(code, card_id)
    assert info["openid"] == shop.openid
    assert info["user_card_status"] == "NORMAL"
    with pytest.raises(WeChatClientException) as over_remaining:
        shop.client.card.modify_stock(card_id, 1)
    assert_errcode(over_remaining, 40136)


# --- Per-code ticket details and card cells ---------------------------------------


def create_ticket_card(shop, card_type, **fields):
    base_info = copy.deepcopy(GENERAL_COUPON["general_coupon"]["base_info"])
    card = {"card_type": card_type, card_type.lower(): {"base_info": base_info, **fields}}
    return shop.client.card.create({"card": card})


def test_update_movie_ticket_stores_the_showing_and_names_a_missing_field(shop):
    card_id = create_ticket_card(shop, "MOVIE_TICKET", detail="电影简介")
    code = shop.claim_code(card_id)

    shop.client.card.update_movie_ticket(code, "4D", 1900000000, 120, "5号厅", ["5排14号"])
    with pytest.raises(WeChatClientException) as no_room:
        shop.client.card.update_movie_ticket(code, "4D", 1900000000, 120, "", ["5排14号"])

    assert shop.last_body("/card/movieticket/updateuser")["screening_room"] == ""
    assert_errcode(no_room, 41016)
    (held,) = shop.admin.card_package(shop.user_id)
    assert held["ticket"]["screening_room"] == "5号厅"
    assert held["ticket"]["seat_number"] == ["5排14号"]


def test_checkin_boardingpass_accepts_wechatpys_defaults_and_a_cancel(shop):
    card_id = create_ticket_card(shop, "BOARDING_PASS", **{"from": "广州", "to": "北京", "flight": "CE123"})
    code = shop.claim_code(card_id)

    shop.client.card.checkin_boardingpass(code, "乘客", "经济舱", "12345678901234")
    checked_in = shop.last_body("/card/boardingpass/checkin")
    shop.client.card.checkin_boardingpass(code, "乘客", "经济舱", "12345678901234", is_cancel=True)

    # wechatpy sends an empty seat and gate and no qrcode_data unless told otherwise.
    assert checked_in["seat"] == "" and "qrcode_data" not in checked_in
    (held,) = shop.admin.card_package(shop.user_id)
    assert held["ticket"]["is_cancel"] is True


def test_set_paycell_opens_the_cell_and_refuses_a_card_with_a_centre_button(shop):
    plain = shop.create_card()
    with_centre = shop.create_card(center_title="立即使用", center_url="https://shop.example/use")

    shop.client.card.set_paycell(plain, True)
    with pytest.raises(WeChatClientException) as conflict:
        shop.client.card.set_paycell(with_centre, True)

    assert shop.last_body("/card/paycell/set") == {"card_id": with_centre, "is_open": True}
    assert_errcode(conflict, 40145)
