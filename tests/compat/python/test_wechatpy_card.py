"""Wire-compatibility proof: wechatpy 1.8.18's `client.card` manages card templates on wxcard.

Every call goes through wechatpy's own methods; the assertions read the fields wechatpy returns.
"""

import copy

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

GROUPON = {
    "card_type": "GROUPON",
    "groupon": {
        "base_info": {
            "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0",
            "brand_name": "示例餐厅",
            "code_type": "CODE_TYPE_QRCODE",
            "title": "双人套餐券",
            "color": "Color010",
            "notice": "使用时请出示二维码",
            "service_phone": "020-12345678",
            "description": "不可与其他优惠同享\n仅限堂食",
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0},
            "sku": {"quantity": 500},
            "get_limit": 3,
        },
        "deal_detail": "套餐包含两份主食和两杯饮料",
    },
}


@pytest.fixture
def card_id(client):
    return client.card.create({"card": copy.deepcopy(GROUPON)})


def test_create_returns_a_card_id_that_get_reads_back_with_the_servers_fields(client, card_id):
    card = client.card.get(card_id)

    assert len(card_id) == 28 and card_id.startswith("p")
    assert card["card_type"] == "GROUPON"
    base = card["groupon"]["base_info"]
    assert base["id"] == card_id
    assert base["status"] == "CARD_STATUS_VERIFY_OK"
    assert base["title"] == "双人套餐券"
    assert base["sku"] == {"quantity": 500, "total_quantity": 500}
    assert card["groupon"]["deal_detail"] == GROUPON["groupon"]["deal_detail"]


def test_a_bad_color_is_refused_with_40076_naming_the_field(client):
    bad = copy.deepcopy(GROUPON)
    bad["groupon"]["base_info"]["color"] = "Color999"

    with pytest.raises(WeChatClientException) as refused:
        client.card.create({"card": bad})

    assert refused.value.errcode == 40076
    assert "color" in refused.value.errmsg


def test_batch_get_lists_the_accounts_cards(client, card_id):
    other = client.card.create({"card": copy.deepcopy(GROUPON)})

    page = client.card.batch_get(offset=0, count=50, status_list=["CARD_STATUS_VERIFY_OK"])

    assert page["card_id_list"] == [card_id, other]
    assert page["total_num"] == 2


def test_update_changes_a_field_and_says_whether_review_starts_again(client, card_id):
    result = client.card.update({"card_id": card_id, "groupon": {"base_info": {"service_phone": "020-87654321"}}})

    assert result["send_check"] is False
    assert client.card.get(card_id)["groupon"]["base_info"]["service_phone"] == "020-87654321"


def test_modify_stock_adds_and_removes_stock(client, card_id):
    client.card.modify_stock(card_id, 20)
    client.card.modify_stock(card_id, -5)

    assert client.card.get(card_id)["groupon"]["base_info"]["sku"] == {"quantity": 515, "total_quantity": 520}


def test_delete_marks_the_card_deleted(client, card_id):
    client.card.delete(card_id)

    assert client.card.get(card_id)["groupon"]["base_info"]["status"] == "CARD_STATUS_DELETE"


def test_the_test_whitelist_accepts_the_accounts_openids(client, admin, service_account):
    user_id = admin.create_user()
    openid = admin.user(user_id)["openids"][service_account["appid"]]

    result = client.card.set_test_whitelist(openids=[openid], usernames=["alice_wx"])

    assert result["errcode"] == 0


def test_create_qrcode_returns_a_ticket_whose_image_wxcard_serves(client, card_id, base_url):
    ticket = client.card.create_qrcode(
        {"action_name": "QR_CARD", "expire_seconds": 1800, "action_info": {"card": {"card_id": card_id}}}
    )

    image = requests.get(base_url + "/cgi-bin/showqrcode", params={"ticket": ticket})
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_create_landingpage_returns_a_page_that_lists_the_card(client, card_id):
    page = client.card.create_landingpage(
        {
            "banner": "http://mmbiz.qpic.cn/mmbiz/banner/0",
            "page_title": "惠城优惠大派送",
            "can_share": True,
            "scene": "SCENE_NEAR_BY",
            "card_list": [{"card_id": card_id, "thumb_url": "http://mmbiz.qpic.cn/mmbiz/thumb/0"}],
        }
    )

    assert page["page_id"] >= 1
    html = requests.get(page["url"]).text
    assert card_id in html and "惠城优惠大派送" in html
