//! Codes and claiming over HTTP: flows A and B of DESIGN.md §2 end to end, the merchant's code
//! APIs, and exactly-once behaviour under concurrency.

use serde_json::{json, Value};
use wxcard_platform::future::join_all;
use wxcard_wire::sign::{card_signature, CardSignInput};

use crate::helpers::{errcode, spawn_app, TestApp, TestAppCredentials};

/// A Service Account and a Mini Program on one open platform account, a user, and a card.
pub(crate) struct Shop {
    pub(crate) service_account: TestAppCredentials,
    pub(crate) mini_program: TestAppCredentials,
    pub(crate) token: String,
    pub(crate) ticket: String,
    pub(crate) card_id: String,
    pub(crate) user_id: String,
    pub(crate) openid: String,
}

pub(crate) fn coupon(quantity: i64, get_limit: i64) -> Value {
    json!({"card": {"card_type": "GENERAL_COUPON", "general_coupon": {
        "base_info": {
            "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE", "brand_name": "示例咖啡",
            "title": "九折券", "color": "Color010", "notice": "出示二维码", "description": "全场九折",
            "sku": {"quantity": quantity}, "get_limit": get_limit,
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}
        },
        "default_detail": "全场九折"
    }}})
}

impl TestApp {
    pub(crate) async fn given_a_shop(&self, card: Value) -> Shop {
        let open_platform = self.given_an_open_platform().await;
        let (_, sa) = self.post("/admin/v1/apps", &json!({"kind": "service_account", "name": "shop", "open_platform_id": open_platform})).await;
        let service_account = TestAppCredentials {
            appid: sa["appid"].as_str().unwrap().into(),
            secret: sa["secret"].as_str().unwrap().into(),
            original_id: sa["original_id"].as_str().unwrap().into(),
        };
        let mini_program = self.given_a_mini_program(Some(&open_platform)).await;
        let token = self.given_a_token(&service_account).await;
        let ticket = self
            .get(&format!(
                "/cgi-bin/ticket/getticket?type=wx_card&access_token={token}"
            ))
            .await["ticket"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, created) = self
            .post(&format!("/card/create?access_token={token}"), &card)
            .await;
        let card_id = created["card_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .to_owned();
        let user_id = self.given_a_user().await;
        let openid = self.openid_of(&user_id, &service_account.appid).await;
        Shop {
            service_account,
            mini_program,
            token,
            ticket,
            card_id,
            user_id,
            openid,
        }
    }

    async fn openid_of(&self, user_id: &str, appid: &str) -> String {
        self.get(&format!("/admin/v1/users/{user_id}")).await["openids"][appid]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn add_card(&self, shop: &Shop, user_id: &str, card_ext: &str) -> Value {
        let (status, answer) = self.post("/sim/v1/addCard", &json!({"user_id": user_id, "appid": shop.mini_program.appid, "cardList": [{"cardId": shop.card_id, "cardExt": card_ext}]})).await;
        assert_eq!(status, 200, "a JSAPI result is always HTTP 200: {answer}");
        answer
    }

    async fn merchant(&self, shop: &Shop, path: &str, body: Value) -> Value {
        self.post(&format!("{path}?access_token={}", shop.token), &body)
            .await
            .1
    }
}

/// A cardExt signed the way a merchant server does, with a nonce unique to `nonce`.
pub(crate) fn card_ext(shop: &Shop, nonce: &str) -> String {
    let timestamp = "1900000000";
    let signature = card_signature(&CardSignInput {
        api_ticket: &shop.ticket,
        timestamp,
        card_id: &shop.card_id,
        nonce_str: nonce,
        ..CardSignInput::default()
    });
    json!({"timestamp": timestamp, "nonce_str": nonce, "outer_str": "poster01", "signature": signature}).to_string()
}

#[tokio::test]
async fn flows_a_and_b_claim_decrypt_query_open_consume_and_push() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 3)).await;

    // Flow A: the Mini Program calls wx.addCard with a cardExt the merchant signed.
    let added = app
        .add_card(&shop, &shop.user_id, &card_ext(&shop, "nonce1"))
        .await;
    assert_eq!(added["errMsg"], "addCard:ok", "{added}");
    assert_eq!(added["cardList"][0]["isSuccess"], true);
    let encrypted = added["cardList"][0]["code"].as_str().unwrap().to_owned();
    let decrypted = app
        .merchant(
            &shop,
            "/card/code/decrypt",
            json!({"encrypt_code": encrypted}),
        )
        .await;
    let code = decrypted["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{decrypted}"))
        .to_owned();
    assert_eq!(code.len(), 12);
    assert!(code.bytes().all(|byte| byte.is_ascii_digit()));
    assert_ne!(encrypted, code);
    let percent_encoded = encrypted
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    assert_eq!(
        app.merchant(
            &shop,
            "/card/code/decrypt",
            json!({"encrypt_code": percent_encoded})
        )
        .await["code"],
        code.as_str()
    );

    let queried = app
        .merchant(
            &shop,
            "/card/code/get",
            json!({"code": code, "card_id": shop.card_id}),
        )
        .await;
    assert_eq!(queried["user_card_status"], "NORMAL", "{queried}");
    assert_eq!(queried["openid"], shop.openid.as_str());
    assert_eq!(queried["can_consume"], true);
    assert!(
        queried["card"]["end_time"].as_i64().unwrap()
            > queried["card"]["begin_time"].as_i64().unwrap()
    );

    // Flow B: wx.openCard needs the real code; the encrypted one is named as the mistake.
    let (_, with_encrypted) = app.post("/sim/v1/openCard", &json!({"user_id": shop.user_id, "appid": shop.mini_program.appid, "cardList": [{"cardId": shop.card_id, "code": encrypted}]})).await;
    assert!(
        with_encrypted["errMsg"]
            .as_str()
            .unwrap()
            .starts_with("openCard:fail"),
        "{with_encrypted}"
    );
    assert!(
        with_encrypted["diagnosis"]["summary"]
            .as_str()
            .unwrap()
            .contains("/card/code/decrypt"),
        "{with_encrypted}"
    );
    let (_, opened) = app.post("/sim/v1/openCard", &json!({"user_id": shop.user_id, "appid": shop.mini_program.appid, "cardList": [{"cardId": shop.card_id, "code": code}]})).await;
    assert_eq!(opened["errMsg"], "openCard:ok", "{opened}");

    let consumed = app
        .merchant(&shop, "/card/code/consume", json!({"code": code}))
        .await;
    let again = app
        .merchant(&shop, "/card/code/consume", json!({"code": code}))
        .await;
    assert_eq!(errcode(&consumed), 0, "{consumed}");
    assert_eq!(consumed["openid"], shop.openid.as_str());
    assert_eq!(errcode(&again), 40099, "{again}");
    let after = app
        .merchant(
            &shop,
            "/card/code/get",
            json!({"code": code, "check_consume": false}),
        )
        .await;
    assert_eq!(after["user_card_status"], "CONSUMED");
    assert_eq!(after["can_consume"], false);

    let events = app
        .get(&format!(
            "/admin/v1/events?appid={}",
            shop.service_account.appid
        ))
        .await;
    let events = events["events"].as_array().unwrap();
    let got = events
        .iter()
        .find(|event| event["event"] == "user_get_card")
        .expect("user_get_card in the outbox");
    assert_eq!(got["payload"]["code"], code.as_str());
    assert_eq!(
        got["payload"]["openid"],
        shop.openid.as_str(),
        "FromUserName is the Service Account openid"
    );
    assert_eq!(got["payload"]["outer_str"], "poster01");
    assert!(
        got["payload"]["union_id"].is_string(),
        "the account is on an open platform: {got}"
    );
    let consume_event = events
        .iter()
        .find(|event| event["event"] == "user_consume_card")
        .expect("user_consume_card in the outbox");
    assert_eq!(consume_event["payload"]["consume_source"], "FROM_API");
    assert_eq!(consume_event["payload"]["code"], code.as_str());
    let card = app
        .merchant(&shop, "/card/get", json!({"card_id": shop.card_id}))
        .await;
    assert_eq!(
        card["card"]["general_coupon"]["base_info"]["sku"]["quantity"],
        99
    );
}

#[tokio::test]
async fn a_cardext_works_once_and_a_bad_signature_is_explained() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let ext = card_ext(&shop, "once");

    let first = app.add_card(&shop, &shop.user_id, &ext).await;
    let replayed = app.add_card(&shop, &shop.user_id, &ext).await;
    let forged = app
        .add_card(
            &shop,
            &shop.user_id,
            &json!({"timestamp": "1900000000", "nonce_str": "x", "signature": "0".repeat(40)})
                .to_string(),
        )
        .await;

    assert_eq!(first["errMsg"], "addCard:ok");
    assert!(
        replayed["errMsg"]
            .as_str()
            .unwrap()
            .starts_with("addCard:fail"),
        "{replayed}"
    );
    assert_eq!(errcode(&replayed), 40080);
    assert_eq!(errcode(&forged), 40080, "{forged}");
    let signature = &forged["diagnosis"]["signature"];
    assert!(
        signature["sorted_values"]
            .as_array()
            .is_some_and(|values| !values.is_empty()),
        "{forged}"
    );
    assert_eq!(signature["given"], "0".repeat(40));
    assert_eq!(signature["expected"].as_str().unwrap().len(), 40);
}

#[tokio::test]
async fn a_user_on_an_old_base_library_has_no_wx_add_card() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let (_, old) = app
        .post(
            "/admin/v1/users",
            &json!({"nickname": "Bob", "base_library": "1.0.4"}),
        )
        .await;

    let answer = app
        .add_card(
            &shop,
            old["user_id"].as_str().unwrap(),
            &card_ext(&shop, "old"),
        )
        .await;

    assert!(
        answer["errMsg"]
            .as_str()
            .unwrap()
            .contains("not a function"),
        "{answer}"
    );
}

#[tokio::test]
async fn sixty_four_concurrent_consumes_of_one_code_succeed_exactly_once() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let code = app.claimed_code(&shop, &shop.user_id, "race").await;

    let attempts =
        (0..64).map(|_| app.merchant(&shop, "/card/code/consume", json!({"code": code})));
    let answers = join_all(attempts).await;

    let successes = answers.iter().filter(|answer| errcode(answer) == 0).count();
    let consumed_already = answers
        .iter()
        .filter(|answer| errcode(answer) == 40099)
        .count();
    assert_eq!((successes, consumed_already), (1, 63));
    let events = app
        .get(&format!(
            "/admin/v1/events?appid={}&event=user_consume_card",
            shop.service_account.appid
        ))
        .await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn three_hundred_concurrent_claims_against_stock_one_hundred_issue_exactly_one_hundred() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let mut users = Vec::new();
    for _ in 0..300 {
        users.push(app.given_a_user().await);
    }

    let claims = users.iter().enumerate().map(|(index, user_id)| {
        let ext = card_ext(&shop, &format!("claim{index}"));
        let app = &app;
        let shop = &shop;
        async move { app.add_card(shop, user_id, &ext).await }
    });
    let answers = join_all(claims).await;

    let added = answers
        .iter()
        .filter(|answer| answer["errMsg"] == "addCard:ok")
        .count();
    let no_stock = answers
        .iter()
        .filter(|answer| errcode(answer) == 45031)
        .count();
    assert_eq!((added, no_stock), (100, 200));
    let card = app
        .merchant(&shop, "/card/get", json!({"card_id": shop.card_id}))
        .await;
    assert_eq!(
        card["card"]["general_coupon"]["base_info"]["sku"]["quantity"],
        0
    );
}

#[tokio::test]
async fn twenty_concurrent_claims_by_one_user_with_get_limit_one_give_one_card() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 1)).await;

    let claims = (0..20).map(|index| {
        let ext = card_ext(&shop, &format!("limit{index}"));
        let app = &app;
        let shop = &shop;
        async move { app.add_card(shop, &shop.user_id, &ext).await }
    });
    let answers = join_all(claims).await;

    let added = answers
        .iter()
        .filter(|answer| answer["errMsg"] == "addCard:ok")
        .count();
    let over_limit = answers
        .iter()
        .filter(|answer| errcode(answer) == 45033)
        .count();
    assert_eq!((added, over_limit), (1, 19));
}

#[tokio::test]
async fn deposit_mode_hands_out_deposited_codes_and_stock_follows_them() {
    let app = spawn_app().await;
    let mut card = coupon(0, 5);
    card["card"]["general_coupon"]["base_info"]["use_custom_code"] = json!(true);
    card["card"]["general_coupon"]["base_info"]["get_custom_code_mode"] =
        json!("GET_CUSTOM_CODE_MODE_DEPOSIT");
    let shop = app.given_a_shop(card).await;

    let deposited = app
        .merchant(
            &shop,
            "/card/code/deposit",
            json!({"card_id": shop.card_id, "code": ["D0001", "D0002"]}),
        )
        .await;
    let again = app
        .merchant(
            &shop,
            "/card/code/deposit",
            json!({"card_id": shop.card_id, "code": ["D0002", "D0003"]}),
        )
        .await;
    let count = app
        .merchant(
            &shop,
            "/card/code/getdepositcount",
            json!({"card_id": shop.card_id}),
        )
        .await;
    let checked = app
        .merchant(
            &shop,
            "/card/code/checkcode",
            json!({"card_id": shop.card_id, "code": ["D0001", "D9999"]}),
        )
        .await;
    let too_much_stock = app
        .merchant(
            &shop,
            "/card/modifystock",
            json!({"card_id": shop.card_id, "increase_stock_value": 4}),
        )
        .await;
    let stock = app
        .merchant(
            &shop,
            "/card/modifystock",
            json!({"card_id": shop.card_id, "increase_stock_value": 3}),
        )
        .await;
    let added = app
        .add_card(&shop, &shop.user_id, &card_ext(&shop, "deposit"))
        .await;
    let code = app
        .merchant(
            &shop,
            "/card/code/decrypt",
            json!({"encrypt_code": added["cardList"][0]["code"]}),
        )
        .await;
    let too_many: Vec<String> = (0..101).map(|index| format!("X{index}")).collect();
    let over_100 = app
        .merchant(
            &shop,
            "/card/code/deposit",
            json!({"card_id": shop.card_id, "code": too_many}),
        )
        .await;

    assert_eq!(deposited["succ_code"], json!(["D0001", "D0002"]));
    assert_eq!(again["duplicate_code"], json!(["D0002"]));
    assert_eq!(count["count"], 3);
    assert_eq!(
        (
            checked["exist_code"].clone(),
            checked["not_exist_code"].clone()
        ),
        (json!(["D0001"]), json!(["D9999"]))
    );
    assert_eq!(errcode(&too_much_stock), 40136, "{too_much_stock}");
    assert_eq!(errcode(&stock), 0, "{stock}");
    assert_eq!(added["errMsg"], "addCard:ok", "{added}");
    assert_eq!(code["code"], "D0001");
    assert_eq!(errcode(&over_100), 40109);
}

#[tokio::test]
async fn code_apis_answer_the_state_table_errcodes() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let code = app.claimed_code(&shop, &shop.user_id, "states").await;

    let unknown = app
        .merchant(&shop, "/card/code/get", json!({"code": "000000000000"}))
        .await;
    let made_unavailable = app
        .merchant(
            &shop,
            "/card/code/unavailable",
            json!({"code": code, "reason": "退款"}),
        )
        .await;
    let get_checked = app
        .merchant(&shop, "/card/code/get", json!({"code": code}))
        .await;
    let get_unchecked = app
        .merchant(
            &shop,
            "/card/code/get",
            json!({"code": code, "check_consume": false}),
        )
        .await;
    let consume = app
        .merchant(&shop, "/card/code/consume", json!({"code": code}))
        .await;
    let garbage = app
        .merchant(
            &shop,
            "/card/code/decrypt",
            json!({"encrypt_code": "bm90IGEgY29kZQ=="}),
        )
        .await;
    let list = app
        .merchant(
            &shop,
            "/card/user/getcardlist",
            json!({"openid": shop.openid}),
        )
        .await;

    assert_eq!(errcode(&unknown), 40056);
    assert_eq!(errcode(&made_unavailable), 0);
    assert_eq!(errcode(&get_checked), 40127, "{get_checked}");
    assert_eq!(get_unchecked["user_card_status"], "UNAVAILABLE");
    assert_eq!(errcode(&consume), 40127);
    assert_eq!(errcode(&garbage), 40075, "{garbage}");
    assert_eq!(
        list["card_list"],
        json!([]),
        "an unavailable code is no longer in the user's list"
    );
}

#[tokio::test]
async fn a_code_expires_when_the_clock_passes_its_window() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let code = app.claimed_code(&shop, &shop.user_id, "expiry").await;

    app.advance_clock(31 * 86_400).await;
    let token = app.given_a_token(&shop.service_account).await;
    let expired = app
        .post(
            &format!("/card/code/get?access_token={token}"),
            &json!({"code": code, "check_consume": false}),
        )
        .await
        .1;
    let consume = app
        .post(
            &format!("/card/code/consume?access_token={token}"),
            &json!({"code": code}),
        )
        .await
        .1;

    assert_eq!(expired["user_card_status"], "EXPIRE", "{expired}");
    assert_eq!(errcode(&consume), 40127);
}

impl TestApp {
    async fn claimed_code(&self, shop: &Shop, user_id: &str, nonce: &str) -> String {
        let added = self.add_card(shop, user_id, &card_ext(shop, nonce)).await;
        self.merchant(
            shop,
            "/card/code/decrypt",
            json!({"encrypt_code": added["cardList"][0]["code"]}),
        )
        .await["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn gift(&self, shop: &Shop, user_id: &str, code: &str) -> String {
        let (status, gifted) = self
            .post(
                &format!("/sim/v1/users/{user_id}/cards/{}/{code}/gift", shop.card_id),
                &json!({}),
            )
            .await;
        assert_eq!(status, 200, "{gifted}");
        gifted["gift_id"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn an_accepted_gift_gives_the_friend_a_new_code_and_names_the_giver() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let friend = app.given_a_user().await;
    let code = app.claimed_code(&shop, &shop.user_id, "gift").await;

    let gift_id = app.gift(&shop, &shop.user_id, &code).await;
    let while_gifting = app
        .merchant(
            &shop,
            "/card/code/get",
            json!({"code": code, "check_consume": false}),
        )
        .await;
    let (status, accepted) = app
        .post(
            &format!("/sim/v1/gifts/{gift_id}/accept"),
            &json!({"user_id": friend}),
        )
        .await;
    let (_, twice) = app
        .post(
            &format!("/sim/v1/gifts/{gift_id}/accept"),
            &json!({"user_id": friend}),
        )
        .await;
    let new_code = accepted["code"].as_str().unwrap().to_owned();
    let old = app
        .merchant(
            &shop,
            "/card/code/get",
            json!({"code": code, "check_consume": false}),
        )
        .await;
    let new = app
        .merchant(&shop, "/card/code/get", json!({"code": new_code}))
        .await;

    assert_eq!(while_gifting["user_card_status"], "GIFTING");
    assert_eq!(status, 200, "{accepted}");
    assert_ne!(new_code, code, "a system code changes for safety");
    assert_eq!(old["user_card_status"], "GIFT_SUCC");
    assert_eq!(
        new["openid"],
        app.openid_of(&friend, &shop.service_account.appid)
            .await
            .as_str()
    );
    assert_eq!(twice["errcode"].as_i64(), Some(40127), "{twice}");
    let events = app
        .get(&format!(
            "/admin/v1/events?appid={}",
            shop.service_account.appid
        ))
        .await;
    let events = events["events"].as_array().unwrap();
    let gifting = events
        .iter()
        .find(|event| event["event"] == "user_gifting_card")
        .expect("user_gifting_card");
    assert_eq!(gifting["payload"]["is_return_back"], false);
    let received = events
        .iter()
        .find(|event| {
            event["event"] == "user_get_card" && event["payload"]["is_give_by_friend"] == true
        })
        .expect("the friend's user_get_card");
    assert_eq!(received["payload"]["friend_openid"], shop.openid.as_str());
    assert_eq!(received["payload"]["old_code"], code.as_str());
    assert_eq!(received["payload"]["code"], new_code.as_str());
}

#[tokio::test]
async fn a_gift_not_accepted_within_a_day_returns_to_the_giver() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let friend = app.given_a_user().await;
    let code = app.claimed_code(&shop, &shop.user_id, "timeout").await;
    let gift_id = app.gift(&shop, &shop.user_id, &code).await;

    app.advance_clock(24 * 3600).await;
    let token = app.given_a_token(&shop.service_account).await;
    let back = app
        .post(
            &format!("/card/code/get?access_token={token}"),
            &json!({"code": code}),
        )
        .await
        .1;
    let (_, late) = app
        .post(
            &format!("/sim/v1/gifts/{gift_id}/accept"),
            &json!({"user_id": friend}),
        )
        .await;

    assert_eq!(back["user_card_status"], "NORMAL", "{back}");
    assert_ne!(errcode(&late), 0, "{late}");
    let returned = app
        .get(&format!(
            "/admin/v1/events?appid={}&event=user_gifting_card",
            shop.service_account.appid
        ))
        .await;
    assert!(
        returned["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["payload"]["is_return_back"] == true),
        "{returned}"
    );
}

/// The same card as `coupon`, as another card type (`MOVIE_TICKET`, …).
fn ticket(card_type: &str, quantity: i64) -> Value {
    let mut card = coupon(quantity, 5);
    let body = card["card"]["general_coupon"].take();
    let key = card_type.to_lowercase();
    card["card"] = json!({"card_type": card_type, key.as_str(): {"base_info": body["base_info"], "detail": "电影简介"}});
    card
}

#[tokio::test]
async fn a_mark_binds_a_code_to_one_user_until_released() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(100, 5)).await;
    let code = app.claimed_code(&shop, &shop.user_id, "mark").await;
    let friend = app.given_a_user().await;
    let friend_openid = app.openid_of(&friend, &shop.service_account.appid).await;
    let mark = |openid: &str, is_mark: bool| json!({"code": code, "card_id": shop.card_id, "openid": openid, "is_mark": is_mark});

    let without_card_id = app
        .merchant(
            &shop,
            "/card/code/mark",
            json!({"code": code, "openid": shop.openid, "is_mark": true}),
        )
        .await;
    let unknown_openid = app
        .merchant(&shop, "/card/code/mark", mark("o-nobody", true))
        .await;
    let marked = app
        .merchant(&shop, "/card/code/mark", mark(&shop.openid, true))
        .await;
    let marked_again = app
        .merchant(&shop, "/card/code/mark", mark(&shop.openid, true))
        .await;
    let taken = app
        .merchant(&shop, "/card/code/mark", mark(&friend_openid, true))
        .await;
    let released = app
        .merchant(&shop, "/card/code/mark", mark(&shop.openid, false))
        .await;
    let friend_marks = app
        .merchant(&shop, "/card/code/mark", mark(&friend_openid, true))
        .await;

    assert_eq!(errcode(&without_card_id), 41012, "{without_card_id}");
    assert_eq!(errcode(&unknown_openid), 40003, "{unknown_openid}");
    assert_eq!(errcode(&marked), 0, "{marked}");
    assert_eq!(
        errcode(&marked_again),
        0,
        "marking twice for the same user is idempotent: {marked_again}"
    );
    assert_eq!(errcode(&taken), 40146, "{taken}");
    assert!(
        taken["errmsg"].as_str().unwrap().contains(&shop.openid),
        "the message names who holds the mark: {taken}"
    );
    assert_eq!(errcode(&released), 0, "{released}");
    assert_eq!(errcode(&friend_marks), 0, "{friend_marks}");
}

#[tokio::test]
async fn a_movie_ticket_update_names_the_first_missing_field_and_stores_the_showing() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(ticket("MOVIE_TICKET", 10)).await;
    let code = app.claimed_code(&shop, &shop.user_id, "movie").await;
    let full = json!({"code": code, "ticket_class": "4D", "show_time": 1_900_000_000, "duration": 120, "screening_room": "5号厅", "seat_number": ["5排14号"]});

    let mut expected = Vec::new();
    for (field, errcode_wanted) in [
        ("ticket_class", 41014),
        ("show_time", 41015),
        ("screening_room", 41016),
        ("seat_number", 41017),
    ] {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(field);
        let answer = app
            .merchant(&shop, "/card/movieticket/updateuser", body)
            .await;
        expected.push((field, errcode_wanted, answer));
    }
    let empty_seats = app
        .merchant(&shop, "/card/movieticket/updateuser", json!({"code": code, "ticket_class": "4D", "show_time": 1_900_000_000, "screening_room": "5号厅", "seat_number": []}))
        .await;
    let updated = app
        .merchant(&shop, "/card/movieticket/updateuser", full.clone())
        .await;
    let package = app
        .get(&format!("/sim/v1/users/{}/cards", shop.user_id))
        .await;

    for (field, errcode_wanted, answer) in expected {
        assert_eq!(
            errcode(&answer),
            errcode_wanted,
            "without {field}: {answer}"
        );
    }
    assert_eq!(errcode(&empty_seats), 41017, "{empty_seats}");
    assert_eq!(errcode(&updated), 0, "{updated}");
    let card = &package["cards"][0];
    assert_eq!(card["ticket"]["screening_room"], "5号厅", "{package}");
    assert_eq!(
        card["ticket"]["seat_number"],
        json!(["5排14号"]),
        "{package}"
    );
}

#[tokio::test]
async fn ticket_apis_refuse_codes_of_other_card_types_and_boarding_passes_can_be_cancelled() {
    let app = spawn_app().await;
    let coupon_shop = app.given_a_shop(coupon(10, 5)).await;
    let coupon_code = app
        .claimed_code(&coupon_shop, &coupon_shop.user_id, "c")
        .await;
    let flight = app.given_a_shop(json!({"card": {"card_type": "BOARDING_PASS", "boarding_pass": {
        "base_info": coupon(10, 5)["card"]["general_coupon"]["base_info"], "from": "广州", "to": "北京", "flight": "CE123"}}})).await;
    let pass = app.claimed_code(&flight, &flight.user_id, "b").await;

    let not_a_movie = app
        .merchant(&coupon_shop, "/card/movieticket/updateuser", json!({"code": coupon_code, "ticket_class": "4D", "show_time": 1, "screening_room": "1", "seat_number": ["1"]}))
        .await;
    let incomplete = app
        .merchant(
            &flight,
            "/card/boardingpass/checkin",
            json!({"code": pass, "passenger_name": "乘客"}),
        )
        .await;
    let checked_in = app
        .merchant(&flight, "/card/boardingpass/checkin", json!({"code": pass, "passenger_name": "乘客", "class": "经济舱", "etkt_bnr": "12345678901234", "seat": "12A", "qrcode_data": "data", "is_cancel": false}))
        .await;
    let cancelled = app
        .merchant(
            &flight,
            "/card/boardingpass/checkin",
            json!({"code": pass, "is_cancel": true}),
        )
        .await;

    assert_eq!(errcode(&not_a_movie), 45030, "{not_a_movie}");
    assert!(
        not_a_movie["errmsg"]
            .as_str()
            .unwrap()
            .contains("MOVIE_TICKET"),
        "{not_a_movie}"
    );
    assert_eq!(errcode(&incomplete), 41011, "{incomplete}");
    assert!(
        incomplete["errmsg"].as_str().unwrap().contains("class"),
        "{incomplete}"
    );
    assert_eq!(errcode(&checked_in), 0, "{checked_in}");
    assert_eq!(errcode(&cancelled), 0, "{cancelled}");
}

#[tokio::test]
async fn the_pay_cell_the_self_consume_cell_and_the_centre_button_exclude_each_other() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(10, 5)).await;
    let mut with_centre = coupon(10, 5);
    with_centre["card"]["general_coupon"]["base_info"]["center_title"] = json!("立即使用");
    with_centre["card"]["general_coupon"]["base_info"]["center_url"] =
        json!("https://shop.example/use");
    let centre_card = app.merchant(&shop, "/card/create", with_centre).await["card_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pay = |card_id: &str, is_open: bool| json!({"card_id": card_id, "is_open": is_open});
    let self_consume = |is_open: bool| json!({"card_id": shop.card_id, "is_open": is_open, "need_verify_cod": true, "need_remark_amount": false});

    let pay_on = app
        .merchant(&shop, "/card/paycell/set", pay(&shop.card_id, true))
        .await;
    let self_while_pay = app
        .merchant(&shop, "/card/selfconsumecell/set", self_consume(true))
        .await;
    let pay_off = app
        .merchant(&shop, "/card/paycell/set", pay(&shop.card_id, false))
        .await;
    let self_on = app
        .merchant(&shop, "/card/selfconsumecell/set", self_consume(true))
        .await;
    let pay_while_self = app
        .merchant(&shop, "/card/paycell/set", pay(&shop.card_id, true))
        .await;
    let pay_with_centre = app
        .merchant(&shop, "/card/paycell/set", pay(&centre_card, true))
        .await;
    let unknown_card = app
        .merchant(&shop, "/card/paycell/set", pay("pNoSuchCard", true))
        .await;

    assert_eq!(errcode(&pay_on), 0, "{pay_on}");
    assert_eq!(errcode(&self_while_pay), 45046, "{self_while_pay}");
    assert_eq!(errcode(&pay_off), 0, "{pay_off}");
    assert_eq!(errcode(&self_on), 0, "{self_on}");
    assert_eq!(errcode(&pay_while_self), 45046, "{pay_while_self}");
    assert_eq!(errcode(&pay_with_centre), 40145, "{pay_with_centre}");
    assert_eq!(errcode(&unknown_card), 40073, "{unknown_card}");
}

#[tokio::test]
async fn the_user_redeems_at_the_counter_through_the_self_consume_and_pay_cells() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(10, 5)).await;
    let self_code = app.claimed_code(&shop, &shop.user_id, "self").await;
    let pay_code = app.claimed_code(&shop, &shop.user_id, "pay").await;
    let counter = |code: &str, action: &str| {
        format!(
            "/sim/v1/users/{}/cards/{}/{code}/{action}",
            shop.user_id, shop.card_id
        )
    };

    let (_, while_closed) = app
        .post(&counter(&self_code, "self-consume"), &json!({}))
        .await;
    app.merchant(&shop, "/card/selfconsumecell/set", json!({"card_id": shop.card_id, "is_open": true, "need_verify_cod": true, "need_remark_amount": true})).await;
    let (_, without_verify_code) = app
        .post(
            &counter(&self_code, "self-consume"),
            &json!({"remark_amount": "88.00"}),
        )
        .await;
    let (_, self_consumed) = app
        .post(
            &counter(&self_code, "self-consume"),
            &json!({"verify_code": "1234", "remark_amount": "88.00"}),
        )
        .await;
    let (_, again) = app
        .post(
            &counter(&self_code, "self-consume"),
            &json!({"verify_code": "1234", "remark_amount": "88.00"}),
        )
        .await;
    app.merchant(
        &shop,
        "/card/selfconsumecell/set",
        json!({"card_id": shop.card_id, "is_open": false}),
    )
    .await;
    app.merchant(
        &shop,
        "/card/paycell/set",
        json!({"card_id": shop.card_id, "is_open": true}),
    )
    .await;
    let (_, overpaid) = app
        .post(
            &counter(&pay_code, "pay"),
            &json!({"fee": 1200, "original_fee": 1000}),
        )
        .await;
    let (_, paid) = app
        .post(
            &counter(&pay_code, "pay"),
            &json!({"fee": 900, "original_fee": 1000}),
        )
        .await;
    let pay_status = app
        .merchant(
            &shop,
            "/card/code/get",
            json!({"code": pay_code, "check_consume": false}),
        )
        .await;
    let consumed = app
        .get(&format!(
            "/admin/v1/events?appid={}&event=user_consume_card",
            shop.service_account.appid
        ))
        .await;
    let payments = app
        .get(&format!(
            "/admin/v1/events?appid={}&event=user_pay_from_pay_cell",
            shop.service_account.appid
        ))
        .await;

    assert_eq!(errcode(&while_closed), 45030, "{while_closed}");
    assert!(
        while_closed["errmsg"]
            .as_str()
            .unwrap()
            .contains("/card/selfconsumecell/set"),
        "{while_closed}"
    );
    assert_eq!(
        errcode(&without_verify_code),
        41011,
        "{without_verify_code}"
    );
    assert!(
        without_verify_code["errmsg"]
            .as_str()
            .unwrap()
            .contains("verify_code"),
        "{without_verify_code}"
    );
    assert_eq!(errcode(&self_consumed), 0, "{self_consumed}");
    assert_eq!(
        errcode(&again),
        40099,
        "a self-consumed code is consumed: {again}"
    );
    assert_ne!(errcode(&overpaid), 0, "{overpaid}");
    assert_eq!(errcode(&paid), 0, "{paid}");
    assert_eq!(pay_status["user_card_status"], "CONSUMED", "{pay_status}");
    let consume = &consumed["events"][0]["payload"];
    assert_eq!(consume["code"], self_code.as_str(), "{consumed}");
    assert_eq!(consume["verify_code"], "1234", "{consumed}");
    assert_eq!(consume["remark_amount"], "88.00", "{consumed}");
    assert_eq!(consume["consume_source"], "FROM_SELF_CONSUME", "{consumed}");
    let payment = &payments["events"][0]["payload"];
    assert_eq!(
        payments["events"].as_array().unwrap().len(),
        1,
        "{payments}"
    );
    assert_eq!(payment["code"], pay_code.as_str(), "{payments}");
    assert_eq!(
        (payment["fee"].as_i64(), payment["original_fee"].as_i64()),
        (Some(900), Some(1000)),
        "{payments}"
    );
    assert_eq!(
        payment["trans_id"].as_str().unwrap().len(),
        28,
        "{payments}"
    );
}
