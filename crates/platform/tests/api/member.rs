//! Member cards over HTTP: flow C of DESIGN.md §2 (the card-opening component, jump-type and
//! non-jump), flow D (card entries that open Mini Program pages), and the member APIs.

use serde_json::{json, Value};

use crate::helpers::{errcode, spawn_app, TestApp, TestAppCredentials};

/// A Service Account and a Mini Program on one open platform account, a member card with its
/// form, and a user inside the Mini Program.
struct Club {
    /// The Mini Program's `gh_…@app`.
    user_name: String,
    service_account: TestAppCredentials,
    mini_program: TestAppCredentials,
    token: String,
    card_id: String,
    user_id: String,
}

/// A one-tap member card whose entries open pages of `owner` (`gh_…@app`): jump-type when
/// `jump`, with the after-submit url when `url`.
fn member_card(owner: &str, jump: bool, url: bool) -> Value {
    let mut card = json!({
        "base_info": {
            "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
            "brand_name": "示例咖啡", "title": "会员卡", "color": "Color010",
            "notice": "出示会员卡", "description": "会员权益", "sku": {"quantity": 100},
            "get_limit": 1, "date_info": {"type": "DATE_TYPE_PERMANENT"},
            "custom_url_name": "立即使用", "custom_url": "https://example.com/use",
            "custom_app_brand_user_name": owner,
            "custom_app_brand_pass": "/pages/use/index?from=card",
            "promotion_url_name": "更多优惠", "promotion_url": "https://example.com/promo",
            "center_title": "出示", "center_url": "https://example.com/center",
            "center_app_brand_user_name": owner, "center_app_brand_pass": "pages/pay/index"
        },
        "activate_app_brand_user_name": owner,
        "activate_app_brand_pass": "pages/member/activate",
        "prerogative": "会员九折",
        "wx_activate": true,
        "wx_activate_after_submit": jump,
        "supply_bonus": true,
        "supply_balance": false,
        "bonus_rule": {"init_increase_bonus": 20},
        "bonus_app_brand_user_name": owner,
        "bonus_app_brand_pass": "pages/points/index",
        "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL", "url": "https://example.com/level",
                           "app_brand_user_name": owner, "app_brand_pass": "pages/level/index"},
        "custom_cell1": {"name": "会员中心", "tips": "进入", "url": "https://example.com/center",
                          "app_brand_user_name": owner, "app_brand_pass": "pages/center/index"}
    });
    if url {
        card["wx_activate_after_submit_url"] = json!("https://example.com/activated");
    }
    json!({"card": {"card_type": "MEMBER_CARD", "member_card": card}})
}

fn form(card_id: &str) -> Value {
    json!({
        "card_id": card_id,
        "service_statement": {"name": "会员守则", "url": "https://example.com/terms"},
        "required_form": {
            "can_modify": false,
            "common_field_id_list": ["USER_FORM_INFO_FLAG_MOBILE", "USER_FORM_INFO_FLAG_NAME"],
            "rich_field_list": [{"type": "FORM_FIELD_RADIO", "name": "会员类型", "values": ["个人", "企业"]}]
        },
        "optional_form": {
            "can_modify": true,
            "common_field_id_list": ["USER_FORM_INFO_FLAG_EDUCATION_BACKGRO"],
            "custom_field_list": ["喜欢的饮品"],
            "rich_field_list": [{"type": "FORM_FIELD_CHECK_BOX", "name": "兴趣", "values": ["咖啡", "茶", "甜点"]}]
        }
    })
}

impl TestApp {
    async fn given_a_club(&self, jump: bool, url: bool) -> Club {
        let open_platform = self.given_an_open_platform().await;
        let (_, sa) = self
            .post(
                "/admin/v1/apps",
                &json!({"kind": "service_account", "name": "club", "open_platform_id": open_platform}),
            )
            .await;
        let service_account = TestAppCredentials {
            appid: sa["appid"].as_str().unwrap().into(),
            secret: sa["secret"].as_str().unwrap().into(),
            original_id: sa["original_id"].as_str().unwrap().into(),
        };
        let mini_program = self.given_a_mini_program(Some(&open_platform)).await;
        let token = self.given_a_token(&service_account).await;
        let user_name = format!("{}@app", mini_program.original_id);
        let card = member_card(&user_name, jump, url);
        let (_, created) = self
            .post(&format!("/card/create?access_token={token}"), &card)
            .await;
        let card_id = created["card_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .to_owned();
        let club = Club {
            user_name,
            service_account,
            mini_program,
            token,
            card_id,
            user_id: self.given_a_user().await,
        };
        let set = self
            .call(
                &club.token,
                "/card/membercard/activateuserform/set",
                &form(&club.card_id),
            )
            .await;
        assert_eq!(errcode(&set), 0, "{set}");
        club
    }

    /// geturl, then the query values url-decoded as a merchant reads them.
    async fn extra_data(&self, club: &Club, outer_str: &str) -> Value {
        let answer = self
            .call(
                &club.token,
                "/card/membercard/activate/geturl",
                &json!({"card_id": club.card_id, "outer_str": outer_str}),
            )
            .await;
        let url = answer["url"].as_str().unwrap_or_else(|| panic!("{answer}"));
        assert!(
            url.contains("/bizmall/activatemembercard?action=preshow&&"),
            "{url}"
        );
        assert!(url.ends_with("#wechat_redirect"), "{url}");
        let query = url.split_once('?').unwrap().1.split('#').next().unwrap();
        let mut extra = serde_json::Map::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap();
            extra.insert(name.to_owned(), json!(percent_decode(value)));
        }
        extra.remove("action");
        Value::Object(extra)
    }

    async fn navigate(&self, club: &Club, user_id: &str, extra_data: Value) -> Value {
        let (status, answer) = self
            .post(
                "/sim/v1/navigateToMiniProgram",
                &json!({"user_id": user_id, "appid": club.mini_program.appid,
                        "appId": "wxeb490c6f9b154ef9", "extraData": extra_data}),
            )
            .await;
        assert_eq!(status, 200, "a JSAPI result is always HTTP 200: {answer}");
        answer
    }

    async fn open_component(&self, club: &Club, user_id: &str) -> String {
        let extra = self.extra_data(club, "store 042/北门").await;
        let opened = self.navigate(club, user_id, extra).await;
        assert_eq!(opened["errMsg"], "navigateToMiniProgram:ok", "{opened}");
        opened["session"].as_str().unwrap().to_owned()
    }

    async fn submit(&self, session: &str, body: Value) -> Value {
        self.post(&format!("/sim/v1/component/{session}/submit"), &body)
            .await
            .1
    }

    /// The club's user opens its non-jump card in the component and submits: an active
    /// member; the code from `submit_membercard_user_info`.
    async fn given_a_non_jump_member(&self, club: &Club) -> String {
        let session = self.open_component(club, &club.user_id).await;
        self.submit(
            &session,
            json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "A"}],
                   "custom_field_list": [{"name": "会员类型", "value": "个人"}]}),
        )
        .await;
        self.events_of(&club.service_account, "submit_membercard_user_info")
            .await[0]["payload"]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn user_with(&self, client: (&str, &str), base_library: &str) -> String {
        let (status, body) = self
            .post(
                "/admin/v1/users",
                &json!({"nickname": "Old phone", "client": {"os": client.0, "version": client.1},
                        "base_library": base_library}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["user_id"].as_str().unwrap().to_owned()
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url.split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), percent_decode(value)))
        .collect()
}

#[tokio::test]
async fn flow_c_jump_type_returns_the_real_code_and_a_ticket_the_merchant_activates_with() {
    let app = spawn_app().await;
    let club = app.given_a_club(true, true).await;
    let session = app.open_component(&club, &club.user_id).await;

    let view = app.get(&format!("/sim/v1/component/{session}")).await;
    assert_eq!(view["variant"], "jump", "{view}");
    assert_eq!(view["member"]["kind"], "new", "{view}");
    let mobile = &view["required_form"]["fields"][0];
    assert_eq!(mobile["name"], "USER_FORM_INFO_FLAG_MOBILE");
    assert_eq!(
        mobile["value"], "13800138000",
        "pre-filled from the profile"
    );
    assert_eq!(mobile["prefilled_from"], "profile");

    let back = app
        .submit(
            &session,
            json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "王小明"}],
                   "custom_field_list": [{"name": "会员类型", "value": "个人"},
                                         {"name": "兴趣", "value_list": ["咖啡", "茶"]}]}),
        )
        .await;
    assert_eq!(back["scene"], 1038, "{back}");
    assert_eq!(back["referrerInfo"]["appId"], "wxeb490c6f9b154ef9");
    let extra = &back["referrerInfo"]["extraData"];
    assert_eq!(extra["errCode"], 0, "{back}");
    assert_eq!(extra["card_id"], club.card_id.as_str());
    let code = extra["code"].as_str().unwrap().to_owned();
    assert_eq!(
        code.len(),
        12,
        "the real code, not an encrypted one: {code}"
    );
    let ticket = extra["activate_ticket"].as_str().unwrap().to_owned();

    // The after-submit url carries card_id, encrypt_code, openid and outer_str.
    let jump = query_of(extra["wx_activate_after_submit_url"].as_str().unwrap());
    assert_eq!(jump["card_id"], club.card_id);
    assert_eq!(jump["outer_str"], "store 042/北门");
    let decrypted = app
        .call(
            &club.token,
            "/card/code/decrypt",
            &json!({"encrypt_code": jump["encrypt_code"]}),
        )
        .await;
    assert_eq!(decrypted["code"], code.as_str(), "{decrypted}");
    let got = app.events_of(&club.service_account, "user_get_card").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["payload"]["code"], code.as_str());
    assert_eq!(got[0]["payload"]["outer_str"], "store 042/北门");
    assert_eq!(got[0]["payload"]["openid"], jump["openid"].as_str());

    // Not yet a member: the card sits in the package un-activated.
    let before = app
        .call(
            &club.token,
            "/card/membercard/userinfo/get",
            &json!({"card_id": club.card_id, "code": code}),
        )
        .await;
    assert_eq!(before["has_active"], false, "{before}");

    let info = app
        .call(
            &club.token,
            "/card/membercard/activatetempinfo/get",
            &json!({"activate_ticket": ticket}),
        )
        .await;
    assert_eq!(errcode(&info), 0, "{info}");
    let common = info["info"]["common_field_list"].as_array().unwrap();
    assert!(
        common.contains(&json!({"name": "USER_FORM_INFO_FLAG_MOBILE", "value": "13800138000"})),
        "{info}"
    );
    assert!(
        common.contains(&json!({"name": "USER_FORM_INFO_FLAG_NAME", "value": "王小明"})),
        "{info}"
    );
    let custom = info["info"]["custom_field_list"].as_array().unwrap();
    assert!(
        custom.contains(&json!({"name": "兴趣", "value": "", "value_list": ["咖啡", "茶"]})),
        "{info}"
    );

    let activated = app
        .call(
            &club.token,
            "/card/membercard/activate",
            &json!({"membership_number": "VIP0001", "code": code, "card_id": club.card_id,
                   "init_bonus": 100, "init_bonus_record": "开卡赠送", "init_balance": 500,
                   "init_custom_field_value1": "银卡"}),
        )
        .await;
    assert_eq!(errcode(&activated), 0, "{activated}");
    let member = app
        .call(
            &club.token,
            "/card/membercard/userinfo/get",
            &json!({"card_id": club.card_id, "code": code}),
        )
        .await;
    assert_eq!(member["has_active"], true, "{member}");
    assert_eq!(member["membership_number"], "VIP0001");
    assert_eq!(member["bonus"], 100);
    assert_eq!(member["balance"], 500);
    assert_eq!(member["user_card_status"], "NORMAL");
    assert_eq!(member["nickname"], "Alice");
    assert_eq!(
        member["user_info"]["common_field_list"],
        json!([]),
        "jump-type data stays with the ticket"
    );
    let code_view = app
        .call(
            &club.token,
            "/card/code/get",
            &json!({"code": code, "card_id": club.card_id}),
        )
        .await;
    assert_eq!(code_view["user_card_status"], "NORMAL", "{code_view}");

    // A used ticket, and a second activation, are refused.
    let reused = app
        .call(
            &club.token,
            "/card/membercard/activatetempinfo/get",
            &json!({"activate_ticket": ticket}),
        )
        .await;
    assert_eq!(errcode(&reused), 72011, "{reused}");
    let twice = app
        .call(
            &club.token,
            "/card/membercard/activate",
            &json!({"membership_number": "VIP0002", "code": code}),
        )
        .await;
    assert_eq!(errcode(&twice), 73214, "{twice}");

    // Opening the component again: an existing, active member; no extraData comes back.
    let again = app.open_component(&club, &club.user_id).await;
    let view = app.get(&format!("/sim/v1/component/{again}")).await;
    assert_eq!(view["member"]["kind"], "existing", "{view}");
    assert_eq!(view["member"]["active"], true, "{view}");
    assert_eq!(view["member"]["code"], code.as_str());
    let back = app.submit(&again, json!({})).await;
    assert!(back["referrerInfo"].get("extraData").is_none(), "{back}");
}

#[tokio::test]
async fn flow_c_non_jump_activates_on_submit_and_records_submit_membercard_user_info() {
    let app = spawn_app().await;
    let club = app.given_a_club(false, false).await;
    let session = app.open_component(&club, &club.user_id).await;
    let back = app
        .submit(
            &session,
            json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "李雷"}],
                   "custom_field_list": [{"name": "会员类型", "value": "企业"}]}),
        )
        .await;
    assert_eq!(back["scene"], 1038, "{back}");
    assert!(
        back["referrerInfo"].get("extraData").is_none(),
        "non-jump returns no extraData: {back}"
    );

    let submitted = app
        .events_of(&club.service_account, "submit_membercard_user_info")
        .await;
    assert_eq!(submitted.len(), 1, "{submitted:?}");
    let code = submitted[0]["payload"]["code"].as_str().unwrap().to_owned();
    let member = app
        .call(
            &club.token,
            "/card/membercard/userinfo/get",
            &json!({"card_id": club.card_id, "code": code}),
        )
        .await;
    assert_eq!(member["has_active"], true, "{member}");
    assert_eq!(member["membership_number"], code.as_str());
    assert_eq!(member["bonus"], 20, "bonus_rule.init_increase_bonus");
    let common = member["user_info"]["common_field_list"].as_array().unwrap();
    assert!(
        common.contains(&json!({"name": "USER_FORM_INFO_FLAG_NAME", "value": "李雷"})),
        "{member}"
    );
}

#[tokio::test]
async fn a_cancelled_component_returns_without_extra_data_and_claims_nothing() {
    let app = spawn_app().await;
    let club = app.given_a_club(true, true).await;
    let session = app.open_component(&club, &club.user_id).await;
    let (status, back) = app
        .post(&format!("/sim/v1/component/{session}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["scene"], 1038);
    assert_eq!(back["referrerInfo"], json!({"appId": "wxeb490c6f9b154ef9"}));
    let package = app
        .get(&format!("/sim/v1/users/{}/cards", club.user_id))
        .await;
    assert_eq!(package["cards"], json!([]), "{package}");
    assert!(app
        .events_of(&club.service_account, "user_get_card")
        .await
        .is_empty());
    let late = app.submit(&session, json!({})).await;
    assert_eq!(
        errcode(&late),
        40097,
        "a closed session cannot be submitted: {late}"
    );
}

#[tokio::test]
async fn an_activate_ticket_expires_and_works_only_for_its_own_account() {
    let app = spawn_app().await;
    let club = app.given_a_club(true, true).await;
    let session = app.open_component(&club, &club.user_id).await;
    let back = app
        .submit(
            &session,
            json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "A"}],
                                 "custom_field_list": [{"name": "会员类型", "value": "个人"}]}),
        )
        .await;
    let ticket = back["referrerInfo"]["extraData"]["activate_ticket"].clone();

    let stranger = app.given_a_service_account().await;
    let stranger_token = app.given_a_token(&stranger).await;
    let (_, foreign) = app
        .post(
            &format!("/card/membercard/activatetempinfo/get?access_token={stranger_token}"),
            &json!({"activate_ticket": ticket}),
        )
        .await;
    assert_eq!(errcode(&foreign), 72011, "{foreign}");
    // Another account cannot see, activate or change this account's member card either.
    let code = back["referrerInfo"]["extraData"]["code"].clone();
    for (path, body) in [
        (
            "/card/membercard/userinfo/get",
            json!({"card_id": club.card_id, "code": code}),
        ),
        (
            "/card/membercard/activate",
            json!({"card_id": club.card_id, "code": code, "membership_number": "X1"}),
        ),
        (
            "/card/membercard/updateuser",
            json!({"card_id": club.card_id, "code": code, "add_bonus": 1}),
        ),
        (
            "/card/membercard/activate/geturl",
            json!({"card_id": club.card_id}),
        ),
        ("/card/membercard/activateuserform/set", form(&club.card_id)),
    ] {
        let answer = app.call(&stranger_token, path, &body).await;
        assert_eq!(errcode(&answer), 40073, "{path}: {answer}");
    }
    let garbage = app
        .call(
            &club.token,
            "/card/membercard/activatetempinfo/get",
            &json!({"activate_ticket": "bm90IGEgdGlja2V0"}),
        )
        .await;
    assert_eq!(errcode(&garbage), 72011, "{garbage}");

    app.advance_clock(1801).await;
    let expired = app
        .call(
            &club.token,
            "/card/membercard/activatetempinfo/get",
            &json!({"activate_ticket": ticket}),
        )
        .await;
    assert_eq!(errcode(&expired), 72012, "{expired}");
}

#[tokio::test]
async fn the_component_refuses_old_clients_foreign_app_ids_and_garbled_extra_data() {
    let app = spawn_app().await;
    let club = app.given_a_club(true, true).await;
    let extra = app.extra_data(&club, "gate").await;
    for (client, base_library, needle) in [
        (("ios", "8.0.50"), "1.2.9", "1.3.0"),
        (("ios", "6.5.8"), "2.0.0", "iOS 6.5.9"),
        (("android", "6.5.9"), "2.0.0", "Android 6.5.10"),
    ] {
        let user = app.user_with(client, base_library).await;
        let refused = app.navigate(&club, &user, extra.clone()).await;
        let message = refused["errMsg"].as_str().unwrap();
        assert!(
            message.starts_with("navigateToMiniProgram:fail"),
            "{refused}"
        );
        assert_eq!(errcode(&refused), 48001, "{refused}");
        assert!(
            refused["diagnosis"]["summary"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{needle}: {refused}"
        );
        assert!(refused.get("session").is_none());
    }
    let fine_old_enough = app.user_with(("android", "6.5.10"), "1.3.0").await;
    let opened = app.navigate(&club, &fine_old_enough, extra.clone()).await;
    assert_eq!(opened["errMsg"], "navigateToMiniProgram:ok", "{opened}");

    let (_, wrong_app) = app
        .post(
            "/sim/v1/navigateToMiniProgram",
            &json!({"user_id": club.user_id, "appid": club.mini_program.appid,
                    "appId": "wx0000000000000000", "extraData": extra}),
        )
        .await;
    assert_eq!(errcode(&wrong_app), 48001, "{wrong_app}");
    assert!(wrong_app["diagnosis"]["summary"]
        .as_str()
        .unwrap()
        .contains("wxeb490c6f9b154ef9"));

    let mut encoded = extra.clone();
    // What a merchant passes when it forgets to url-decode: every character escaped.
    let biz: String = encoded["biz"]
        .as_str()
        .unwrap()
        .bytes()
        .map(|byte| format!("%{byte:02X}"))
        .collect();
    encoded["biz"] = json!(biz);
    let refused = app.navigate(&club, &club.user_id, encoded).await;
    assert_eq!(errcode(&refused), 40097, "{refused}");
    assert!(
        refused["diagnosis"]["summary"]
            .as_str()
            .unwrap()
            .contains("percent-encoded"),
        "{refused}"
    );

    let mut garbled = extra.clone();
    garbled["encrypt_card_id"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let refused = app.navigate(&club, &club.user_id, garbled).await;
    assert_eq!(errcode(&refused), 40097, "{refused}");
    assert!(
        refused["diagnosis"]["summary"]
            .as_str()
            .unwrap()
            .contains("encrypt_card_id"),
        "{refused}"
    );

    let refused = app
        .navigate(&club, &club.user_id, json!({"outer_str": "x"}))
        .await;
    assert_eq!(errcode(&refused), 40097, "{refused}");

    // A member card without one-tap activation.
    let (_, plain) = app
        .post(&format!("/card/create?access_token={}", club.token), &{
            let mut card = member_card(&club.user_name, false, false);
            card["card"]["member_card"]["wx_activate"] = json!(false);
            card["card"]["member_card"]["activate_url"] = json!("https://example.com/activate");
            card
        })
        .await;
    let plain_id = plain["card_id"].as_str().unwrap();
    let link = app
        .call(
            &club.token,
            "/card/membercard/activate/geturl",
            &json!({"card_id": plain_id}),
        )
        .await;
    let url = link["url"].as_str().unwrap();
    let query = query_of(url.split('#').next().unwrap());
    let refused = app
        .navigate(
            &club,
            &club.user_id,
            json!({"encrypt_card_id": query["encrypt_card_id"], "biz": query["biz"], "outer_str": ""}),
        )
        .await;
    assert_eq!(errcode(&refused), 72026, "{refused}");
}

#[tokio::test]
async fn the_form_is_pre_filled_from_earlier_submissions_and_checks_what_is_submitted() {
    let app = spawn_app().await;
    let club = app.given_a_club(true, true).await;
    let session = app.open_component(&club, &club.user_id).await;
    let missing = app.submit(&session, json!({})).await;
    assert_eq!(errcode(&missing), 40097, "{missing}");
    assert!(
        missing["errmsg"]
            .as_str()
            .unwrap()
            .contains("USER_FORM_INFO_FLAG_NAME"),
        "{missing}"
    );
    let not_a_choice = app
        .submit(
            &session,
            json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "A"}],
                                 "custom_field_list": [{"name": "会员类型", "value": "学生"}]}),
        )
        .await;
    assert_eq!(errcode(&not_a_choice), 40097, "{not_a_choice}");
    let off_form = app
        .submit(
            &session,
            json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_EMAIL", "value": "a@b.c"}]}),
        )
        .await;
    assert_eq!(errcode(&off_form), 40097, "{off_form}");
    let fine = app
        .submit(&session, json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "韩梅梅"},
                                                       {"name": "USER_FORM_INFO_FLAG_EDUCATION_BACKGRO", "value": "本科"}],
                                 "custom_field_list": [{"name": "会员类型", "value": "个人"},
                                                       {"name": "喜欢的饮品", "value": "拿铁"}]}))
        .await;
    assert_eq!(fine["referrerInfo"]["extraData"]["errCode"], 0, "{fine}");

    // A second card of another merchant whose form spells education the other way.
    let other = app.given_a_club(true, true).await;
    let mut spelled = form(&other.card_id);
    spelled["optional_form"]["common_field_id_list"] =
        json!(["USER_FORM_INFO_FLAG_EDUCATION_BACKGROUND"]);
    let set = app
        .call(
            &other.token,
            "/card/membercard/activateuserform/set",
            &spelled,
        )
        .await;
    assert_eq!(errcode(&set), 0, "{set}");
    let session = app.open_component(&other, &club.user_id).await;
    let view = app.get(&format!("/sim/v1/component/{session}")).await;
    let fields = view["required_form"]["fields"].as_array().unwrap();
    let name = fields
        .iter()
        .find(|field| field["name"] == "USER_FORM_INFO_FLAG_NAME")
        .unwrap();
    assert_eq!(name["value"], "韩梅梅", "{view}");
    assert_eq!(name["prefilled_from"], "earlier_submission");
    let optional = view["optional_form"]["fields"].as_array().unwrap();
    let education = optional
        .iter()
        .find(|field| field["name"] == "USER_FORM_INFO_FLAG_EDUCATION_BACKGROUND")
        .unwrap();
    assert_eq!(
        education["value"], "本科",
        "both spellings share the answer: {view}"
    );
}

#[tokio::test]
async fn flow_d_entries_open_mini_program_pages_with_card_id_encrypt_code_and_openid() {
    let app = spawn_app().await;
    let club = app.given_a_club(false, false).await;
    let code = app.given_a_non_jump_member(&club).await;
    let openid = app.get(&format!("/admin/v1/users/{}", club.user_id)).await["openids"]
        [&club.service_account.appid]
        .as_str()
        .unwrap()
        .to_owned();
    let tap = |entry: &'static str| {
        let app = &app;
        let body =
            json!({"user_id": club.user_id, "card_id": club.card_id, "code": code, "entry": entry});
        async move { app.post("/sim/v1/tap", &body).await.1 }
    };

    for (entry, path) in [
        ("bonus", "pages/points/index"),
        ("custom_field1", "pages/level/index"),
        ("custom_cell1", "pages/center/index"),
        ("custom_url", "pages/use/index"),
        ("center", "pages/pay/index"),
        ("activate", "pages/member/activate"),
    ] {
        let opened = tap(entry).await;
        assert_eq!(opened["kind"], "mini_program", "{entry}: {opened}");
        assert_eq!(opened["user_name"], club.user_name.as_str());
        assert_eq!(opened["appid"], club.mini_program.appid.as_str());
        assert_eq!(opened["path"], path, "{entry}: {opened}");
        assert_eq!(opened["scene"], 1029);
        assert_eq!(opened["query"]["card_id"], club.card_id.as_str());
        assert_eq!(
            opened["query"]["openid"],
            openid.as_str(),
            "the Service Account openid"
        );
        let decrypted = app
            .call(
                &club.token,
                "/card/code/decrypt",
                &json!({"encrypt_code": opened["query"]["encrypt_code"]}),
            )
            .await;
        assert_eq!(decrypted["code"], code.as_str(), "{entry}: {decrypted}");
    }
    let custom = tap("custom_url").await;
    assert_eq!(
        custom["query"]["from"], "card",
        "the path's own query is kept: {custom}"
    );
    assert!(
        custom["url"]
            .as_str()
            .unwrap()
            .starts_with("pages/use/index?from=card&card_id="),
        "{custom}"
    );

    let promotion = tap("promotion_url").await;
    assert_eq!(promotion["kind"], "h5", "{promotion}");
    assert!(promotion["url"]
        .as_str()
        .unwrap()
        .starts_with("https://example.com/promo?card_id="));

    let unset = tap("balance").await;
    assert_eq!(errcode(&unset), 40097, "{unset}");
    let unknown = tap("nowhere").await;
    assert_eq!(errcode(&unknown), 40097, "{unknown}");

    // /card/update moves the bonus entry; the next tap follows at once.
    let updated = app
        .call(
            &club.token,
            "/card/update",
            &json!({"card_id": club.card_id, "member_card": {"bonus_app_brand_user_name": club.user_name,
                                                            "bonus_app_brand_pass": "pages/points/v2"}}),
        )
        .await;
    assert_eq!(errcode(&updated), 0, "{updated}");
    assert_eq!(tap("bonus").await["path"], "pages/points/v2");

    let stranger = app.given_a_user().await;
    let (_, refused) = app
        .post(
            "/sim/v1/tap",
            &json!({"user_id": stranger, "card_id": club.card_id, "code": code, "entry": "bonus"}),
        )
        .await;
    assert_eq!(errcode(&refused), 40056, "{refused}");
}

#[tokio::test]
async fn updateuser_applies_deltas_and_totals_and_pushes_update_member_card() {
    let app = spawn_app().await;
    let club = app.given_a_club(false, false).await;
    let code = app.given_a_non_jump_member(&club).await;
    let update = |body: Value| {
        let mut body = body;
        body["card_id"] = json!(club.card_id);
        body["code"] = json!(code);
        let app = &app;
        let club = &club;
        async move {
            app.call(&club.token, "/card/membercard/updateuser", &body)
                .await
        }
    };
    let added = update(json!({"add_bonus": 10, "record_bonus": "消费", "add_balance": 300})).await;
    assert_eq!(added["result_bonus"], 30, "{added}");
    assert_eq!(added["result_balance"], 300);
    let total = update(json!({"bonus": 1000, "add_bonus": 970})).await;
    assert_eq!(total["result_bonus"], 1000, "the total wins: {total}");
    let fields_only = update(json!({"custom_field_value1": "金卡"})).await;
    assert_eq!(fields_only["result_bonus"], 1000, "{fields_only}");
    let negative = update(json!({"add_bonus": -1001})).await;
    assert_eq!(errcode(&negative), 45022, "{negative}");
    let broke = update(json!({"add_balance": -301})).await;
    assert_eq!(errcode(&broke), 45023, "{broke}");
    let long = update(json!({"custom_field_value2": "一二三四五"})).await;
    assert_eq!(errcode(&long), 45021, "15 bytes: {long}");

    let changes = app
        .events_of(&club.service_account, "update_member_card")
        .await;
    let mut deltas: Vec<(i64, i64)> = changes
        .iter()
        .map(|event| {
            (
                event["payload"]["modify_bonus"].as_i64().unwrap(),
                event["payload"]["modify_balance"].as_i64().unwrap(),
            )
        })
        .collect();
    deltas.sort_unstable();
    assert_eq!(
        deltas,
        vec![(10, 300), (970, 0)],
        "no event for a field-only update"
    );
}

#[tokio::test]
async fn activate_and_the_form_check_each_field() {
    let app = spawn_app().await;
    let club = app.given_a_club(true, true).await;
    let session = app.open_component(&club, &club.user_id).await;
    let back = app
        .submit(
            &session,
            json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "A"}],
                                 "custom_field_list": [{"name": "会员类型", "value": "个人"}]}),
        )
        .await;
    let code = back["referrerInfo"]["extraData"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        (
            json!({"membership_number": "123456789012345678901", "code": code}),
            45021,
        ),
        (json!({"membership_number": "", "code": code}), 41011),
        (json!({"code": code}), 41011),
        (
            json!({"membership_number": "1", "code": code, "init_custom_field_value1": "一二三四五"}),
            45021,
        ),
        (
            json!({"membership_number": "1", "code": code, "init_bonus_record": "x".repeat(33)}),
            45021,
        ),
        (
            json!({"membership_number": "1", "code": code, "init_bonus": -1}),
            45022,
        ),
        (
            json!({"membership_number": "1", "code": code, "init_balance": -1}),
            45023,
        ),
        (
            json!({"membership_number": "1", "code": code, "activate_begin_time": 20, "activate_end_time": 10}),
            40079,
        ),
        (
            json!({"membership_number": "1", "code": code, "background_pic_url": "ftp://x"}),
            40097,
        ),
        (
            json!({"membership_number": "1", "code": code, "init_bonus": "ten"}),
            47001,
        ),
        (
            json!({"membership_number": "1", "code": "999999999999"}),
            40056,
        ),
    ];
    for (body, expected) in cases {
        let answer = app
            .call(&club.token, "/card/membercard/activate", &body.clone())
            .await;
        assert_eq!(errcode(&answer), expected, "{body} -> {answer}");
    }

    let form_cases = [
        (
            json!({"card_id": club.card_id, "required_form": {"common_field_id_list": ["USER_FORM_FLAG_MOBILE"]}}),
            40097,
        ),
        (
            json!({"card_id": club.card_id, "required_form": {"rich_field_list": [{"type": "FORM_FIELD_SLIDER", "name": "x", "values": ["a"]}]}}),
            40097,
        ),
        (
            json!({"card_id": club.card_id, "required_form": {"rich_field_list": [{"type": "FORM_FIELD_RADIO", "name": "x", "values": []}]}}),
            40097,
        ),
        (
            json!({"card_id": club.card_id, "required_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_LOCATION"]},
                "optional_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_DETAIL_LOCATION"]}}),
            40097,
        ),
        (
            json!({"card_id": club.card_id, "required_form": {"common_field_id_list": "USER_FORM_INFO_FLAG_MOBILE"}}),
            47001,
        ),
        (json!({"card_id": "pNoSuchCard00000000000000000"}), 40073),
    ];
    for (body, expected) in form_cases {
        let answer = app
            .call(
                &club.token,
                "/card/membercard/activateuserform/set",
                &body.clone(),
            )
            .await;
        assert_eq!(errcode(&answer), expected, "{body} -> {answer}");
    }

    // The member APIs need a MEMBER_CARD.
    let (_, coupon) = app
        .post(
            &format!("/card/create?access_token={}", club.token),
            &json!({"card": {"card_type": "GENERAL_COUPON", "general_coupon": {
                "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
                              "brand_name": "示例咖啡", "title": "券", "color": "Color010", "notice": "出示",
                              "description": "券", "sku": {"quantity": 10},
                              "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30}},
                "default_detail": "券"}}}),
        )
        .await;
    let coupon_id = coupon["card_id"].as_str().unwrap();
    let not_member = app
        .call(
            &club.token,
            "/card/membercard/activate/geturl",
            &json!({"card_id": coupon_id}),
        )
        .await;
    assert_eq!(errcode(&not_member), 72003, "{not_member}");
}

#[tokio::test]
async fn a_user_who_logged_in_to_the_merchants_mini_program_is_an_existing_member() {
    let app = spawn_app().await;
    let club = app.given_a_club(false, false).await;
    let returning = app.given_a_user().await;
    let code = app.given_a_login_code(&returning, &club.mini_program).await;
    let session = app
        .get(&format!(
            "/sns/jscode2session?appid={}&secret={}&js_code={code}&grant_type=authorization_code",
            club.mini_program.appid, club.mini_program.secret
        ))
        .await;
    assert!(session["unionid"].is_string(), "{session}");

    let seen = app.open_component(&club, &returning).await;
    let view = app.get(&format!("/sim/v1/component/{seen}")).await;
    assert_eq!(view["member"]["kind"], "existing", "{view}");
    assert_eq!(view["member"]["unionid_known_to_merchant"], true);
    assert_eq!(view["member"]["holds_card"], false);

    let stranger = app.given_a_user().await;
    let fresh = app.open_component(&club, &stranger).await;
    let view = app.get(&format!("/sim/v1/component/{fresh}")).await;
    assert_eq!(view["member"]["kind"], "new", "{view}");
    assert_eq!(view["member"]["unionid_known_to_merchant"], false);
}
