//! Card templates over HTTP (spec/cards.md): every type round-trips, every rule answers its
//! errcode, review writes its events, and a card belongs to its Service Account.

use serde_json::{json, Value};

use crate::helpers::{errcode, spawn_app, spawn_app_with, TestApp, TestAppCredentials};

/// A valid base_info; `overrides` replaces or adds fields.
fn base_info(overrides: Value) -> Value {
    let mut base = json!({
        "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0",
        "code_type": "CODE_TYPE_QRCODE",
        "brand_name": "示例咖啡",
        "title": "双人套餐券",
        "color": "Color010",
        "notice": "使用时请出示二维码",
        "description": "不可与其他优惠同享\n仅限堂食",
        "sku": {"quantity": 100},
        "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0},
        "get_limit": 3,
        "service_phone": "020-12345678",
        "can_share": true,
        "can_give_friend": true
    });
    if let (Some(base), Value::Object(overrides)) = (base.as_object_mut(), overrides) {
        base.extend(overrides);
    }
    base
}

/// A valid type object of every card type.
fn type_object(card_type: &str) -> Value {
    match card_type {
        "GROUPON" => {
            json!({"base_info": base_info(json!({})), "deal_detail": "两份主食和两杯饮料"})
        }
        "CASH" => {
            json!({"base_info": base_info(json!({})), "least_cost": 10000, "reduce_cost": 1000,
            "advanced_info": {"use_condition": {"accept_category": "饮品", "can_use_with_other_discount": false},
                "abstract": {"abstract": "周末可用", "icon_url_list": ["http://mmbiz.qpic.cn/mmbiz/cover/0"]},
                "text_image_list": [{"image_url": "http://mmbiz.qpic.cn/mmbiz/detail/0", "text": "招牌菜"}],
                "business_service": ["BIZ_SERVICE_FREE_WIFI"],
                "time_limit": [{"type": "SATURDAY", "begin_hour": 10, "begin_minute": 0, "end_hour": 22, "end_minute": 0}]}})
        }
        "DISCOUNT" => json!({"base_info": base_info(json!({})), "discount": 30}),
        "GIFT" => json!({"base_info": base_info(json!({})), "gift": "一杯美式咖啡"}),
        "GENERAL_COUPON" => {
            json!({"base_info": base_info(json!({})), "default_detail": "全场九折"})
        }
        "MEMBER_CARD" => json!({
            "base_info": base_info(json!({"date_info": {"type": "DATE_TYPE_PERMANENT"}, "sku": {"quantity": 1000}})),
            "prerogative": "会员享九折",
            "supply_bonus": true,
            "supply_balance": false,
            "bonus_rules": "每消费1元积1分",
            "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL"},
            "custom_cell1": {"name": "会员中心", "tips": "查看", "url": "https://example.com/member"},
            "discount": 10,
            "wx_activate": true
        }),
        "GENERAL_CARD" => {
            json!({"base_info": base_info(json!({})), "prerogative": "礼品卡特权", "supply_bonus": false, "supply_balance": false})
        }
        "SCENIC_TICKET" => {
            json!({"base_info": base_info(json!({})), "ticket_class": "平日全票", "guide_url": "https://example.com/guide"})
        }
        "MOVIE_TICKET" => json!({"base_info": base_info(json!({})), "detail": "一部电影"}),
        "BOARDING_PASS" => {
            json!({"base_info": base_info(json!({})), "from": "广州", "to": "北京", "flight": "CZ3101", "departure_time": 1900000000, "landing_time": 1900010000, "gate": "A12", "air_model": "A380"})
        }
        "MEETING_TICKET" => {
            json!({"base_info": base_info(json!({})), "meeting_detail": "开发者大会", "map_url": "https://example.com/map"})
        }
        other => panic!("no fixture for {other}"),
    }
}

const CARD_TYPES: [&str; 11] = [
    "GROUPON",
    "CASH",
    "DISCOUNT",
    "GIFT",
    "GENERAL_COUPON",
    "MEMBER_CARD",
    "GENERAL_CARD",
    "SCENIC_TICKET",
    "MOVIE_TICKET",
    "BOARDING_PASS",
    "MEETING_TICKET",
];

fn create_body(card_type: &str, type_object: Value) -> Value {
    let mut card = serde_json::Map::new();
    card.insert("card_type".into(), json!(card_type));
    card.insert(card_type.to_ascii_lowercase(), type_object);
    json!({ "card": card })
}

impl TestApp {
    async fn given_a_card(&self, token: &str, card_type: &str) -> String {
        let created = self
            .call(
                token,
                "/card/create",
                &create_body(card_type, type_object(card_type)),
            )
            .await;
        assert_eq!(errcode(&created), 0, "{card_type}: {created}");
        created["card_id"].as_str().unwrap().to_owned()
    }

    async fn card_status(&self, token: &str, card_id: &str) -> String {
        let card = self
            .call(token, "/card/get", &json!({"card_id": card_id}))
            .await;
        let card_type = card["card"]["card_type"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        card["card"][card_type]["base_info"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn every_card_type_round_trips_create_then_get_with_identical_content() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;

    for card_type in CARD_TYPES {
        let sent = type_object(card_type);
        let card_id = app.given_a_card(&token, card_type).await;
        let got = app
            .call(&token, "/card/get", &json!({"card_id": card_id}))
            .await;

        assert_eq!(errcode(&got), 0, "{card_type}: {got}");
        assert_eq!(got["card"]["card_type"], card_type);
        let mut shown = got["card"][card_type.to_ascii_lowercase()].clone();
        let base = shown["base_info"].as_object_mut().unwrap();
        assert_eq!(base.remove("id").unwrap(), json!(card_id));
        assert_eq!(
            base.remove("status").unwrap(),
            "CARD_STATUS_VERIFY_OK",
            "auto review approves at once"
        );
        assert!(base.remove("create_time").unwrap().is_i64());
        assert!(base.remove("update_time").unwrap().is_i64());
        let sku = base.get_mut("sku").unwrap().as_object_mut().unwrap();
        assert_eq!(
            sku.remove("total_quantity").unwrap(),
            sent["base_info"]["sku"]["quantity"]
        );
        assert_eq!(shown, sent, "{card_type} came back different");
        assert_eq!(card_id.len(), 28);
        assert!(card_id.starts_with('p'));
    }
}

#[tokio::test]
async fn each_documented_rule_answers_its_errcode_and_names_the_field() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let with_base = |card_type: &str, overrides: Value| {
        let mut object = type_object(card_type);
        object["base_info"] = base_info(overrides);
        create_body(card_type, object)
    };
    let without = |card_type: &str, field: &str| {
        let mut object = type_object(card_type);
        object["base_info"].as_object_mut().unwrap().remove(field);
        create_body(card_type, object)
    };

    let cases: Vec<(Value, i64, &str)> = vec![
        (
            json!({"card": {"card_type": "LOTTERY", "lottery": {}}}),
            40071,
            "card_type",
        ),
        (
            json!({"card": {"card_type": "CASH", "groupon": type_object("GROUPON")}}),
            40071,
            "cash",
        ),
        (without("GROUPON", "title"), 41011, "title"),
        (without("GROUPON", "sku"), 41011, "sku"),
        (
            with_base("GROUPON", json!({"title": "这是一个非常非常非常长的标题"})),
            45021,
            "title",
        ),
        (
            with_base(
                "GROUPON",
                json!({"brand_name": "一二三四五六七八九十一二三"}),
            ),
            45021,
            "brand_name",
        ),
        (
            with_base("GROUPON", json!({"color": "Color999"})),
            40076,
            "color",
        ),
        (
            with_base("GROUPON", json!({"code_type": "CODE_TYPE_HOLOGRAM"})),
            40072,
            "code_type",
        ),
        (
            with_base("GROUPON", json!({"sku": {"quantity": 100_000_001}})),
            40122,
            "quantity",
        ),
        (
            with_base("GROUPON", json!({"sku": {"quantity": -1}})),
            40122,
            "quantity",
        ),
        (
            with_base("GROUPON", json!({"get_limit": 51})),
            72009,
            "get_limit",
        ),
        (
            with_base(
                "GROUPON",
                json!({"date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 0}}),
            ),
            40079,
            "fixed_term",
        ),
        (
            with_base(
                "GROUPON",
                json!({"date_info": {"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": 1_900_000_000, "end_timestamp": 1_800_000_000}}),
            ),
            40079,
            "date_info",
        ),
        (with_base("GROUPON", json!({"title": 5})), 47001, "title"),
        (
            with_base("GROUPON", json!({"logo_url": "ftp://example.com/logo.png"})),
            40141,
            "logo_url",
        ),
        (
            with_base(
                "GROUPON",
                json!({"use_custom_code": true, "get_custom_code_mode": "GET_CUSTOM_CODE_MODE_DEPOSIT", "sku": {"quantity": 5}}),
            ),
            40122,
            "quantity",
        ),
        (
            with_base(
                "GROUPON",
                json!({"center_app_brand_pass": "pages/use/index"}),
            ),
            40150,
            "center_app_brand",
        ),
        (
            create_body(
                "CASH",
                json!({"base_info": base_info(json!({})), "least_cost": 0, "reduce_cost": 50}),
            ),
            72007,
            "reduce_cost",
        ),
        (
            create_body(
                "CASH",
                json!({"base_info": base_info(json!({})), "least_cost": 500, "reduce_cost": 1000}),
            ),
            72008,
            "least_cost",
        ),
        (
            create_body("GROUPON", json!({"base_info": base_info(json!({}))})),
            41011,
            "deal_detail",
        ),
        (
            create_body(
                "BOARDING_PASS",
                json!({"base_info": base_info(json!({})), "from": "广州", "to": "北京"}),
            ),
            41011,
            "flight",
        ),
    ];

    for (body, expected, field) in cases {
        let answer = app.call(&token, "/card/create", &body).await;
        assert_eq!(errcode(&answer), expected, "{body}: {answer}");
        assert!(
            answer["errmsg"].as_str().unwrap().contains(field),
            "the hint should name {field}: {answer}"
        );
    }
}

#[tokio::test]
async fn a_card_belongs_to_its_service_account() {
    let app = spawn_app().await;
    let owner = app.given_a_service_account().await;
    let stranger = app.given_a_service_account().await;
    let mini_program = app.given_a_mini_program(None).await;
    let owner_token = app.given_a_token(&owner).await;
    let stranger_token = app.given_a_token(&stranger).await;
    let mini_token = app.given_a_token(&mini_program).await;
    let card_id = app.given_a_card(&owner_token, "GROUPON").await;

    let read = app
        .call(&stranger_token, "/card/get", &json!({"card_id": card_id}))
        .await;
    let deleted = app
        .call(
            &stranger_token,
            "/card/delete",
            &json!({"card_id": card_id}),
        )
        .await;
    let listed = app
        .call(
            &stranger_token,
            "/card/batchget",
            &json!({"offset": 0, "count": 10}),
        )
        .await;
    let from_mini_program = app
        .call(
            &mini_token,
            "/card/create",
            &create_body("GROUPON", type_object("GROUPON")),
        )
        .await;

    assert_eq!(errcode(&read), 40073, "{read}");
    assert_eq!(errcode(&deleted), 40073);
    assert_eq!(listed["total_num"], 0);
    assert_eq!(errcode(&from_mini_program), 48001, "{from_mini_program}");
    assert!(from_mini_program["errmsg"]
        .as_str()
        .unwrap()
        .contains("Service Account"));
    assert_eq!(
        app.card_status(&owner_token, &card_id).await,
        "CARD_STATUS_VERIFY_OK"
    );
}

#[tokio::test]
async fn auto_review_approves_at_once_and_writes_card_pass_check() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;

    let card_id = app.given_a_card(&token, "CASH").await;
    let events = app.events_of(&account, "card_pass_check").await;

    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["payload"]["card_id"], card_id);
    assert_eq!(events[0]["status"], "pending");
}

#[tokio::test]
async fn manual_review_waits_for_a_person_who_approves_or_rejects_with_a_reason() {
    let app = spawn_app_with(|config| config.review.mode = "manual".into()).await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let approved = app.given_a_card(&token, "GIFT").await;
    let rejected = app.given_a_card(&token, "GIFT").await;

    let waiting = app.card_status(&token, &approved).await;
    let (status, _) = app
        .post(
            &format!("/admin/v1/cards/{approved}/review"),
            &json!({"approve": true}),
        )
        .await;
    let (_, rejection) = app
        .post(
            &format!("/admin/v1/cards/{rejected}/review"),
            &json!({"approve": false, "reason": "资质不符"}),
        )
        .await;
    let (twice, _) = app
        .post(
            &format!("/admin/v1/cards/{approved}/review"),
            &json!({"approve": true}),
        )
        .await;

    assert_eq!(waiting, "CARD_STATUS_NOT_VERIFY");
    assert_eq!(status, 200);
    assert_eq!(
        app.card_status(&token, &approved).await,
        "CARD_STATUS_VERIFY_OK"
    );
    assert_eq!(rejection["status"], "CARD_STATUS_VERIFY_FAIL");
    assert_eq!(
        app.card_status(&token, &rejected).await,
        "CARD_STATUS_VERIFY_FAIL"
    );
    assert_eq!(twice, 409, "a decided review cannot be decided again");
    let not_passed = app.events_of(&account, "card_not_pass_check").await;
    assert_eq!(not_passed.len(), 1);
    assert_eq!(not_passed[0]["payload"]["refuse_reason"], "资质不符");
    assert_eq!(app.events_of(&account, "card_pass_check").await.len(), 1);
}

#[tokio::test]
async fn delayed_review_approves_when_the_clock_passes_the_delay() {
    let app = spawn_app_with(|config| {
        config.review.mode = "delay".into();
        config.review.delay_seconds = 600;
    })
    .await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let card_id = app.given_a_card(&token, "DISCOUNT").await;

    let before = app.card_status(&token, &card_id).await;
    // Three seconds short of the delay: the clock is the wall clock plus the advances, and a
    // loaded machine (the PostgreSQL suite on two cores) can take over a second between the
    // card's creation and this call.
    app.advance_clock(597).await;
    let almost = app.card_status(&token, &card_id).await;
    app.advance_clock(3).await;
    let after = app.events_of(&account, "card_pass_check").await;

    assert_eq!(before, "CARD_STATUS_NOT_VERIFY");
    assert_eq!(almost, "CARD_STATUS_NOT_VERIFY");
    assert_eq!(
        after.len(),
        1,
        "advancing the clock settles the review at once"
    );
    assert_eq!(
        app.card_status(&token, &card_id).await,
        "CARD_STATUS_VERIFY_OK"
    );
}

#[tokio::test]
async fn an_update_changes_allowed_fields_and_a_title_change_goes_back_to_review() {
    let app = spawn_app_with(|config| config.review.mode = "manual".into()).await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let card_id = app.given_a_card(&token, "GENERAL_COUPON").await;
    app.post(
        &format!("/admin/v1/cards/{card_id}/review"),
        &json!({"approve": true}),
    )
    .await;

    let phone = app.call(&token, "/card/update", &json!({"card_id": card_id, "general_coupon": {"base_info": {"service_phone": "020-87654321"}}})).await;
    let status_after_phone = app.card_status(&token, &card_id).await;
    let title = app
        .call(
            &token,
            "/card/update",
            &json!({"card_id": card_id, "general_coupon": {"base_info": {"title": "新标题"}}}),
        )
        .await;
    let brand = app
        .call(
            &token,
            "/card/update",
            &json!({"card_id": card_id, "general_coupon": {"base_info": {"brand_name": "别家"}}}),
        )
        .await;
    let got = app
        .call(&token, "/card/get", &json!({"card_id": card_id}))
        .await;

    assert_eq!(phone["send_check"], false, "{phone}");
    assert_eq!(status_after_phone, "CARD_STATUS_VERIFY_OK");
    assert_eq!(title["send_check"], true, "{title}");
    assert_eq!(errcode(&brand), 40150, "{brand}");
    assert!(brand["errmsg"].as_str().unwrap().contains("brand_name"));
    let base = &got["card"]["general_coupon"]["base_info"];
    assert_eq!(base["service_phone"], "020-87654321");
    assert_eq!(base["title"], "新标题");
    assert_eq!(base["brand_name"], "示例咖啡");
    assert_eq!(base["status"], "CARD_STATUS_NOT_VERIFY");
}

#[tokio::test]
async fn batchget_pages_through_cards_and_filters_by_status() {
    let app = spawn_app_with(|config| config.review.mode = "manual".into()).await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let mut card_ids = Vec::new();
    for _ in 0..5 {
        card_ids.push(app.given_a_card(&token, "GROUPON").await);
    }
    app.post(
        &format!("/admin/v1/cards/{}/review", card_ids[0]),
        &json!({"approve": true}),
    )
    .await;

    let page = app
        .call(&token, "/card/batchget", &json!({"offset": 1, "count": 2}))
        .await;
    let approved = app
        .call(
            &token,
            "/card/batchget",
            &json!({"offset": 0, "count": 50, "status_list": "CARD_STATUS_VERIFY_OK"}),
        )
        .await;
    let pending = app.call(&token, "/card/batchget", &json!({"offset": 0, "count": 50, "status_list": ["CARD_STATUS_NOT_VERIFY", "CARD_STATUS_USER_DELETE"]})).await;
    let too_many = app
        .call(&token, "/card/batchget", &json!({"offset": 0, "count": 51}))
        .await;
    let bad_status = app
        .call(
            &token,
            "/card/batchget",
            &json!({"offset": 0, "count": 5, "status_list": ["APPROVED"]}),
        )
        .await;

    assert_eq!(page["card_id_list"], json!([card_ids[1], card_ids[2]]));
    assert_eq!(page["total_num"], 5);
    assert_eq!(approved["card_id_list"], json!([card_ids[0]]));
    assert_eq!(pending["total_num"], 4);
    assert_eq!(errcode(&too_many), 40097);
    assert_eq!(errcode(&bad_status), 40097);
}

#[tokio::test]
async fn a_deleted_card_says_so_and_cannot_be_changed() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let card_id = app.given_a_card(&token, "GROUPON").await;

    let deleted = app
        .call(&token, "/card/delete", &json!({"card_id": card_id}))
        .await;
    let again = app
        .call(&token, "/card/delete", &json!({"card_id": card_id}))
        .await;
    let update = app
        .call(
            &token,
            "/card/update",
            &json!({"card_id": card_id, "groupon": {"base_info": {"service_phone": "1"}}}),
        )
        .await;

    assert_eq!(errcode(&deleted), 0);
    assert_eq!(
        app.card_status(&token, &card_id).await,
        "CARD_STATUS_DELETE"
    );
    assert_eq!(errcode(&again), 40078, "{again}");
    assert_eq!(errcode(&update), 40078);
}

#[tokio::test]
async fn stock_moves_up_and_down_but_never_below_zero() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let card_id = app.given_a_card(&token, "GROUPON").await;
    let stock = |card: &Value| card["card"]["groupon"]["base_info"]["sku"].clone();

    app.call(
        &token,
        "/card/modifystock",
        &json!({"card_id": card_id, "increase_stock_value": 50}),
    )
    .await;
    app.call(
        &token,
        "/card/modifystock",
        &json!({"card_id": card_id, "reduce_stock_value": 30}),
    )
    .await;
    let below_zero = app
        .call(
            &token,
            "/card/modifystock",
            &json!({"card_id": card_id, "reduce_stock_value": 121}),
        )
        .await;
    let got = app
        .call(&token, "/card/get", &json!({"card_id": card_id}))
        .await;

    assert_eq!(stock(&got), json!({"quantity": 120, "total_quantity": 150}));
    assert_eq!(errcode(&below_zero), 40122, "{below_zero}");
}

#[tokio::test]
async fn the_whitelist_takes_openids_of_the_accounts_users_only() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let user = app.given_a_user().await;
    let openid = app.get(&format!("/admin/v1/users/{user}")).await["openids"][&account.appid]
        .as_str()
        .unwrap()
        .to_owned();

    let set = app
        .call(
            &token,
            "/card/testwhitelist/set",
            &json!({"openid": [openid], "username": ["alice_wx"]}),
        )
        .await;
    let unknown = app
        .call(
            &token,
            "/card/testwhitelist/set",
            &json!({"openid": ["oNOTAUSER0000000000000000000"]}),
        )
        .await;

    assert_eq!(errcode(&set), 0, "{set}");
    assert_eq!(errcode(&unknown), 40003, "{unknown}");
}

#[tokio::test]
async fn a_qr_code_points_at_a_page_and_an_image_served_by_wxcard() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let card_id = app.given_a_card(&token, "GROUPON").await;

    let qr = app.call(&token, "/card/qrcode/create", &json!({"action_name": "QR_CARD", "expire_seconds": 1800, "action_info": {"card": {"card_id": card_id, "outer_str": "shop12"}}})).await;
    let image = app
        .http
        .get(qr["show_qrcode_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let image_type = image.headers()["content-type"].to_str().unwrap().to_owned();
    let image = image.bytes().await.unwrap();
    let page = app
        .http
        .get(qr["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let unlimited = app
        .call(
            &token,
            "/card/qrcode/create",
            &json!({"action_name": "QR_CARD", "action_info": {"card": {"card_id": card_id}}}),
        )
        .await;

    assert_eq!(errcode(&qr), 0, "{qr}");
    assert_eq!(qr["expire_seconds"], 1800);
    assert!(qr["show_qrcode_url"]
        .as_str()
        .unwrap()
        .contains("/cgi-bin/showqrcode?ticket="));
    assert_eq!(image_type, "image/png");
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        page.contains("双人套餐券") && page.contains(&card_id),
        "{page}"
    );
    assert_eq!(unlimited["expire_seconds"], 365 * 24 * 3600);
}

#[tokio::test]
async fn qr_codes_refuse_bad_actions_and_cards_that_cannot_be_handed_out() {
    let app = spawn_app_with(|config| config.review.mode = "manual".into()).await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let pending = app.given_a_card(&token, "GROUPON").await;
    let six: Vec<Value> = (0..6).map(|_| json!({"card_id": pending})).collect();

    let bad_action = app
        .call(
            &token,
            "/card/qrcode/create",
            &json!({"action_name": "QR_LIMIT_SCENE", "action_info": {}}),
        )
        .await;
    let no_card = app
        .call(
            &token,
            "/card/qrcode/create",
            &json!({"action_name": "QR_CARD", "action_info": {"multiple_card": {}}}),
        )
        .await;
    let too_many = app.call(&token, "/card/qrcode/create", &json!({"action_name": "QR_MULTIPLE_CARD", "action_info": {"multiple_card": {"card_list": six}}})).await;
    let not_approved = app
        .call(
            &token,
            "/card/qrcode/create",
            &json!({"action_name": "QR_CARD", "action_info": {"card": {"card_id": pending}}}),
        )
        .await;
    let bad_expiry = app.call(&token, "/card/qrcode/create", &json!({"action_name": "QR_CARD", "expire_seconds": 10, "action_info": {"card": {"card_id": pending}}})).await;

    assert_eq!(errcode(&bad_action), 40052);
    assert_eq!(errcode(&no_card), 40053);
    assert_eq!(errcode(&too_many), 72019);
    assert_eq!(errcode(&not_approved), 40078, "{not_approved}");
    assert_eq!(errcode(&bad_expiry), 40053);
}

#[tokio::test]
async fn a_landing_page_lists_its_cards_on_a_page_served_by_wxcard() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let card_id = app.given_a_card(&token, "CASH").await;
    let body = |scene: &str| json!({"banner": "http://mmbiz.qpic.cn/mmbiz/banner/0", "page_title": "惠城优惠大派送", "can_share": true, "scene": scene, "card_list": [{"card_id": card_id, "thumb_url": "http://mmbiz.qpic.cn/mmbiz/thumb/0"}]});

    let created = app
        .call(&token, "/card/landingpage/create", &body("SCENE_NEAR_BY"))
        .await;
    let page = app
        .http
        .get(created["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let bad_scene = app
        .call(&token, "/card/landingpage/create", &body("SCENE_MOON"))
        .await;

    assert_eq!(errcode(&created), 0, "{created}");
    assert!(created["page_id"].as_i64().unwrap() >= 1);
    assert!(
        page.contains("惠城优惠大派送") && page.contains(&card_id),
        "{page}"
    );
    assert_eq!(errcode(&bad_scene), 40129);
}

#[tokio::test]
async fn jump_fields_must_name_a_mini_program_on_the_same_open_platform() {
    let app = spawn_app().await;
    let open_platform = app.given_an_open_platform().await;
    let (status, account) = app.post("/admin/v1/apps", &json!({"kind": "service_account", "name": "linked", "open_platform_id": open_platform})).await;
    assert_eq!(status, 200);
    let token = app
        .given_a_token(&TestAppCredentials {
            appid: account["appid"].as_str().unwrap().into(),
            secret: account["secret"].as_str().unwrap().into(),
            original_id: account["original_id"].as_str().unwrap().into(),
        })
        .await;
    let linked = app.given_a_mini_program(Some(&open_platform)).await;
    let unlinked = app.given_a_mini_program(None).await;
    let jump = |user_name: String| {
        let mut object = type_object("GROUPON");
        object["base_info"]["center_app_brand_user_name"] = json!(user_name);
        object["base_info"]["center_app_brand_pass"] = json!("pages/use/index");
        create_body("GROUPON", object)
    };

    let ok = app
        .call(
            &token,
            "/card/create",
            &jump(format!("{}@app", linked.original_id)),
        )
        .await;
    let not_linked = app
        .call(
            &token,
            "/card/create",
            &jump(format!("{}@app", unlinked.original_id)),
        )
        .await;
    let unknown = app
        .call(&token, "/card/create", &jump("gh_000000000000@app".into()))
        .await;

    assert_eq!(errcode(&ok), 0, "{ok}");
    assert_eq!(errcode(&not_linked), 40168, "{not_linked}");
    assert_eq!(errcode(&unknown), 40168, "{unknown}");
    assert!(unknown["errmsg"]
        .as_str()
        .unwrap()
        .contains("center_app_brand_user_name"));
}
