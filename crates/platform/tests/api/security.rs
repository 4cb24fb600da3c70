//! The security pass: one app's token never reaches another app's cards, codes or users;
//! the admin and simulator APIs need the admin token when one is set; credentials never come
//! back in an answer. (Constant-time comparison is checked over the sources in
//! `domain::auth`; the log is checked by the CLI tests, which run the binary.)

use serde_json::{json, Value};

use crate::code::{card_ext, coupon};
use crate::helpers::{errcode, spawn_app, spawn_app_with};

#[tokio::test]
async fn another_service_accounts_token_reaches_none_of_an_accounts_cards_codes_or_users() {
    let app = spawn_app().await;
    let shop = app.given_a_shop(coupon(10, 1)).await;
    let added = app
        .add_card(&shop, &shop.user_id, &card_ext(&shop, "n1"))
        .await;
    let encrypted = added["cardList"][0]["code"].as_str().unwrap().to_owned();
    let code = app
        .call(
            &shop.token,
            "/card/code/decrypt",
            &json!({"encrypt_code": encrypted}),
        )
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let before_card = app
        .call(&shop.token, "/card/get", &json!({"card_id": shop.card_id}))
        .await;
    let before_code = app
        .call(&shop.token, "/card/code/get", &json!({"code": code}))
        .await;
    let rival = app.given_a_shop(coupon(10, 1)).await;
    let (card_id, openid) = (&shop.card_id, &shop.openid);

    let attempts: Vec<(&str, Value)> = vec![
        ("/card/get", json!({"card_id": card_id})),
        (
            "/card/update",
            json!({"card_id": card_id, "general_coupon": {"base_info": {"description": "stolen"}}}),
        ),
        ("/card/delete", json!({"card_id": card_id})),
        (
            "/card/modifystock",
            json!({"card_id": card_id, "reduce_stock_value": 5}),
        ),
        (
            "/card/qrcode/create",
            json!({"action_name": "QR_CARD", "action_info": {"card": {"card_id": card_id}}}),
        ),
        (
            "/card/landingpage/create",
            json!({"banner": "http://mmbiz.qpic.cn/b", "page_title": "t", "can_share": false, "scene": "SCENE_NEARBY", "card_list": [{"card_id": card_id, "thumb_url": "http://mmbiz.qpic.cn/t"}]}),
        ),
        (
            "/card/paycell/set",
            json!({"card_id": card_id, "is_open": true}),
        ),
        (
            "/card/selfconsumecell/set",
            json!({"card_id": card_id, "is_open": true}),
        ),
        ("/card/code/get", json!({"code": code})),
        ("/card/code/get", json!({"code": code, "card_id": card_id})),
        ("/card/code/consume", json!({"code": code})),
        (
            "/card/code/consume",
            json!({"code": code, "card_id": card_id}),
        ),
        ("/card/code/decrypt", json!({"encrypt_code": encrypted})),
        (
            "/card/code/update",
            json!({"code": code, "card_id": card_id, "new_code": "STOLEN1"}),
        ),
        (
            "/card/code/unavailable",
            json!({"code": code, "card_id": card_id}),
        ),
        (
            "/card/code/deposit",
            json!({"card_id": card_id, "code": ["STOLEN2"]}),
        ),
        ("/card/code/getdepositcount", json!({"card_id": card_id})),
        (
            "/card/code/checkcode",
            json!({"card_id": card_id, "code": [code]}),
        ),
        (
            "/card/code/mark",
            json!({"code": code, "card_id": card_id, "openid": openid, "is_mark": true}),
        ),
        (
            "/card/movieticket/updateuser",
            json!({"code": code, "card_id": card_id, "ticket_class": "3D", "show_time": 1_900_000_000, "duration": 120, "screening_room": "1"}),
        ),
        (
            "/card/boardingpass/checkin",
            json!({"code": code, "card_id": card_id, "passenger_name": "x", "class": "Y", "seat": "1A"}),
        ),
        (
            "/card/meetingticket/updateuser",
            json!({"code": code, "card_id": card_id, "zone": "A", "entrance": "1", "seat_number": "1"}),
        ),
        (
            "/card/membercard/activate",
            json!({"code": code, "card_id": card_id, "membership_number": "1"}),
        ),
        (
            "/card/membercard/userinfo/get",
            json!({"code": code, "card_id": card_id}),
        ),
        (
            "/card/membercard/updateuser",
            json!({"code": code, "card_id": card_id, "bonus": 100}),
        ),
        (
            "/card/membercard/activateuserform/set",
            json!({"card_id": card_id, "required_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_MOBILE"]}}),
        ),
        (
            "/card/membercard/activate/geturl",
            json!({"card_id": card_id, "outer_str": "x"}),
        ),
    ];
    let mut refused = 0;
    for (path, body) in &attempts {
        let answer = app.call(&rival.token, path, body).await;
        assert_ne!(
            errcode(&answer),
            0,
            "{path} with another account's token: {answer}"
        );
        // What the caller sent may be echoed back; the owner, its card and its user's card
        // may not be revealed.
        let text = answer.to_string();
        assert!(
            !text.contains(&shop.service_account.appid)
                && !text.contains("九折券")
                && !text.contains("NORMAL"),
            "{path} reveals the other account's data: {answer}"
        );
        refused += 1;
    }
    // The user's card list, asked with the other account's openid, shows nothing of it.
    let listed = app
        .call(
            &rival.token,
            "/card/user/getcardlist",
            &json!({"openid": openid}),
        )
        .await;
    let cards = listed["card_list"].as_array().cloned().unwrap_or_default();
    assert!(cards.is_empty(), "{listed}");

    // Nothing changed for the owner, and no event was written for it by the rival's calls.
    assert_eq!(refused, attempts.len());
    let after_card = app
        .call(&shop.token, "/card/get", &json!({"card_id": shop.card_id}))
        .await;
    let after_code = app
        .call(&shop.token, "/card/code/get", &json!({"code": code}))
        .await;
    assert_eq!(after_card, before_card);
    assert_eq!(after_code, before_code);
    let events = app
        .get(&format!(
            "/admin/v1/events?appid={}",
            shop.service_account.appid
        ))
        .await;
    let names: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["event"].as_str())
        .collect();
    assert!(
        names
            .iter()
            .all(|name| matches!(*name, "user_get_card" | "card_pass_check")),
        "{names:?}"
    );
}

#[tokio::test]
async fn every_admin_and_simulator_operation_needs_the_admin_token_when_one_is_set() {
    let app = spawn_app_with(|config| {
        config.admin_token = Some(wxcard_platform::config::Secret::new("admin-s3cret"));
    })
    .await;
    let description: Value = serde_json::from_str(wxcard_platform::http_openapi_text()).unwrap();
    let mut guarded = 0;

    for (path, operations) in description["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if operation["security"][0].get("adminToken").is_none() {
                continue;
            }
            let concrete = path.replace(['{', '}'], "");
            let method =
                reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            for authorization in [None, Some("Bearer wrong"), Some("admin-s3cret")] {
                let mut request = app
                    .http
                    .request(method.clone(), format!("{}{concrete}", app.base_url))
                    .body("{}");
                if let Some(value) = authorization {
                    request = request.header("authorization", value);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();

                assert_eq!(
                    status, 401,
                    "{method} {path} with {authorization:?}: {body}"
                );
                assert_eq!(errcode(&body), 40001, "{method} {path}: {body}");
                assert!(!body.to_string().contains("admin-s3cret"), "{body}");
            }
            let accepted = app
                .http
                .request(method.clone(), format!("{}{concrete}", app.base_url))
                .header("authorization", "Bearer admin-s3cret")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_ne!(accepted.status().as_u16(), 401, "{method} {path}");
            guarded += 1;
        }
    }

    assert!(guarded >= 25, "only {guarded} guarded operations");
    let (status, _, _) = app
        .request(reqwest::Method::GET, "/openapi.json", None)
        .await;
    assert_eq!(status, 200, "the description is public");
}

#[tokio::test]
async fn a_wrong_secret_or_token_is_never_echoed_back() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let wrong_secret = "0123456789abcdef0123456789abcdef";

    let refused = app
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={wrong_secret}",
            account.appid
        ))
        .await;
    let bad_token = app
        .call(
            "ACCESS_TOKEN_THAT_IS_WRONG_0123",
            "/card/get",
            &json!({"card_id": "p1"}),
        )
        .await;

    assert_eq!(errcode(&refused), 40125, "{refused}");
    assert!(!refused.to_string().contains(wrong_secret), "{refused}");
    assert!(!refused.to_string().contains(&account.secret), "{refused}");
    assert_eq!(errcode(&bad_token), 40001, "{bad_token}");
    assert!(
        !bad_token
            .to_string()
            .contains("ACCESS_TOKEN_THAT_IS_WRONG_0123"),
        "{bad_token}"
    );
}
