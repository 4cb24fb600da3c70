"""Wire-compatibility proof: tokens, tickets and the Mini Program login with wechatpy 1.8.18.

Fixtures (the redirected client, the admin helper) live in conftest.py.
"""

import base64

import pytest
from wechatpy.exceptions import WeChatClientException

from conftest import REFRESH_GRACE, TOKEN_LIFETIME


def test_fetching_an_access_token_returns_a_token_that_the_server_accepts(client):
    result = client.fetch_access_token()

    token = result["access_token"]
    assert isinstance(token, str) and len(token) >= 32
    assert result["expires_in"] == TOKEN_LIFETIME
    assert client.access_token == token

    # The token works on a real call, and wechatpy appends it to the query.
    colors = client.card.get_colors()
    assert isinstance(colors, list) and colors
    assert all(c["name"] and c["value"].startswith("#") for c in colors)
    method, path, params = client._http.sent[-1]
    assert (method, path) == ("GET", "/card/getcolors")
    assert params["access_token"] == token


def test_the_token_request_goes_to_cgi_bin_token_with_client_credentials(
    client, service_account
):
    client.fetch_access_token()

    method, path, params = client._http.sent[0]
    assert (method, path) == ("GET", "/cgi-bin/token")
    assert params == {
        "grant_type": "client_credential",
        "appid": service_account["appid"],
        "secret": service_account["secret"],
    }


def test_the_wx_card_ticket_is_issued_and_stays_the_same_while_it_lives(client):
    ticket = client.jsapi.get_jsapi_card_ticket()
    assert isinstance(ticket, str) and len(ticket) >= 32

    raw = client.jsapi.get_ticket("wx_card")
    assert raw["errcode"] == 0
    assert raw["ticket"] == ticket
    assert raw["expires_in"] == TOKEN_LIFETIME

    ticket_calls = [
        q for m, p, q in client._http.sent if p == "/cgi-bin/ticket/getticket"
    ]
    assert [q["type"] for q in ticket_calls] == ["wx_card", "wx_card"]


def test_the_jsapi_ticket_is_issued_and_differs_from_the_wx_card_ticket(client):
    jsapi_ticket = client.jsapi.get_jsapi_ticket()
    assert isinstance(jsapi_ticket, str) and len(jsapi_ticket) >= 32

    raw = client.jsapi.get_ticket("jsapi")
    assert raw["errcode"] == 0
    assert raw["ticket"] == jsapi_ticket
    assert raw["expires_in"] == TOKEN_LIFETIME

    assert jsapi_ticket != client.jsapi.get_jsapi_card_ticket()


def test_a_wrong_secret_raises_wechat_client_exception_with_errcode_40125(
    make_client, service_account
):
    wrong_secret = "0" * 32
    assert wrong_secret != service_account["secret"]
    client = make_client(service_account["appid"], wrong_secret)

    with pytest.raises(WeChatClientException) as excinfo:
        client.fetch_access_token()

    assert excinfo.value.errcode == 40125
    assert excinfo.value.errmsg


def test_a_cached_token_is_refused_with_42001_once_the_platform_clock_passes_its_lifetime(
    admin, client
):
    token = client.access_token
    assert client.jsapi.get_ticket("wx_card")["errcode"] == 0

    admin.advance_clock(TOKEN_LIFETIME + REFRESH_GRACE + 1)

    # wechatpy still trusts its cache (its expiry uses the local clock),
    # so it sends the old token and the server must refuse it.
    with pytest.raises(WeChatClientException) as excinfo:
        client.jsapi.get_ticket("wx_card")
    assert excinfo.value.errcode == 42001
    assert client._http.sent[-1][2]["access_token"] == token


def test_with_auto_retry_a_client_recovers_from_42001_by_fetching_a_new_token(
    admin, make_client, service_account
):
    client = make_client(
        service_account["appid"], service_account["secret"], auto_retry=True
    )
    old_token = client.access_token
    first_ticket = client.jsapi.get_ticket("wx_card")
    assert first_ticket["errcode"] == 0

    admin.advance_clock(TOKEN_LIFETIME + REFRESH_GRACE + 1)
    client._http.sent.clear()

    again = client.jsapi.get_ticket("wx_card")

    assert again["errcode"] == 0 and again["ticket"]
    new_token = client.access_token
    assert new_token != old_token
    # Exactly: refused call with the old token, one token fetch, one retry.
    assert [(m, p) for m, p, _ in client._http.sent] == [
        ("GET", "/cgi-bin/ticket/getticket"),
        ("GET", "/cgi-bin/token"),
        ("GET", "/cgi-bin/ticket/getticket"),
    ]
    assert client._http.sent[0][2]["access_token"] == old_token
    assert client._http.sent[2][2]["access_token"] == new_token


def test_code_to_session_returns_the_users_openid_and_unionid_for_the_mini_program(
    admin, make_client, mini_program_login
):
    app = mini_program_login["app"]
    client = make_client(app["appid"], app["secret"])

    session = client.wxa.code_to_session(mini_program_login["code"])

    user = admin.user(mini_program_login["user_id"])
    assert session["openid"] == user["openids"][app["appid"]]
    assert session["unionid"] == user["unionids"][mini_program_login["open_platform_id"]]
    assert session["session_key"]
    assert session.get("errcode", 0) == 0

    method, path, params = client._http.sent[-1]
    assert (method, path) == ("GET", "/sns/jscode2session")
    assert params["js_code"] == mini_program_login["code"]
    assert params["grant_type"] == "authorization_code"


def test_the_session_key_is_the_base64_of_a_16_byte_key(
    make_client, mini_program_login
):
    # WeChat's session_key is an AES-128 key: 16 random bytes, base64-encoded.
    # Encoding real bytes always yields the canonical form, so decoding and
    # re-encoding must give back the same string (strict decoders, e.g. Rust's
    # base64 STANDARD engine, reject anything else).
    app = mini_program_login["app"]
    client = make_client(app["appid"], app["secret"])

    session_key = client.wxa.code_to_session(mini_program_login["code"])["session_key"]

    raw = base64.b64decode(session_key, validate=True)
    assert len(raw) == 16
    assert base64.b64encode(raw).decode("ascii") == session_key


def test_exchanging_the_same_code_twice_is_refused_with_40163(
    make_client, mini_program_login
):
    app = mini_program_login["app"]
    client = make_client(app["appid"], app["secret"])
    code = mini_program_login["code"]

    assert client.wxa.code_to_session(code)["openid"]

    with pytest.raises(WeChatClientException) as excinfo:
        client.wxa.code_to_session(code)
    assert excinfo.value.errcode == 40163
