"""Wire-compatibility proof: member cards and the card-opening component with wechatpy 1.8.18.

Flow C (membercard.md §2, card-opening-component.md): the merchant creates a
MEMBER_CARD with one-tap activation, sets its form
(`card.set_activate_user_form`), gets the component's link
(`card.get_activate_url`) and parses its query the way membercard.md §2.3
says. A Mini Program on the same open platform opens the component with those
values as `extraData` (`/sim/v1/navigateToMiniProgram`, standing in for
`wx.navigateToMiniProgram`) and the user submits the form
(`/sim/v1/component/{session}/submit`). For a jump-type card the Mini Program
gets back the real code and an `activate_ticket`; the merchant reads the form
(`card.get_activate_info`) and activates the member
(`card.activate_membercard`). A non-jump card is activated by the submission.
The merchant then reads and updates the member
(`card.get_membercard_user_info`, `card.update_membercard`).

Everything the merchant does is a wechatpy call; only the user's side (the
component) and the outbox go through wxcard's simulator and admin APIs with
plain requests.
"""

import base64
import copy
import uuid
from urllib.parse import unquote

import pytest
from wechatpy.exceptions import WeChatClientException

COMPONENT_APPID = "wxeb490c6f9b154ef9"
RETURN_SCENE = 1038
AFTER_SUBMIT_URL = "https://member.example.com/wx/activated"

MOBILE = "USER_FORM_INFO_FLAG_MOBILE"
NAME = "USER_FORM_INFO_FLAG_NAME"
BIRTHDAY = "USER_FORM_INFO_FLAG_BIRTHDAY"

# The user's earlier WeChat data, which pre-fills the component's form.
PROFILE = {"mobile": "13800138000", "name": "韩梅梅"}

MEMBER_CARD = {
    "card_type": "MEMBER_CARD",
    "member_card": {
        "base_info": {
            "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0",
            "brand_name": "示例咖啡",
            "code_type": "CODE_TYPE_QRCODE",
            "title": "示例咖啡会员卡",
            "color": "Color010",
            "notice": "结账时出示会员卡",
            "description": "会员权益以门店公告为准",
            "date_info": {"type": "DATE_TYPE_PERMANENT"},
            "sku": {"quantity": 1000},
            "get_limit": 1,
        },
        "prerogative": "会员消费9折，生日当月赠饮一杯",
        "supply_bonus": True,
        "bonus_rules": "每消费1元积1分",
        "supply_balance": True,
        "balance_rules": "储值不可提现",
        "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL"},
        "wx_activate": True,
        "wx_activate_after_submit": True,
        "wx_activate_after_submit_url": AFTER_SUBMIT_URL,
    },
}

# membercard.md §2.2: a required and an optional half, with every kind of field.
REQUIRED_FORM = {
    "can_modify": False,
    "common_field_id_list": [MOBILE, NAME],
    "rich_field_list": [{"type": "FORM_FIELD_RADIO", "name": "会员类型", "values": ["个人", "企业"]}],
}
OPTIONAL_FORM = {
    "can_modify": True,
    "common_field_id_list": [BIRTHDAY],
    "custom_field_list": ["喜欢的饮品"],
    "rich_field_list": [{"type": "FORM_FIELD_CHECK_BOX", "name": "兴趣", "values": ["咖啡", "茶", "甜点"]}],
}

# What the user fills in; the mobile number and the name are left to the pre-filled values.
SUBMISSION = {
    "common_field_list": [{"name": BIRTHDAY, "value": "1990-1-1"}],
    "custom_field_list": [
        {"name": "会员类型", "value": "个人", "value_list": []},
        {"name": "喜欢的饮品", "value": "拿铁", "value_list": []},
        {"name": "兴趣", "value": "", "value_list": ["咖啡", "甜点"]},
    ],
}


def parse_component_url(url):
    """The component's extraData from a geturl link, as membercard.md §2.3 says: strip the
    fragment, split the query on '&', skip empty segments, split each on the first '=',
    percent-decode the value."""
    query = url.split("#", 1)[0].split("?", 1)[1]
    params = {}
    for segment in query.split("&"):
        if not segment:
            continue
        name, _, value = segment.partition("=")
        params[name] = unquote(value)
    return params


def by_name(fields):
    """{name: field} of a form's or a submission's field list."""
    return {field["name"]: field for field in fields}


def assert_errcode(raised, errcode):
    assert raised.value.errcode == errcode, (raised.value.errcode, raised.value.errmsg)


class MemberShop:
    """A Service Account (driven by wechatpy) and a Mini Program on one open platform, and a
    user with a profile, who opens the Service Account's member cards in the Mini Program."""

    def __init__(self, admin, make_client, base_library=None):
        self.admin = admin
        open_platform_id = admin.create_open_platform()
        service_account = admin.create_app("service_account", open_platform_id=open_platform_id)
        mini_program = admin.create_app("mini_program", open_platform_id=open_platform_id)
        user = {"nickname": admin.new_name("member"), "profile": dict(PROFILE)}
        if base_library is not None:
            user["base_library"] = base_library
        self.user_id = admin.post("/admin/v1/users", user)["user_id"]
        details = admin.user(self.user_id)
        self.nickname = details["nickname"]
        self.appid = service_account["appid"]
        self.mini_program_appid = mini_program["appid"]
        self.openid = details["openids"][self.appid]
        self.client = make_client(service_account["appid"], service_account["secret"])

    # --- merchant side (wechatpy) ---

    def create_card(self, **member_card):
        card = copy.deepcopy(MEMBER_CARD)
        card["member_card"].update(member_card)
        for name in [name for name, value in card["member_card"].items() if value is None]:
            del card["member_card"][name]
        card_id = self.client.card.create({"card": card})
        self.client.card.set_activate_user_form(
            card_id,
            service_statement={"name": "会员守则", "url": "https://member.example.com/terms"},
            required_form=copy.deepcopy(REQUIRED_FORM),
            optional_form=copy.deepcopy(OPTIONAL_FORM),
        )
        return card_id

    def create_non_jump_card(self):
        return self.create_card(wx_activate_after_submit=False, wx_activate_after_submit_url=None)

    def extra_data(self, card_id, outer_str="store_042"):
        params = parse_component_url(self.client.card.get_activate_url(card_id, outer_str))
        return {name: params[name] for name in ("encrypt_card_id", "outer_str", "biz")}

    def last_body(self, path):
        """The JSON body wechatpy sent in its last request to `path`."""
        return [body for p, body in self.client._http.bodies if p == path][-1]

    # --- user side (the simulator) ---

    def navigate(self, extra_data):
        """wx.navigateToMiniProgram to the card-opening component; the simulator's result."""
        return self.admin.simulate(
            "navigateToMiniProgram",
            {"user_id": self.user_id, "appid": self.mini_program_appid, "appId": COMPONENT_APPID, "extraData": extra_data},
        )

    def open_component(self, card_id, outer_str="store_042"):
        """Open the component for a card and return its session id."""
        result = self.navigate(self.extra_data(card_id, outer_str))
        assert result["errMsg"] == "navigateToMiniProgram:ok", result
        return result["session"]

    def component(self, session):
        return self.admin.get("/sim/v1/component/%s" % session)

    def submit_raw(self, session, submission):
        """Submit the form; (HTTP status, body), whatever happened."""
        res = self.admin.http.post("%s/sim/v1/component/%s/submit" % (self.admin.base, session), json=submission)
        return res.status_code, res.json()

    def submit(self, session, submission=SUBMISSION):
        """Submit the form and return the onShow options the Mini Program gets back."""
        return self.admin.post("/sim/v1/component/%s/submit" % session, submission)

    def cancel(self, session):
        return self.admin.post("/sim/v1/component/%s/cancel" % session, {})

    def open_and_submit(self, card_id, outer_str="store_042"):
        return self.submit(self.open_component(card_id, outer_str))


@pytest.fixture
def shop(admin, make_client):
    return MemberShop(admin, make_client)


@pytest.fixture
def member(shop):
    """A jump-type card whose component the user has submitted: (card_id, extraData)."""
    card_id = shop.create_card()
    extra = shop.open_and_submit(card_id)["referrerInfo"]["extraData"]
    return card_id, extra


# --- Setting up the card and the component's link ---------------------------------------


def test_a_member_card_with_one_tap_activation_is_created_and_its_form_set(shop):
    card_id = shop.create_card()

    card = shop.client.card.get(card_id)

    assert len(card_id) == 28 and card_id.startswith("p")
    assert card["card_type"] == "MEMBER_CARD"
    member_card = card["member_card"]
    assert member_card["base_info"]["date_info"]["type"] == "DATE_TYPE_PERMANENT"
    assert member_card["wx_activate"] is True
    assert member_card["wx_activate_after_submit"] is True
    assert member_card["wx_activate_after_submit_url"] == AFTER_SUBMIT_URL
    assert member_card["supply_bonus"] is True and member_card["supply_balance"] is True
    # wechatpy sends the form as given, with card_id added.
    form = shop.last_body("/card/membercard/activateuserform/set")
    assert form["card_id"] == card_id
    assert form["required_form"] == REQUIRED_FORM
    assert form["optional_form"] == OPTIONAL_FORM


def test_get_activate_url_gives_a_link_whose_query_decodes_to_the_components_extra_data(shop):
    card_id = shop.create_card()

    url = shop.client.card.get_activate_url(card_id, "store 042/渠道")

    assert shop.last_body("/card/membercard/activate/geturl") == {"card_id": card_id, "outer_str": "store 042/渠道"}
    assert url.split("?", 1)[0].endswith("/bizmall/activatemembercard")
    assert url.endswith("#wechat_redirect")
    params = parse_component_url(url)
    assert params["action"] == "preshow"
    assert params["outer_str"] == "store 042/渠道"
    assert params["encrypt_card_id"] and card_id not in url
    # biz is the base64 of the Service Account's numeric id in decimal (membercard.md §2.3).
    assert base64.b64decode(params["biz"], validate=True).decode("ascii").isdigit()

    # Without outer_str wechatpy sends null, which the platform accepts.
    plain = shop.client.card.get_activate_url(card_id)
    assert shop.last_body("/card/membercard/activate/geturl") == {"card_id": card_id, "outer_str": None}
    assert parse_component_url(plain)["encrypt_card_id"]


# --- The component, as the user sees it ----------------------------------------------------


def test_the_component_shows_the_card_and_its_form_pre_filled_from_the_users_profile(shop):
    card_id = shop.create_card()

    session = shop.open_component(card_id)
    view = shop.component(session)

    assert view["session"] == session
    assert view["status"] == "open"
    assert view["variant"] == "jump"
    assert view["card"]["card_id"] == card_id
    assert view["required_form"]["can_modify"] is False
    required = by_name(view["required_form"]["fields"])
    assert set(required) == {MOBILE, NAME, "会员类型"}
    assert required[MOBILE]["kind"] == "common" and required[MOBILE]["value"] == PROFILE["mobile"]
    assert required[NAME]["kind"] == "common" and required[NAME]["value"] == PROFILE["name"]
    assert required["会员类型"]["kind"] == "rich"
    assert required["会员类型"]["type"] == "FORM_FIELD_RADIO"
    assert required["会员类型"]["values"] == ["个人", "企业"]
    assert not required["会员类型"]["value"]
    assert view["optional_form"]["can_modify"] is True
    optional = by_name(view["optional_form"]["fields"])
    assert set(optional) == {BIRTHDAY, "喜欢的饮品", "兴趣"}
    assert optional[BIRTHDAY]["kind"] == "common"
    assert optional["喜欢的饮品"]["kind"] == "custom"
    assert optional["兴趣"]["kind"] == "rich" and optional["兴趣"]["type"] == "FORM_FIELD_CHECK_BOX"
    # Nothing is claimed before the user submits.
    assert [c for c in shop.admin.card_package(shop.user_id) if c["card_id"] == card_id] == []


def test_backing_out_of_the_component_returns_to_the_mini_program_without_extra_data(shop):
    card_id = shop.create_card()
    session = shop.open_component(card_id)

    options = shop.cancel(session)

    assert options["scene"] == RETURN_SCENE
    assert options["referrerInfo"]["appId"] == COMPONENT_APPID
    assert "extraData" not in options["referrerInfo"]
    assert [c for c in shop.admin.card_package(shop.user_id) if c["card_id"] == card_id] == []
    assert shop.client.card.get_card_list(shop.openid, card_id)["card_list"] == []


def test_a_required_field_left_empty_is_refused_and_the_form_can_then_be_completed(shop):
    card_id = shop.create_card()
    session = shop.open_component(card_id)
    no_choice = {"common_field_list": [], "custom_field_list": []}

    status, refused = shop.submit_raw(session, no_choice)

    assert refused.get("errcode", 0) != 0, (status, refused)
    assert shop.component(session)["status"] == "open"
    assert shop.client.card.get_card_list(shop.openid, card_id)["card_list"] == []
    options = shop.submit(session)
    assert options["referrerInfo"]["extraData"]["card_id"] == card_id


def test_navigate_to_mini_program_fails_for_a_base_library_older_than_1_3_0(admin, make_client):
    old = MemberShop(admin, make_client, base_library="1.2.0")
    card_id = old.create_card()

    result = old.navigate(old.extra_data(card_id))

    assert result["errMsg"].startswith("navigateToMiniProgram:fail"), result
    assert result["errcode"] != 0
    assert result["diagnosis"]["summary"]
    assert "session" not in result


# --- Jump type: the merchant activates ------------------------------------------------------


def test_submitting_a_jump_type_card_returns_the_real_code_and_an_activate_ticket(shop):
    card_id = shop.create_card()
    session = shop.open_component(card_id, outer_str="store_042")

    options = shop.submit(session)

    assert options["scene"] == RETURN_SCENE
    assert options["referrerInfo"]["appId"] == COMPONENT_APPID
    extra = options["referrerInfo"]["extraData"]
    assert extra["card_id"] == card_id
    assert extra["errCode"] == 0
    assert extra["activate_ticket"]
    code = extra["code"]
    # The real code: the merchant uses it as it is.
    held = shop.client.card.get_code(code, card_id)
    assert held["openid"] == shop.openid
    assert held["user_card_status"] == "NORMAL"
    assert shop.client.card.get_card_list(shop.openid, card_id)["card_list"] == [{"code": code, "card_id": card_id}]
    # The card's jump URL, with what an H5 target would get (card-opening-component.md §4).
    jump = extra["wx_activate_after_submit_url"]
    assert jump.startswith(AFTER_SUBMIT_URL + "?")
    query = parse_component_url(jump)
    assert query["card_id"] == card_id
    assert query["openid"] == shop.openid
    assert query["outer_str"] == "store_042"
    assert shop.client.card.decrypt_code(query["encrypt_code"]) == code
    # The claim is pushed with the geturl outer_str.
    (event,) = shop.admin.events(shop.appid, "user_get_card")
    assert event["payload"]["card_id"] == card_id
    assert event["payload"]["code"] == code
    assert event["payload"]["openid"] == shop.openid
    assert event["payload"]["outer_str"] == "store_042"


def test_get_activate_info_returns_the_submitted_form_with_the_pre_filled_values_kept(shop, member):
    card_id, extra = member

    info = shop.client.card.get_activate_info(extra["activate_ticket"])

    assert shop.last_body("/card/membercard/activatetempinfo/get") == {"activate_ticket": extra["activate_ticket"]}
    common = {field["name"]: field["value"] for field in info["common_field_list"]}
    assert common[MOBILE] == PROFILE["mobile"]
    assert common[NAME] == PROFILE["name"]
    assert common[BIRTHDAY] == "1990-1-1"
    custom = by_name(info["custom_field_list"])
    assert custom["会员类型"]["value"] == "个人"
    assert custom["喜欢的饮品"]["value"] == "拿铁"
    assert custom["兴趣"]["value_list"] == ["咖啡", "甜点"]


def test_activate_membercard_makes_the_user_a_member_with_the_initial_bonus_and_balance(shop, member):
    card_id, extra = member
    code = extra["code"]
    before = shop.client.card.get_membercard_user_info(card_id, code)
    number = "VIP" + uuid.uuid4().hex[:8].upper()

    result = shop.client.card.activate_membercard(
        number,
        code,
        card_id=card_id,
        init_bonus=100,
        init_bonus_record="开卡赠送",
        init_balance=500,
        init_custom_field_value1="银卡",
    )
    after = shop.client.card.get_membercard_user_info(card_id, code)

    assert before["has_active"] is False
    assert before["openid"] == shop.openid
    assert before["user_card_status"] == "NORMAL"
    assert result["errcode"] == 0
    assert shop.last_body("/card/membercard/activate") == {
        "card_id": card_id,
        "init_bonus": 100,
        "init_bonus_record": "开卡赠送",
        "init_balance": 500,
        "init_custom_field_value1": "银卡",
        "membership_number": number,
        "code": code,
    }
    assert shop.last_body("/card/membercard/userinfo/get") == {"card_id": card_id, "code": code}
    assert after["has_active"] is True
    assert after["membership_number"] == number
    assert after["bonus"] == 100
    assert after["balance"] == 500
    assert after["openid"] == shop.openid
    assert after["nickname"] == shop.nickname
    assert after["user_card_status"] == "NORMAL"


def test_update_membercard_applies_deltas_and_totals_and_reports_the_results(shop, member):
    card_id, extra = member
    code = extra["code"]
    shop.client.card.activate_membercard("M0001", code, card_id=card_id, init_bonus=100, init_balance=500)

    spent = shop.client.card.update_membercard(
        code, card_id, add_bonus=30, record_bonus="消费30元获得30积分", add_balance=-200, record_balance="购买拿铁一杯"
    )
    body = shop.last_body("/card/membercard/updateuser")
    # Both a total and a delta: the total is what the card shows (membercard.md §2.6).
    settled = shop.client.card.update_membercard(code, card_id, bonus=1000, add_bonus=870, balance=1000)
    only_a_field = shop.client.card.update_membercard(code, card_id, custom_field_value1="金卡")
    info = shop.client.card.get_membercard_user_info(card_id, code)

    assert body == {
        "add_bonus": 30,
        "record_bonus": "消费30元获得30积分",
        "add_balance": -200,
        "record_balance": "购买拿铁一杯",
        "code": code,
        "card_id": card_id,
    }
    assert (spent["result_bonus"], spent["result_balance"]) == (130, 300)
    assert spent["openid"] == shop.openid
    assert (settled["result_bonus"], settled["result_balance"]) == (1000, 1000)
    assert (only_a_field["result_bonus"], only_a_field["result_balance"]) == (1000, 1000)
    assert (info["bonus"], info["balance"]) == (1000, 1000)


def test_get_activate_info_refuses_a_garbage_ticket_and_another_accounts_token_with_72011(
    admin, make_client, shop, member
):
    card_id, extra = member
    other = admin.create_app("service_account")
    stranger = make_client(other["appid"], other["secret"])

    with pytest.raises(WeChatClientException) as garbage:
        shop.client.card.get_activate_info("not-a-ticket")
    with pytest.raises(WeChatClientException) as foreign:
        stranger.card.get_activate_info(extra["activate_ticket"])

    assert_errcode(garbage, 72011)
    assert_errcode(foreign, 72011)
    # The owner can still read it.
    assert shop.client.card.get_activate_info(extra["activate_ticket"])["common_field_list"]


def test_activating_a_member_twice_raises_73214(shop, member):
    card_id, extra = member
    shop.client.card.activate_membercard("M0001", extra["code"], card_id=card_id, init_bonus=10)

    with pytest.raises(WeChatClientException) as again:
        shop.client.card.activate_membercard("M0002", extra["code"], card_id=card_id, init_bonus=10)

    assert_errcode(again, 73214)
    info = shop.client.card.get_membercard_user_info(card_id, extra["code"])
    assert info["membership_number"] == "M0001"
    assert info["bonus"] == 10


# --- Non-jump: the submission activates the card ---------------------------------------------


def test_a_non_jump_card_is_activated_by_the_submission_and_userinfo_shows_what_was_submitted(shop):
    card_id = shop.create_non_jump_card()
    session = shop.open_component(card_id)
    assert shop.component(session)["variant"] == "non_jump"

    options = shop.submit(session)

    assert options["scene"] == RETURN_SCENE
    assert options["referrerInfo"]["appId"] == COMPONENT_APPID
    assert "extraData" not in options["referrerInfo"]
    (held,) = shop.client.card.get_card_list(shop.openid, card_id)["card_list"]
    code = held["code"]
    info = shop.client.card.get_membercard_user_info(card_id, code)
    assert info["has_active"] is True
    assert info["openid"] == shop.openid
    assert info["nickname"] == shop.nickname
    assert info["user_card_status"] == "NORMAL"
    common = {field["name"]: field["value"] for field in info["user_info"]["common_field_list"]}
    assert common == {MOBILE: PROFILE["mobile"], NAME: PROFILE["name"], BIRTHDAY: "1990-1-1"}
    custom = by_name(info["user_info"]["custom_field_list"])
    assert custom["会员类型"]["value"] == "个人"
    assert custom["喜欢的饮品"]["value"] == "拿铁"
    assert custom["兴趣"]["value_list"] == ["咖啡", "甜点"]
    # The merchant learns of it from submit_membercard_user_info (membercard.md §2.7).
    (submitted,) = shop.admin.events(shop.appid, "submit_membercard_user_info")
    assert submitted["payload"]["card_id"] == card_id
    assert submitted["payload"]["code"] == code
    updated = shop.client.card.update_membercard(code, card_id, add_bonus=5, record_bonus="开卡礼")
    assert updated["result_bonus"] == info["bonus"] + 5
