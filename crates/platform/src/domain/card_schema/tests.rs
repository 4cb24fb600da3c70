//! Tests of the card schema: valid cards of every type, one rejection per documented rule
//! (many generated from the tables themselves), updates, and inputs that must not panic.

use serde_json::{json, Value};

use crate::domain::card_schema::{
    check_image_url, validate_create, validate_update, CardType, CodeMode, DateRule, FieldSpec,
    Kind, Limit, ObjectSpec, OnUpdate, Rule, Update, Violation, DEFAULT_GET_LIMIT,
};

/// The clock of every test: 2023-11-14.
const NOW: i64 = 1_700_000_000;
const BEGIN: i64 = 1_700_000_000;
const END: i64 = 1_735_660_799;
const MINI_PROGRAM: &str = "gh_0123456789ab@app";

fn base_info() -> Value {
    json!({
        "logo_url": "http://mmbiz.qpic.cn/mmbiz/EXAMPLE/0",
        "brand_name": "示例餐厅",
        "code_type": "CODE_TYPE_QRCODE",
        "title": "双人套餐券",
        "color": "Color010",
        "notice": "使用时请出示二维码",
        "description": "不可与其他优惠同享\n仅限堂食",
        "sku": {"quantity": 500_000},
        "date_info": {"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": BEGIN, "end_timestamp": END},
        "use_custom_code": false,
        "bind_openid": false,
        "service_phone": "020-12345678",
        "location_id_list": [123, 456],
        "use_all_locations": false,
        "center_title": "立即使用",
        "center_sub_title": "到店出示",
        "center_url": "https://example.com/use",
        "center_app_brand_user_name": MINI_PROGRAM,
        "center_app_brand_pass": "pages/use/index",
        "custom_url_name": "菜单",
        "custom_url": "https://example.com/menu",
        "custom_url_sub_title": "更多",
        "custom_app_brand_user_name": MINI_PROGRAM,
        "custom_app_brand_pass": "/pages/menu/index?from=card",
        "promotion_url_name": "更多优惠",
        "promotion_url": "https://example.com/promo",
        "promotion_url_sub_title": "点击查看",
        "promotion_app_brand_user_name": "gh_abcdef012345@app",
        "promotion_app_brand_pass": "pages/promo/index",
        "get_limit": 3,
        "use_limit": 10,
        "can_share": true,
        "can_give_friend": false,
        "source": "大众点评",
        "need_push_on_view": false,
        "sub_merchant_info": {"merchant_id": 12}
    })
}

fn advanced_info() -> Value {
    json!({
        "use_condition": {
            "accept_category": "饮品",
            "reject_category": "酒类",
            "least_cost": 10_000,
            "object_use_for": "咖啡",
            "can_use_with_other_discount": false
        },
        "abstract": {"abstract": "周末可用", "icon_url_list": ["http://mmbiz.qpic.cn/mmbiz/EXAMPLE2/0"]},
        "text_image_list": [{"image_url": "http://mmbiz.qpic.cn/mmbiz/EXAMPLE3/0", "text": "招牌菜"}],
        "business_service": ["BIZ_SERVICE_FREE_WIFI", "BIZ_SERVICE_DELIVER"],
        "time_limit": [
            {"type": "SATURDAY", "begin_hour": 10, "begin_minute": 0, "end_hour": 22, "end_minute": 30},
            {"type": "HOLIDAY"}
        ],
        "share_friends": false
    })
}

fn custom_field(name: &str) -> Value {
    json!({
        "name": name,
        "url": "https://member.example.com/field",
        "app_brand_user_name": MINI_PROGRAM,
        "app_brand_pass": "pages/field/index"
    })
}

fn custom_cell(name: &str) -> Value {
    json!({
        "name": name,
        "tips": "免排队",
        "url": "https://member.example.com/order",
        "app_brand_user_name": MINI_PROGRAM,
        "app_brand_pass": "pages/order/index"
    })
}

/// A valid type object of `card_type` that uses every field the tables know for it.
fn type_object(card_type: CardType) -> Value {
    let mut object = json!({"base_info": base_info(), "advanced_info": advanced_info()});
    let extra = match card_type {
        CardType::Groupon => json!({"deal_detail": "套餐包含两份主食和两杯饮料"}),
        CardType::Cash => json!({"least_cost": 10_000, "reduce_cost": 1_000}),
        CardType::Discount => json!({"discount": 30}),
        CardType::Gift => json!({"gift": "咖啡一杯"}),
        CardType::GeneralCoupon => json!({"default_detail": "全场九折"}),
        CardType::ScenicTicket => json!({
            "ticket_class": "成人票",
            "guide_url": "https://example.com/guide"
        }),
        CardType::MovieTicket => json!({"detail": "电影简介"}),
        CardType::BoardingPass => json!({
            "from": "广州", "to": "北京", "flight": "CZ3101",
            "departure_time": 1_700_100_000, "landing_time": 1_700_110_000,
            "check_in_url": "https://example.com/checkin", "gate": "A12",
            "boarding_time": 1_700_098_000, "air_model": "A380"
        }),
        CardType::MeetingTicket => json!({
            "meeting_detail": "年度开发者大会",
            "map_url": "https://example.com/map"
        }),
        CardType::MemberCard => {
            set(
                &mut object,
                "base_info.date_info",
                Some(json!({"type": "DATE_TYPE_PERMANENT"})),
            );
            set(
                &mut object,
                "base_info.pay_info",
                Some(json!({"swipe_card": {"is_swipe_card": true}})),
            );
            set(
                &mut object,
                "base_info.is_pay_and_qrcode",
                Some(json!(true)),
            );
            set(
                &mut object,
                "base_info.need_push_on_view",
                Some(json!(true)),
            );
            set(
                &mut object,
                "base_info.activate_app_brand_user_name",
                Some(json!(MINI_PROGRAM)),
            );
            set(
                &mut object,
                "base_info.activate_app_brand_pass",
                Some(json!("pages/member/activate")),
            );
            json!({
                "background_pic_url": "https://mmbiz.qpic.cn/mmbiz_jpg/EXAMPLEBG/0",
                "prerogative": "会员消费 9 折，生日当月赠饮一杯",
                "auto_activate": false,
                "wx_activate": true,
                "wx_activate_after_submit": true,
                "wx_activate_after_submit_url": "https://member.example.com/wx/activated",
                "activate_url": "https://member.example.com/activate",
                "activate_app_brand_user_name": MINI_PROGRAM,
                "activate_app_brand_pass": "pages/member/activate",
                "supply_bonus": true,
                "bonus_url": "https://member.example.com/points",
                "bonus_app_brand_user_name": MINI_PROGRAM,
                "bonus_app_brand_pass": "pages/member/points",
                "supply_balance": false,
                "balance_url": "https://member.example.com/balance",
                "balance_app_brand_user_name": MINI_PROGRAM,
                "balance_app_brand_pass": "pages/member/balance",
                "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL", "url": "https://member.example.com/level"},
                "custom_field2": custom_field("优惠券"),
                "custom_field3": {"name_type": "FIELD_NAME_TYPE_ACHIEVEMEN"},
                "custom_cell1": custom_cell("在线点单"),
                "custom_cell2": custom_cell("门店"),
                "custom_cell3": custom_cell("客服"),
                "bonus_cleared": "每年年底清零",
                "bonus_rules": "每消费1元积1分，5分抵1元",
                "balance_rules": "储值不退",
                "bonus_rule": {
                    "cost_money_unit": 100, "increase_bonus": 1, "max_increase_bonus": 500,
                    "init_increase_bonus": 10, "cost_bonus_unit": 5, "reduce_money": 100,
                    "least_money_to_use_bonus": 1000, "max_reduce_bonus": 50
                },
                "discount": 10
            })
        }
        CardType::GeneralCard => {
            set(
                &mut object,
                "base_info.date_info",
                Some(json!({"type": "DATE_TYPE_PERMANENT"})),
            );
            set(
                &mut object,
                "base_info.giftcard_info",
                Some(json!({"price": 10_000})),
            );
            set(
                &mut object,
                "base_info.max_give_friend_times",
                Some(json!(1)),
            );
            json!({
                "sub_card_type": "GIFT_CARD",
                "background_pic_url": "https://mmbiz.qpic.cn/mmbiz_jpg/EXAMPLEBG/0",
                "prerogative": "可在全部门店使用",
                "auto_activate": true,
                "supply_bonus": false,
                "init_bonus": 0,
                "supply_balance": true,
                "init_balance": 5_000,
                "custom_field1": {"name": "余额"},
                "custom_field2": {"name_type": "FIELD_NAME_TYPE_COUPON"},
                "custom_field3": custom_field("积分")
            })
        }
    };
    if let (Some(object), Value::Object(extra)) = (object.as_object_mut(), extra) {
        object.extend(extra);
    }
    object
}

fn create_request(card_type: CardType) -> Value {
    json!({"card": {"card_type": card_type.wire_name(), card_type.key(): type_object(card_type)}})
}

/// Sets (or with `None` removes) the field at a dotted path; `name[i]` steps into an array.
fn set(document: &mut Value, path: &str, value: Option<Value>) {
    let segments: Vec<&str> = path.split('.').collect();
    let (last, parents) = segments.split_last().expect("a path has a segment");
    let mut current = document;
    for segment in parents {
        current = match segment.split_once('[') {
            Some((name, index)) => {
                let index: usize = index.trim_end_matches(']').parse().expect("an index");
                &mut current[name][index]
            }
            None => &mut current[*segment],
        };
    }
    match (value, last.split_once('[')) {
        (Some(value), Some((name, index))) => {
            let index: usize = index.trim_end_matches(']').parse().expect("an index");
            current[name][index] = value;
        }
        (Some(value), None) => current[*last] = value,
        (None, _) => {
            current
                .as_object_mut()
                .expect("the parent is an object")
                .remove(*last);
        }
    }
}

/// Changes to a request: a dotted path and the new value, or `None` to remove the field.
type Edits = Vec<(&'static str, Option<Value>)>;

/// The create request of `card_type` with `edits` (paths relative to the type object).
fn edited_request(card_type: CardType, edits: &[(&str, Option<Value>)]) -> Value {
    let mut request = create_request(card_type);
    for (path, value) in edits {
        set(
            &mut request,
            &format!("card.{}.{path}", card_type.key()),
            value.clone(),
        );
    }
    request
}

fn create_error(request: &Value) -> Violation {
    match validate_create(request, NOW) {
        Ok(card) => panic!("expected a violation, the card was accepted: {card:?}"),
        Err(violation) => violation,
    }
}

/// Every field of an object spec and of the objects below it (not inside arrays).
fn fields_under(
    spec: &'static ObjectSpec,
    path: &str,
    out: &mut Vec<(String, &'static FieldSpec)>,
) {
    for field in spec.fields() {
        let field_path = format!("{path}.{}", field.name);
        out.push((field_path.clone(), field));
        if let Kind::Object(inner) = field.kind {
            fields_under(inner, &field_path, out);
        }
    }
}

fn all_fields(card_type: CardType) -> Vec<(String, &'static FieldSpec)> {
    let mut fields = Vec::new();
    fields_under(
        card_type.schema(),
        &format!("card.{}", card_type.key()),
        &mut fields,
    );
    fields
}

// ---------------------------------------------------------------------------------------
// Card types

#[test]
fn every_card_type_reads_back_from_its_wire_name_and_has_its_lowercase_key() {
    for card_type in CardType::ALL {
        assert_eq!(CardType::from_wire(card_type.wire_name()), Some(card_type));
        assert_eq!(card_type.key(), card_type.wire_name().to_lowercase());
    }
    assert_eq!(CardType::from_wire("groupon"), None);
    assert_eq!(CardType::from_wire("LUCKY_MONEY"), None);
}

// ---------------------------------------------------------------------------------------
// Create: valid cards

#[test]
fn a_valid_card_of_every_type_passes_and_its_document_is_the_type_object() {
    for card_type in CardType::ALL {
        let request = create_request(card_type);

        let card = validate_create(&request, NOW)
            .unwrap_or_else(|violation| panic!("{card_type:?} was rejected: {violation}"));

        assert_eq!(card.card_type, card_type);
        assert_eq!(card.document, type_object(card_type), "{card_type:?}");
        assert!(card.ignored.is_empty(), "{card_type:?}: {:?}", card.ignored);
        assert_eq!(card.quantity, 500_000);
        assert_eq!(card.code_mode, CodeMode::System);
        assert_eq!(card.get_limit, 3);
        assert!(card.can_share);
        assert!(!card.can_give_friend);
    }
}

#[test]
fn the_card_reports_its_date_rule() {
    let coupon = validate_create(&create_request(CardType::Cash), NOW).expect("valid");
    let member = validate_create(&create_request(CardType::MemberCard), NOW).expect("valid");

    assert_eq!(
        coupon.date,
        DateRule::FixTimeRange {
            begin: BEGIN,
            end: END
        }
    );
    assert_eq!(member.date, DateRule::Permanent);
}

#[test]
fn every_mini_program_is_listed_with_its_path() {
    let groupon = validate_create(&create_request(CardType::Groupon), NOW).expect("valid");
    let member = validate_create(&create_request(CardType::MemberCard), NOW).expect("valid");

    assert_eq!(
        groupon.mini_programs,
        vec![
            (
                "card.groupon.base_info.center_app_brand_user_name".to_owned(),
                MINI_PROGRAM.to_owned()
            ),
            (
                "card.groupon.base_info.custom_app_brand_user_name".to_owned(),
                MINI_PROGRAM.to_owned()
            ),
            (
                "card.groupon.base_info.promotion_app_brand_user_name".to_owned(),
                "gh_abcdef012345@app".to_owned()
            ),
        ]
    );
    let member_paths: Vec<&str> = member
        .mini_programs
        .iter()
        .map(|(path, _)| path.as_str())
        .collect();
    for path in [
        "card.member_card.base_info.activate_app_brand_user_name",
        "card.member_card.activate_app_brand_user_name",
        "card.member_card.bonus_app_brand_user_name",
        "card.member_card.balance_app_brand_user_name",
        "card.member_card.custom_field2.app_brand_user_name",
        "card.member_card.custom_cell3.app_brand_user_name",
    ] {
        assert!(
            member_paths.contains(&path),
            "{path} missing from {member_paths:?}"
        );
    }
}

#[test]
fn a_minimal_card_gets_the_spec_defaults() {
    let request = json!({"card": {"card_type": "GIFT", "gift": {
        "base_info": {
            "logo_url": "https://example.com/logo.png", "brand_name": "店", "code_type": "CODE_TYPE_TEXT",
            "title": "券", "color": "Color102", "notice": "出示", "description": "说明",
            "sku": {"quantity": 0},
            "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30}
        },
        "gift": "一杯咖啡"
    }}});

    let card = validate_create(&request, NOW).expect("valid");

    assert_eq!(card.quantity, 0);
    assert_eq!(card.get_limit, DEFAULT_GET_LIMIT);
    assert!(card.can_share);
    assert!(card.can_give_friend);
    assert!(!card.bind_openid);
    assert_eq!(card.code_mode, CodeMode::System);
    assert_eq!(
        card.date,
        DateRule::FixTerm {
            term_days: 30,
            begin_days: 0,
            end: None
        }
    );
    assert!(card.mini_programs.is_empty());
}

#[test]
fn accepted_variants_pass_and_are_read_as_documented() {
    type Expect = fn(&crate::domain::card_schema::NewCard);
    let cases: Vec<(&str, CardType, Edits, Expect)> = vec![
        (
            "legacy date type 1 is a fixed time range and is stored as sent",
            CardType::Groupon,
            vec![("base_info.date_info.type", Some(json!(1)))],
            |card| {
                assert_eq!(
                    card.date,
                    DateRule::FixTimeRange {
                        begin: BEGIN,
                        end: END
                    }
                );
                assert_eq!(card.document["base_info"]["date_info"]["type"], json!(1));
            },
        ),
        (
            "legacy date type 2 is a fixed term",
            CardType::Groupon,
            vec![(
                "base_info.date_info",
                Some(json!({"type": 2, "fixed_term": 90, "fixed_begin_term": 1})),
            )],
            |card| {
                assert_eq!(
                    card.date,
                    DateRule::FixTerm {
                        term_days: 90,
                        begin_days: 1,
                        end: None
                    }
                );
            },
        ),
        (
            "a fixed term may carry end_timestamp as a hard expiry",
            CardType::Discount,
            vec![(
                "base_info.date_info",
                Some(json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "end_timestamp": END})),
            )],
            |card| {
                assert_eq!(
                    card.date,
                    DateRule::FixTerm {
                        term_days: 30,
                        begin_days: 0,
                        end: Some(END)
                    }
                );
            },
        ),
        (
            "least_cost 0 means no threshold",
            CardType::Cash,
            vec![("least_cost", Some(json!(0)))],
            |card| assert_eq!(card.document["least_cost"], json!(0)),
        ),
        (
            "get_limit 0 reads as the default",
            CardType::Gift,
            vec![("base_info.get_limit", Some(json!(0)))],
            |card| assert_eq!(card.get_limit, DEFAULT_GET_LIMIT),
        ),
        (
            "get_limit 50 is the largest accepted",
            CardType::Gift,
            vec![("base_info.get_limit", Some(json!(50)))],
            |card| assert_eq!(card.get_limit, 50),
        ),
        (
            "use_custom_code makes a custom-code card",
            CardType::Groupon,
            vec![
                ("base_info.use_custom_code", Some(json!(true))),
                ("base_info.bind_openid", Some(json!(true))),
            ],
            |card| {
                assert_eq!(card.code_mode, CodeMode::Custom);
                assert!(card.bind_openid);
            },
        ),
        (
            "deposit mode with use_custom_code and no stock makes a deposit card",
            CardType::Groupon,
            vec![
                ("base_info.use_custom_code", Some(json!(true))),
                (
                    "base_info.get_custom_code_mode",
                    Some(json!("GET_CUSTOM_CODE_MODE_DEPOSIT")),
                ),
                ("base_info.sku.quantity", Some(json!(0))),
            ],
            |card| assert_eq!(card.code_mode, CodeMode::Deposit),
        ),
        (
            "the largest stock is accepted",
            CardType::Groupon,
            vec![("base_info.sku.quantity", Some(json!(100_000_000)))],
            |card| assert_eq!(card.quantity, 100_000_000),
        ),
        (
            "a null field counts as absent and is neither kept nor ignored",
            CardType::Groupon,
            vec![("base_info.service_phone", Some(Value::Null))],
            |card| {
                assert!(card.document["base_info"].get("service_phone").is_none());
                assert!(card.ignored.is_empty());
            },
        ),
        (
            "use_all_locations may come with an empty list",
            CardType::Groupon,
            vec![
                ("base_info.use_all_locations", Some(json!(true))),
                ("base_info.location_id_list", Some(json!([]))),
            ],
            |card| assert_eq!(card.document["base_info"]["use_all_locations"], json!(true)),
        ),
        (
            "a general card may be permanent",
            CardType::GeneralCard,
            vec![],
            |card| assert_eq!(card.date, DateRule::Permanent),
        ),
        (
            "a member card with a time range is fine too",
            CardType::MemberCard,
            vec![(
                "base_info.date_info",
                Some(
                    json!({"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": BEGIN, "end_timestamp": END}),
                ),
            )],
            |card| {
                assert_eq!(
                    card.date,
                    DateRule::FixTimeRange {
                        begin: BEGIN,
                        end: END
                    }
                );
            },
        ),
        (
            "a member card activated only through a base_info Mini Program is enough",
            CardType::MemberCard,
            vec![
                ("wx_activate", Some(json!(false))),
                ("activate_url", None),
                ("activate_app_brand_user_name", None),
                ("activate_app_brand_pass", None),
            ],
            |card| assert!(card.document.get("activate_url").is_none()),
        ),
        (
            "an empty cover image list is accepted",
            CardType::Gift,
            vec![("advanced_info.abstract.icon_url_list", Some(json!([])))],
            |card| {
                assert_eq!(
                    card.document["advanced_info"]["abstract"]["icon_url_list"],
                    json!([])
                );
            },
        ),
        (
            "an image URL on any http host is accepted",
            CardType::Gift,
            vec![(
                "base_info.logo_url",
                Some(json!("HTTPS://cdn.example.org:8443/logo.png?v=2")),
            )],
            |card| {
                assert_eq!(
                    card.document["base_info"]["logo_url"],
                    json!("HTTPS://cdn.example.org:8443/logo.png?v=2")
                );
            },
        ),
        (
            "a sub-merchant id may be a string of digits",
            CardType::Gift,
            vec![(
                "base_info.sub_merchant_info.merchant_id",
                Some(json!("12345")),
            )],
            |card| {
                assert_eq!(
                    card.document["base_info"]["sub_merchant_info"]["merchant_id"],
                    json!("12345")
                );
            },
        ),
        (
            "sending a not-listed member-card custom_field0 is merely ignored",
            CardType::MemberCard,
            vec![("custom_field0", Some(json!({"name": "x"})))],
            |card| {
                assert_eq!(
                    card.ignored,
                    vec!["card.member_card.custom_field0".to_owned()]
                );
            },
        ),
    ];
    for (name, card_type, edits, expect) in cases {
        let request = edited_request(card_type, &edits);

        let card = validate_create(&request, NOW)
            .unwrap_or_else(|violation| panic!("{name}: {violation}"));

        expect(&card);
    }
}

#[test]
fn unknown_fields_are_dropped_from_the_document_and_listed() {
    let mut request = edited_request(
        CardType::Cash,
        &[
            ("base_info.sub_title", Some(json!("旧字段"))),
            (
                "base_info.url_name_type",
                Some(json!("URL_NAME_TYPE_RESERVATION")),
            ),
            ("base_info.sku.total_quantity", Some(json!(9))),
            (
                "advanced_info.text_image_list[0].extra",
                Some(json!({"deep": [1, 2, 3]})),
            ),
        ],
    );
    set(
        &mut request,
        "card.groupon",
        Some(json!({"deal_detail": "wrong key"})),
    );
    set(&mut request, "access_token", Some(json!("token")));

    let card = validate_create(&request, NOW).expect("valid");

    assert_eq!(card.document, type_object(CardType::Cash));
    let mut ignored = card.ignored.clone();
    ignored.sort();
    assert_eq!(
        ignored,
        vec![
            "access_token",
            "card.cash.advanced_info.text_image_list[0].extra",
            "card.cash.base_info.sku.total_quantity",
            "card.cash.base_info.sub_title",
            "card.cash.base_info.url_name_type",
            "card.groupon",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Create: rejections derived from the tables

#[test]
fn every_limited_string_field_rejects_one_byte_over_its_limit() {
    let mut n_checked = 0;
    for card_type in CardType::ALL {
        for (path, field) in all_fields(card_type) {
            let too_long = match field.kind {
                Kind::Text(Limit::Bytes(max)) => "a".repeat(max + 1),
                Kind::HttpUrl(Limit::Bytes(max)) | Kind::ImageUrl(Limit::Bytes(max)) => {
                    format!("https://example.com/{}", "a".repeat(max))
                }
                Kind::AppBrandPass { .. } => "a".repeat(129),
                _ => continue,
            };
            let mut request = create_request(card_type);
            set(&mut request, &path, Some(json!(too_long)));

            let violation = create_error(&request);

            assert_eq!(
                (violation.rule, violation.field.as_str()),
                (Rule::TooLong, path.as_str())
            );
            n_checked += 1;
        }
    }
    assert!(n_checked > 300, "only {n_checked} fields checked");
}

#[test]
fn every_field_of_the_wrong_json_type_is_rejected() {
    for card_type in CardType::ALL {
        for (path, field) in all_fields(card_type) {
            let (wrong, rule) = match field.kind {
                Kind::Text(_)
                | Kind::HttpUrl(_)
                | Kind::ImageUrl(_)
                | Kind::OneOf { .. }
                | Kind::AppBrandUserName
                | Kind::AppBrandPass { .. } => (json!(12), field.wrong_type),
                Kind::Integer { .. } | Kind::PoiId => (json!("12"), field.wrong_type),
                Kind::Bool => (json!("true"), field.wrong_type),
                Kind::NumericId => (json!(true), field.wrong_type),
                Kind::DateType => (json!(true), Rule::BadTime),
                Kind::Object(_) => (json!("object"), field.wrong_type),
                Kind::Array { .. } => (json!({"0": 1}), field.wrong_type),
            };
            let mut request = create_request(card_type);
            set(&mut request, &path, Some(wrong));

            let violation = create_error(&request);

            assert_eq!(
                (violation.rule, violation.field.as_str()),
                (rule, path.as_str()),
                "{violation}"
            );
        }
    }
}

#[test]
fn every_required_field_is_missing_when_left_out() {
    let mut n_checked = 0;
    for card_type in CardType::ALL {
        for (path, field) in all_fields(card_type) {
            if !field.required {
                continue;
            }
            let mut request = create_request(card_type);
            set(&mut request, &path, None);

            let violation = create_error(&request);

            assert_eq!(
                (violation.rule, violation.field.as_str()),
                (Rule::MissingField, path.as_str())
            );
            n_checked += 1;
        }
    }
    assert!(n_checked > 100, "only {n_checked} fields checked");
}

#[test]
fn every_integer_field_rejects_values_just_outside_its_range() {
    for card_type in CardType::ALL {
        for (path, field) in all_fields(card_type) {
            let Kind::Integer { min, max, rule } = field.kind else {
                continue;
            };
            for outside in [min - 1, max + 1] {
                let mut request = create_request(card_type);
                set(&mut request, &path, Some(json!(outside)));

                let violation = create_error(&request);

                assert_eq!(
                    (violation.rule, violation.field.as_str()),
                    (rule, path.as_str()),
                    "{violation}"
                );
            }
        }
    }
}

#[test]
fn every_enumerated_field_rejects_a_value_outside_its_list() {
    for card_type in CardType::ALL {
        for (path, field) in all_fields(card_type) {
            let Kind::OneOf { rule, .. } = field.kind else {
                continue;
            };
            let mut request = create_request(card_type);
            set(&mut request, &path, Some(json!("NOT_A_KNOWN_VALUE")));

            let violation = create_error(&request);

            assert_eq!(
                (violation.rule, violation.field.as_str()),
                (rule, path.as_str()),
                "{violation}"
            );
        }
    }
}

#[test]
fn the_sku_and_its_quantity_report_their_own_rules_for_the_wrong_type() {
    let not_object = edited_request(CardType::Groupon, &[("base_info.sku", Some(json!([500])))]);
    let fraction = edited_request(
        CardType::Groupon,
        &[("base_info.sku.quantity", Some(json!(1.5)))],
    );

    assert_eq!(create_error(&not_object).rule, Rule::BadSku);
    assert_eq!(create_error(&fraction).rule, Rule::BadQuantity);
}

// ---------------------------------------------------------------------------------------
// Create: rejections of each documented constraint

#[test]
fn each_documented_constraint_rejects_a_card_that_breaks_it() {
    let huge = Value::from(u64::MAX);
    let past_range = json!({"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": NOW - 100, "end_timestamp": NOW - 1});
    let no_activation: Vec<(&str, Option<Value>)> = vec![
        ("wx_activate", Some(json!(false))),
        ("activate_url", None),
        ("activate_app_brand_user_name", None),
        ("activate_app_brand_pass", None),
        ("base_info.activate_app_brand_user_name", None),
        ("base_info.activate_app_brand_pass", None),
    ];
    use CardType::{BoardingPass, Cash, Discount, GeneralCard, Gift, Groupon, MemberCard};
    let cases: Vec<(&str, CardType, Edits, Rule, &str)> = vec![
        // cards.md §3.5, §3.6
        (
            "an unknown code type",
            Groupon,
            vec![("base_info.code_type", Some(json!("CODE_TYPE_BIG")))],
            Rule::BadCodeType,
            "base_info.code_type",
        ),
        (
            "an unknown colour name",
            Groupon,
            vec![("base_info.color", Some(json!("Color011")))],
            Rule::BadColor,
            "base_info.color",
        ),
        (
            "a colour given as hex",
            Groupon,
            vec![("base_info.color", Some(json!("#63b359")))],
            Rule::BadColor,
            "base_info.color",
        ),
        (
            "a required string that is empty",
            Groupon,
            vec![("base_info.title", Some(json!("")))],
            Rule::MissingField,
            "base_info.title",
        ),
        (
            "an empty code type",
            Groupon,
            vec![("base_info.code_type", Some(json!("")))],
            Rule::MissingField,
            "base_info.code_type",
        ),
        (
            "a title of 10 Chinese characters",
            Groupon,
            vec![("base_info.title", Some(json!("十个汉字十个汉字十个")))],
            Rule::TooLong,
            "base_info.title",
        ),
        // get_limit, use_limit
        (
            "get_limit over 50",
            Groupon,
            vec![("base_info.get_limit", Some(json!(51)))],
            Rule::BadGetLimit,
            "base_info.get_limit",
        ),
        (
            "a negative get_limit",
            Groupon,
            vec![("base_info.get_limit", Some(json!(-1)))],
            Rule::BadGetLimit,
            "base_info.get_limit",
        ),
        (
            "a get_limit with a fraction",
            Groupon,
            vec![("base_info.get_limit", Some(json!(3.0)))],
            Rule::WrongType,
            "base_info.get_limit",
        ),
        (
            "a negative use_limit",
            Groupon,
            vec![("base_info.use_limit", Some(json!(-1)))],
            Rule::InvalidValue,
            "base_info.use_limit",
        ),
        // sku, cards.md §3.7
        (
            "a negative stock",
            Groupon,
            vec![("base_info.sku.quantity", Some(json!(-1)))],
            Rule::BadQuantity,
            "base_info.sku.quantity",
        ),
        (
            "a stock over 100 000 000",
            Groupon,
            vec![("base_info.sku.quantity", Some(json!(100_000_001)))],
            Rule::BadQuantity,
            "base_info.sku.quantity",
        ),
        (
            "a stock too large for any integer",
            Groupon,
            vec![("base_info.sku.quantity", Some(huge.clone()))],
            Rule::BadQuantity,
            "base_info.sku.quantity",
        ),
        // code modes
        (
            "deposit mode with stock",
            Groupon,
            vec![
                ("base_info.use_custom_code", Some(json!(true))),
                (
                    "base_info.get_custom_code_mode",
                    Some(json!("GET_CUSTOM_CODE_MODE_DEPOSIT")),
                ),
            ],
            Rule::BadQuantity,
            "base_info.sku.quantity",
        ),
        (
            "deposit mode without use_custom_code",
            Groupon,
            vec![
                (
                    "base_info.get_custom_code_mode",
                    Some(json!("GET_CUSTOM_CODE_MODE_DEPOSIT")),
                ),
                ("base_info.sku.quantity", Some(json!(0))),
            ],
            Rule::InvalidValue,
            "base_info.use_custom_code",
        ),
        (
            "an unknown custom code mode",
            Groupon,
            vec![(
                "base_info.get_custom_code_mode",
                Some(json!("GET_CUSTOM_CODE_MODE_API")),
            )],
            Rule::InvalidValue,
            "base_info.get_custom_code_mode",
        ),
        // date_info, cards.md §3.8
        (
            "an unknown date type",
            Groupon,
            vec![("base_info.date_info.type", Some(json!("DATE_TYPE_FOREVER")))],
            Rule::BadTime,
            "base_info.date_info.type",
        ),
        (
            "a legacy date type other than 1 and 2",
            Groupon,
            vec![("base_info.date_info.type", Some(json!(3)))],
            Rule::BadTime,
            "base_info.date_info.type",
        ),
        (
            "a range that begins when it ends",
            Groupon,
            vec![("base_info.date_info.end_timestamp", Some(json!(BEGIN)))],
            Rule::BadTime,
            "base_info.date_info.end_timestamp",
        ),
        (
            "a range that ends before it begins",
            Groupon,
            vec![("base_info.date_info.begin_timestamp", Some(json!(END + 1)))],
            Rule::BadTime,
            "base_info.date_info.end_timestamp",
        ),
        (
            "a range that ended in the past",
            Groupon,
            vec![("base_info.date_info", Some(past_range))],
            Rule::BadTime,
            "base_info.date_info.end_timestamp",
        ),
        (
            "a range without an end",
            Groupon,
            vec![("base_info.date_info.end_timestamp", None)],
            Rule::MissingField,
            "base_info.date_info.end_timestamp",
        ),
        (
            "a range without a begin",
            Groupon,
            vec![("base_info.date_info.begin_timestamp", None)],
            Rule::MissingField,
            "base_info.date_info.begin_timestamp",
        ),
        (
            "a negative timestamp",
            Groupon,
            vec![("base_info.date_info.begin_timestamp", Some(json!(-5)))],
            Rule::BadTime,
            "base_info.date_info.begin_timestamp",
        ),
        (
            "a millisecond timestamp",
            Groupon,
            vec![(
                "base_info.date_info.end_timestamp",
                Some(json!(1_735_660_799_000_i64)),
            )],
            Rule::BadTime,
            "base_info.date_info.end_timestamp",
        ),
        (
            "a fixed term of 0 days",
            Groupon,
            vec![(
                "base_info.date_info",
                Some(json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 0})),
            )],
            Rule::BadTime,
            "base_info.date_info.fixed_term",
        ),
        (
            "a fixed term without fixed_term",
            Groupon,
            vec![(
                "base_info.date_info",
                Some(json!({"type": "DATE_TYPE_FIX_TERM"})),
            )],
            Rule::MissingField,
            "base_info.date_info.fixed_term",
        ),
        (
            "a negative start delay",
            Groupon,
            vec![(
                "base_info.date_info",
                Some(
                    json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 3, "fixed_begin_term": -1}),
                ),
            )],
            Rule::BadTime,
            "base_info.date_info.fixed_begin_term",
        ),
        (
            "a fixed term whose hard expiry has passed",
            Groupon,
            vec![(
                "base_info.date_info",
                Some(
                    json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 3, "end_timestamp": NOW - 1}),
                ),
            )],
            Rule::BadTime,
            "base_info.date_info.end_timestamp",
        ),
        (
            "a permanent coupon",
            Groupon,
            vec![(
                "base_info.date_info",
                Some(json!({"type": "DATE_TYPE_PERMANENT"})),
            )],
            Rule::BadTime,
            "base_info.date_info.type",
        ),
        (
            "a permanent boarding pass",
            BoardingPass,
            vec![(
                "base_info.date_info",
                Some(json!({"type": "DATE_TYPE_PERMANENT"})),
            )],
            Rule::BadTime,
            "base_info.date_info.type",
        ),
        // locations
        (
            "a negative store id",
            Groupon,
            vec![("base_info.location_id_list", Some(json!([123, -1])))],
            Rule::BadLocation,
            "base_info.location_id_list[1]",
        ),
        (
            "a store id given as a string",
            Groupon,
            vec![("base_info.location_id_list", Some(json!(["123"])))],
            Rule::BadLocation,
            "base_info.location_id_list[0]",
        ),
        (
            "a store id with a fraction",
            Groupon,
            vec![("base_info.location_id_list", Some(json!([1.5])))],
            Rule::BadLocation,
            "base_info.location_id_list[0]",
        ),
        (
            "all stores and a store list",
            Groupon,
            vec![("base_info.use_all_locations", Some(json!(true)))],
            Rule::InvalidValue,
            "base_info.location_id_list",
        ),
        (
            "a sub-merchant id with letters",
            Groupon,
            vec![(
                "base_info.sub_merchant_info.merchant_id",
                Some(json!("12a")),
            )],
            Rule::InvalidValue,
            "base_info.sub_merchant_info.merchant_id",
        ),
        (
            "a negative sub-merchant id",
            Groupon,
            vec![("base_info.sub_merchant_info.merchant_id", Some(json!(-12)))],
            Rule::InvalidValue,
            "base_info.sub_merchant_info.merchant_id",
        ),
        // image URLs
        (
            "a logo on ftp",
            Groupon,
            vec![(
                "base_info.logo_url",
                Some(json!("ftp://example.com/logo.png")),
            )],
            Rule::BadImageUrl,
            "base_info.logo_url",
        ),
        (
            "a logo without a scheme",
            Groupon,
            vec![(
                "base_info.logo_url",
                Some(json!("mmbiz.qpic.cn/mmbiz/EXAMPLE/0")),
            )],
            Rule::BadImageUrl,
            "base_info.logo_url",
        ),
        (
            "a logo without a host",
            Groupon,
            vec![("base_info.logo_url", Some(json!("https:///logo.png")))],
            Rule::BadImageUrl,
            "base_info.logo_url",
        ),
        (
            "a logo with a space",
            Groupon,
            vec![(
                "base_info.logo_url",
                Some(json!("https://example.com/my logo.png")),
            )],
            Rule::BadImageUrl,
            "base_info.logo_url",
        ),
        (
            "a cover image that is not a URL",
            Groupon,
            vec![(
                "advanced_info.abstract.icon_url_list",
                Some(json!(["cover.png"])),
            )],
            Rule::BadImageUrl,
            "advanced_info.abstract.icon_url_list[0]",
        ),
        (
            "two cover images",
            Groupon,
            vec![(
                "advanced_info.abstract.icon_url_list",
                Some(json!([
                    "https://example.com/1.png",
                    "https://example.com/2.png"
                ])),
            )],
            Rule::InvalidValue,
            "advanced_info.abstract.icon_url_list",
        ),
        (
            "a detail image that is not a URL",
            Groupon,
            vec![(
                "advanced_info.text_image_list[0].image_url",
                Some(json!("data:image/png;base64,AAAA")),
            )],
            Rule::BadImageUrl,
            "advanced_info.text_image_list[0].image_url",
        ),
        (
            "a detail text over 512 bytes",
            Groupon,
            vec![(
                "advanced_info.text_image_list[0].text",
                Some(json!("字".repeat(171))),
            )],
            Rule::TooLong,
            "advanced_info.text_image_list[0].text",
        ),
        (
            "a member background that is not a URL",
            MemberCard,
            vec![("background_pic_url", Some(json!("background.jpg")))],
            Rule::BadImageUrl,
            "background_pic_url",
        ),
        // advanced_info, cards.md §3.4
        (
            "a usable-time slot on an unknown day",
            Groupon,
            vec![("advanced_info.time_limit[0].type", Some(json!("FUNDAY")))],
            Rule::BadUseTimeLimit,
            "advanced_info.time_limit[0].type",
        ),
        (
            "a usable-time slot from hour 24",
            Groupon,
            vec![("advanced_info.time_limit[0].begin_hour", Some(json!(24)))],
            Rule::BadUseTimeLimit,
            "advanced_info.time_limit[0].begin_hour",
        ),
        (
            "a usable-time slot to minute 60",
            Groupon,
            vec![("advanced_info.time_limit[0].end_minute", Some(json!(60)))],
            Rule::BadUseTimeLimit,
            "advanced_info.time_limit[0].end_minute",
        ),
        (
            "a usable-time slot from minute -1",
            Groupon,
            vec![("advanced_info.time_limit[0].begin_minute", Some(json!(-1)))],
            Rule::BadUseTimeLimit,
            "advanced_info.time_limit[0].begin_minute",
        ),
        (
            "a usable-time slot to hour 25",
            Groupon,
            vec![("advanced_info.time_limit[1].end_hour", Some(json!(25)))],
            Rule::BadUseTimeLimit,
            "advanced_info.time_limit[1].end_hour",
        ),
        (
            "a usable-time slot without a day",
            Groupon,
            vec![("advanced_info.time_limit[0].type", None)],
            Rule::MissingField,
            "advanced_info.time_limit[0].type",
        ),
        (
            "a usable-time slot that is not an object",
            Groupon,
            vec![("advanced_info.time_limit", Some(json!(["MONDAY"])))],
            Rule::WrongType,
            "advanced_info.time_limit[0]",
        ),
        (
            "an unknown business service",
            Groupon,
            vec![(
                "advanced_info.business_service",
                Some(json!(["BIZ_SERVICE_FREE_WIFI", "BIZ_SERVICE_SPA"])),
            )],
            Rule::InvalidValue,
            "advanced_info.business_service[1]",
        ),
        (
            "a negative use_condition threshold",
            Gift,
            vec![("advanced_info.use_condition.least_cost", Some(json!(-100)))],
            Rule::InvalidValue,
            "advanced_info.use_condition.least_cost",
        ),
        // type-specific, cards.md §3.2
        (
            "a cash voucher worth less than 100 fen",
            Cash,
            vec![("reduce_cost", Some(json!(99)))],
            Rule::BadReduceCost,
            "reduce_cost",
        ),
        (
            "a cash threshold equal to the amount off",
            Cash,
            vec![("least_cost", Some(json!(1_000)))],
            Rule::BadLeastCost,
            "least_cost",
        ),
        (
            "a cash threshold below the amount off",
            Cash,
            vec![("least_cost", Some(json!(500)))],
            Rule::BadLeastCost,
            "least_cost",
        ),
        (
            "a negative cash threshold",
            Cash,
            vec![("least_cost", Some(json!(-1)))],
            Rule::BadLeastCost,
            "least_cost",
        ),
        (
            "a discount of 0 percent",
            Discount,
            vec![("discount", Some(json!(0)))],
            Rule::InvalidValue,
            "discount",
        ),
        (
            "a discount of 100 percent",
            Discount,
            vec![("discount", Some(json!(100)))],
            Rule::InvalidValue,
            "discount",
        ),
        (
            "a negative departure time",
            BoardingPass,
            vec![("departure_time", Some(json!(-5)))],
            Rule::InvalidValue,
            "departure_time",
        ),
        (
            "a negative gift card price",
            GeneralCard,
            vec![("base_info.giftcard_info.price", Some(json!(-1)))],
            Rule::InvalidValue,
            "base_info.giftcard_info.price",
        ),
        (
            "a negative initial balance",
            GeneralCard,
            vec![("init_balance", Some(json!(-1)))],
            Rule::InvalidValue,
            "init_balance",
        ),
        (
            "a fourth general-card custom field",
            GeneralCard,
            vec![("custom_field4", Some(json!({"name": "第四"})))],
            Rule::TooManyCustomFields,
            "custom_field4",
        ),
        // member card, membercard.md §1
        (
            "a fourth member-card custom field",
            MemberCard,
            vec![("custom_field4", Some(json!({"name": "第四"})))],
            Rule::TooManyCustomFields,
            "custom_field4",
        ),
        (
            "a custom field with both labels",
            MemberCard,
            vec![("custom_field1.name", Some(json!("等级")))],
            Rule::InvalidValue,
            "custom_field1.name",
        ),
        (
            "a custom field with no label",
            MemberCard,
            vec![("custom_field1.name_type", None)],
            Rule::MissingField,
            "custom_field1.name_type",
        ),
        (
            "a custom field with an unknown name type",
            MemberCard,
            vec![(
                "custom_field3.name_type",
                Some(json!("FIELD_NAME_TYPE_VIP")),
            )],
            Rule::InvalidValue,
            "custom_field3.name_type",
        ),
        (
            "a member discount of 100 percent",
            MemberCard,
            vec![("discount", Some(json!(100)))],
            Rule::InvalidValue,
            "discount",
        ),
        (
            "a negative bonus rule number",
            MemberCard,
            vec![("bonus_rule.increase_bonus", Some(json!(-1)))],
            Rule::InvalidValue,
            "bonus_rule.increase_bonus",
        ),
        (
            "a jump-type activation URL without a scheme",
            MemberCard,
            vec![(
                "wx_activate_after_submit_url",
                Some(json!("member.example.com/wx")),
            )],
            Rule::InvalidValue,
            "wx_activate_after_submit_url",
        ),
        (
            "a member card without any activation mode",
            MemberCard,
            no_activation,
            Rule::MissingField,
            "activate_url",
        ),
        // Mini Program jumps, miniprogram-jump.md §1.1 and §6
        (
            "a Mini Program id in upper case",
            Groupon,
            vec![(
                "base_info.center_app_brand_user_name",
                Some(json!("gh_0123456789AB@app")),
            )],
            Rule::InvalidValue,
            "base_info.center_app_brand_user_name",
        ),
        (
            "a Mini Program appid instead of its original id",
            Groupon,
            vec![(
                "base_info.center_app_brand_user_name",
                Some(json!("wx0123456789abcdef")),
            )],
            Rule::InvalidValue,
            "base_info.center_app_brand_user_name",
        ),
        (
            "a Mini Program id without @app",
            Groupon,
            vec![(
                "base_info.custom_app_brand_user_name",
                Some(json!("gh_0123456789ab")),
            )],
            Rule::InvalidValue,
            "base_info.custom_app_brand_user_name",
        ),
        (
            "a Mini Program id one digit short",
            MemberCard,
            vec![(
                "bonus_app_brand_user_name",
                Some(json!("gh_0123456789a@app")),
            )],
            Rule::InvalidValue,
            "bonus_app_brand_user_name",
        ),
        (
            "a page path without its Mini Program",
            Groupon,
            vec![("base_info.center_app_brand_user_name", None)],
            Rule::InvalidValue,
            "base_info.center_app_brand_pass",
        ),
        (
            "a member page path without its Mini Program",
            MemberCard,
            vec![("balance_app_brand_user_name", None)],
            Rule::InvalidValue,
            "balance_app_brand_pass",
        ),
        (
            "a cell page path without its Mini Program",
            MemberCard,
            vec![("custom_cell2.app_brand_user_name", None)],
            Rule::InvalidValue,
            "custom_cell2.app_brand_pass",
        ),
        (
            "a page path that is a URL",
            Groupon,
            vec![(
                "base_info.promotion_app_brand_pass",
                Some(json!("https://example.com/page")),
            )],
            Rule::InvalidValue,
            "base_info.promotion_app_brand_pass",
        ),
        (
            "an empty page path",
            Groupon,
            vec![("base_info.promotion_app_brand_pass", Some(json!("")))],
            Rule::InvalidValue,
            "base_info.promotion_app_brand_pass",
        ),
        (
            "a page path starting with //",
            Groupon,
            vec![(
                "base_info.promotion_app_brand_pass",
                Some(json!("//pages/index")),
            )],
            Rule::InvalidValue,
            "base_info.promotion_app_brand_pass",
        ),
        (
            "a page path with a space",
            Groupon,
            vec![(
                "base_info.promotion_app_brand_pass",
                Some(json!("pages/my page")),
            )],
            Rule::InvalidValue,
            "base_info.promotion_app_brand_pass",
        ),
    ];
    for (name, card_type, edits, rule, field) in cases {
        let request = edited_request(card_type, &edits);

        let violation = create_error(&request);

        let expected_field = format!("card.{}.{field}", card_type.key());
        assert_eq!(
            (violation.rule, violation.field.as_str()),
            (rule, expected_field.as_str()),
            "{name}: {violation}"
        );
    }
}

#[test]
fn the_envelope_names_the_card_type_problem() {
    let cash_fields = type_object(CardType::Cash);
    let cases: Vec<(&str, Value, Rule, &str)> = vec![
        (
            "a body that is not an object",
            json!([1]),
            Rule::WrongType,
            "request",
        ),
        ("a body without card", json!({}), Rule::MissingField, "card"),
        (
            "a card that is not an object",
            json!({"card": "CASH"}),
            Rule::WrongType,
            "card",
        ),
        (
            "a card without card_type",
            json!({"card": {"cash": cash_fields.clone()}}),
            Rule::MissingField,
            "card.card_type",
        ),
        (
            "a lowercase card_type",
            json!({"card": {"card_type": "cash", "cash": cash_fields.clone()}}),
            Rule::UnknownCardType,
            "card.card_type",
        ),
        (
            "the legacy LUCKY_MONEY",
            json!({"card": {"card_type": "LUCKY_MONEY", "lucky_money": {}}}),
            Rule::UnknownCardType,
            "card.card_type",
        ),
        (
            "a numeric card_type",
            json!({"card": {"card_type": 4, "cash": cash_fields.clone()}}),
            Rule::UnknownCardType,
            "card.card_type",
        ),
        (
            "the type object under another key",
            json!({"card": {"card_type": "CASH", "groupon": cash_fields.clone()}}),
            Rule::UnknownCardType,
            "card.cash",
        ),
        (
            "no type object",
            json!({"card": {"card_type": "CASH"}}),
            Rule::UnknownCardType,
            "card.cash",
        ),
        (
            "a type object that is not an object",
            json!({"card": {"card_type": "CASH", "cash": [cash_fields]}}),
            Rule::WrongType,
            "card.cash",
        ),
    ];
    for (name, request, rule, field) in cases {
        let violation = create_error(&request);

        assert_eq!(
            (violation.rule, violation.field.as_str()),
            (rule, field),
            "{name}: {violation}"
        );
    }
}

#[test]
fn a_type_object_under_another_key_is_named_in_the_detail() {
    let request = json!({"card": {"card_type": "CASH", "groupon": type_object(CardType::Cash)}});

    let violation = create_error(&request);

    assert!(violation.detail.contains("\"groupon\""), "{violation}");
}

#[test]
fn a_length_violation_reads_in_bytes_and_chinese_characters() {
    let request = edited_request(
        CardType::Groupon,
        &[("base_info.title", Some(json!("十个汉字十个汉字十个")))],
    );

    let violation = create_error(&request);

    assert_eq!(
        violation.to_string(),
        "card.groupon.base_info.title is 30 bytes; the limit is 27 bytes (about 9 Chinese characters)"
    );
}

#[test]
fn a_landing_page_image_follows_the_card_image_rule() {
    let good = check_image_url("banner", "http://mmbiz.qpic.cn/mmbiz/BANNER/0");
    let bad = check_image_url("card_list.thumb_url", "thumb.png").expect_err("not a URL");

    assert_eq!(good, Ok(()));
    assert_eq!(
        (bad.rule, bad.field.as_str()),
        (Rule::BadImageUrl, "card_list.thumb_url")
    );
}

// ---------------------------------------------------------------------------------------
// Never panicking

fn deep(levels: usize) -> Value {
    let mut value = json!("bottom");
    for _ in 0..levels {
        value = json!({"a": [value]});
    }
    value
}

#[test]
fn deep_input_is_not_descended_into_unless_the_schema_has_it() {
    let cases: Vec<(&str, Rule, &str)> = vec![
        ("base_info.title", Rule::WrongType, "base_info.title"),
        (
            "base_info.date_info.type",
            Rule::BadTime,
            "base_info.date_info.type",
        ),
        (
            "advanced_info.text_image_list",
            Rule::WrongType,
            "advanced_info.text_image_list",
        ),
        // An object where a slot object belongs: its only key is unknown, so the walk stops
        // at the slot's missing day.
        (
            "advanced_info.time_limit[0]",
            Rule::MissingField,
            "advanced_info.time_limit[0].type",
        ),
    ];
    for (path, rule, field) in cases {
        let request = edited_request(CardType::Gift, &[(path, Some(deep(400)))]);

        let violation = create_error(&request);

        let expected_field = format!("card.gift.{field}");
        assert_eq!(
            (violation.rule, violation.field.as_str()),
            (rule, expected_field.as_str()),
            "{violation}"
        );
    }
}

#[test]
fn deep_input_under_an_unknown_field_is_ignored_whole() {
    let request = edited_request(CardType::Gift, &[("base_info.extension", Some(deep(400)))]);

    let card = validate_create(&request, NOW).expect("valid");

    assert_eq!(
        card.ignored,
        vec!["card.gift.base_info.extension".to_owned()]
    );
    assert_eq!(card.document, type_object(CardType::Gift));
}

#[test]
fn odd_values_in_any_field_give_a_result_not_a_panic() {
    let odd = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(0),
        json!(1.5),
        Value::from(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("字".repeat(2000)),
        json!([]),
        json!([null, {}, "x"]),
        json!({}),
        deep(50),
    ];
    for card_type in CardType::ALL {
        let stored = validate_create(&create_request(card_type), NOW)
            .expect("valid")
            .document;
        for (path, _) in all_fields(card_type) {
            for value in &odd {
                let mut request = create_request(card_type);
                set(&mut request, &path, Some(value.clone()));
                let _ = validate_create(&request, NOW);

                let update_path = path.trim_start_matches("card.");
                let mut update = json!({"card_id": "pFS7Fjg8kV1IdDz01r4SQwMkuCKc"});
                set(&mut update, update_path, Some(value.clone()));
                let _ = validate_update(card_type, &stored, &update, NOW);
            }
        }
    }
    for (stored, request) in [
        (json!(null), json!({"cash": {"base_info": {"title": "x"}}})),
        (
            json!([]),
            json!({"cash": {"base_info": {"date_info": {"end_timestamp": END}}}}),
        ),
        (
            json!({"base_info": "x"}),
            json!({"cash": {"base_info": {"title": "x"}}}),
        ),
        (json!({}), json!("not an object")),
    ] {
        let _ = validate_update(CardType::Cash, &stored, &request, NOW);
    }
}

// ---------------------------------------------------------------------------------------
// Update

fn stored(card_type: CardType) -> Value {
    let mut document = validate_create(&create_request(card_type), NOW)
        .expect("valid")
        .document;
    // What the service adds (cards.md §4).
    set(
        &mut document,
        "base_info.id",
        Some(json!("pFS7Fjg8kV1IdDz01r4SQwMkuCKc")),
    );
    set(
        &mut document,
        "base_info.status",
        Some(json!("CARD_STATUS_VERIFY_OK")),
    );
    set(
        &mut document,
        "base_info.sku.total_quantity",
        Some(json!(500_000)),
    );
    set(&mut document, "base_info.create_time", Some(json!(NOW)));
    document
}

fn update_request(card_type: CardType, edits: &[(&str, Value)]) -> Value {
    let mut request = json!({"card_id": "pFS7Fjg8kV1IdDz01r4SQwMkuCKc", card_type.key(): {}});
    for (path, value) in edits {
        set(
            &mut request,
            &format!("{}.{path}", card_type.key()),
            Some(value.clone()),
        );
    }
    request
}

fn update(
    card_type: CardType,
    edits: &[(&str, Value)],
) -> Result<crate::domain::card_schema::CardUpdate, Violation> {
    validate_update(
        card_type,
        &stored(card_type),
        &update_request(card_type, edits),
        NOW,
    )
}

#[test]
fn an_update_merges_allowed_fields_and_keeps_the_rest() {
    let before = stored(CardType::GeneralCoupon);

    let updated = update(
        CardType::GeneralCoupon,
        &[
            ("base_info.service_phone", json!("020-87654321")),
            ("base_info.center_title", json!("马上用")),
            ("base_info.location_id_list", json!([789])),
            ("base_info.get_limit", json!(5)),
            ("base_info.can_share", json!(false)),
        ],
    )
    .expect("valid update");

    let mut expected = before;
    set(
        &mut expected,
        "base_info.service_phone",
        Some(json!("020-87654321")),
    );
    set(
        &mut expected,
        "base_info.center_title",
        Some(json!("马上用")),
    );
    set(
        &mut expected,
        "base_info.location_id_list",
        Some(json!([789])),
    );
    set(&mut expected, "base_info.get_limit", Some(json!(5)));
    set(&mut expected, "base_info.can_share", Some(json!(false)));
    assert_eq!(updated.document, expected);
    assert_eq!(updated.get_limit, 5);
    assert!(!updated.can_share);
    assert!(!updated.can_give_friend);
    assert!(!updated.send_check);
    assert_eq!(
        updated.date,
        DateRule::FixTimeRange {
            begin: BEGIN,
            end: END
        }
    );
}

#[test]
fn send_check_follows_the_fields_that_need_review() {
    let cases: Vec<(&str, CardType, &str, Value, bool)> = vec![
        (
            "a new title",
            CardType::GeneralCoupon,
            "base_info.title",
            json!("新标题"),
            true,
        ),
        (
            "a new description",
            CardType::Cash,
            "base_info.description",
            json!("新说明"),
            true,
        ),
        (
            "a new notice on a coupon",
            CardType::GeneralCoupon,
            "base_info.notice",
            json!("请向店员出示"),
            true,
        ),
        (
            "a new notice on a member card",
            CardType::MemberCard,
            "base_info.notice",
            json!("请向店员出示"),
            false,
        ),
        (
            "a new service phone",
            CardType::GeneralCoupon,
            "base_info.service_phone",
            json!("020-87654321"),
            false,
        ),
        (
            "the same title again",
            CardType::GeneralCoupon,
            "base_info.title",
            json!("双人套餐券"),
            false,
        ),
        (
            "a new logo",
            CardType::Groupon,
            "base_info.logo_url",
            json!("https://example.com/new.png"),
            false,
        ),
        (
            "a new member prerogative",
            CardType::MemberCard,
            "prerogative",
            json!("全场八折"),
            false,
        ),
    ];
    for (name, card_type, path, value, send_check) in cases {
        let updated = update(card_type, &[(path, value)])
            .unwrap_or_else(|violation| panic!("{name}: {violation}"));

        assert_eq!(updated.send_check, send_check, "{name}");
    }
}

#[test]
fn an_update_of_a_field_that_cannot_change_is_rejected_and_named() {
    let cases: Vec<(CardType, &str, Value, &str)> = vec![
        (
            CardType::GeneralCoupon,
            "base_info.brand_name",
            json!("新品牌"),
            "base_info.brand_name",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.sku",
            json!({"quantity": 10}),
            "base_info.sku",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.use_custom_code",
            json!(true),
            "base_info.use_custom_code",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.bind_openid",
            json!(true),
            "base_info.bind_openid",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.get_custom_code_mode",
            json!("GET_CUSTOM_CODE_MODE_DEPOSIT"),
            "base_info.get_custom_code_mode",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.use_limit",
            json!(1),
            "base_info.use_limit",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.source",
            json!("美团"),
            "base_info.source",
        ),
        (
            CardType::GeneralCoupon,
            "default_detail",
            json!("全场八折"),
            "default_detail",
        ),
        (
            CardType::Groupon,
            "deal_detail",
            json!("新套餐"),
            "deal_detail",
        ),
        (CardType::Cash, "reduce_cost", json!(2_000), "reduce_cost"),
        (
            CardType::Cash,
            "advanced_info.abstract.abstract",
            json!("新摘要"),
            "advanced_info",
        ),
        (CardType::BoardingPass, "flight", json!("CZ3102"), "flight"),
        (
            CardType::GeneralCard,
            "init_balance",
            json!(1),
            "init_balance",
        ),
    ];
    for (card_type, path, value, field) in cases {
        let violation = update(card_type, &[(path, value)]).expect_err(path);

        let expected_field = format!("{}.{field}", card_type.key());
        assert_eq!(
            (violation.rule, violation.field.as_str()),
            (Rule::NotUpdatable, expected_field.as_str()),
            "{violation}"
        );
    }
}

/// Every field an update may not change, in the objects an update merges field by field.
fn not_updatable_fields(spec: &'static ObjectSpec, path: &str, out: &mut Vec<String>) {
    for field in spec.fields() {
        let field_path = format!("{path}.{}", field.name);
        match (field.update, field.kind) {
            (Update::Never, _) => out.push(field_path),
            (_, Kind::Object(inner)) if inner.on_update == OnUpdate::MergeFields => {
                not_updatable_fields(inner, &field_path, out);
            }
            _ => {}
        }
    }
}

#[test]
fn every_field_the_update_table_leaves_out_is_rejected_by_an_update() {
    let mut n_checked = 0;
    for card_type in CardType::ALL {
        let mut paths = Vec::new();
        not_updatable_fields(card_type.schema(), card_type.key(), &mut paths);
        for path in paths {
            let mut request = json!({"card_id": "pFS7Fjg8kV1IdDz01r4SQwMkuCKc"});
            set(&mut request, &path, Some(json!("a changed value")));

            let violation =
                validate_update(card_type, &stored(card_type), &request, NOW).expect_err(&path);

            assert_eq!(
                (violation.rule, violation.field.as_str()),
                (Rule::NotUpdatable, path.as_str()),
                "{violation}"
            );
            n_checked += 1;
        }
    }
    assert!(n_checked > 100, "only {n_checked} fields checked");
}

#[test]
fn changing_the_stock_through_an_update_points_to_modifystock() {
    let violation = update(
        CardType::Groupon,
        &[("base_info.sku", json!({"quantity": 1}))],
    )
    .expect_err("sku");

    assert!(
        violation.detail.contains("/card/modifystock"),
        "{violation}"
    );
}

#[test]
fn resending_a_not_updatable_field_unchanged_is_accepted() {
    let updated = update(
        CardType::Groupon,
        &[
            ("base_info.brand_name", json!("示例餐厅")),
            ("base_info.use_custom_code", json!(false)),
            ("base_info.title", json!("新标题")),
        ],
    )
    .expect("unchanged fields are fine");

    assert_eq!(
        updated.document["base_info"]["brand_name"],
        json!("示例餐厅")
    );
    assert_eq!(updated.document["base_info"]["title"], json!("新标题"));
}

#[test]
fn an_absent_boolean_that_cannot_change_may_be_resent_as_false() {
    let mut before = stored(CardType::Gift);
    set(&mut before, "base_info.bind_openid", None);
    let request = update_request(CardType::Gift, &[("base_info.bind_openid", json!(false))]);

    let result = validate_update(CardType::Gift, &before, &request, NOW);

    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn member_card_fields_the_update_page_lists_can_change() {
    let updated = update(
        CardType::MemberCard,
        &[
            ("custom_field1", json!({"name": "积分", "app_brand_user_name": "gh_fedcba987654@app", "app_brand_pass": "pages/points"})),
            ("bonus_app_brand_user_name", json!("gh_111111111111@app")),
            ("bonus_app_brand_pass", json!("pages/points/index")),
            ("wx_activate_after_submit_url", json!("https://member.example.com/next")),
            ("base_info.pay_info.swipe_card.is_swipe_card", json!(false)),
            ("base_info.custom_app_brand_pass", json!("pages/new/index")),
        ],
    )
    .expect("valid update");

    assert_eq!(
        updated.document["custom_field1"],
        json!({"name": "积分", "app_brand_user_name": "gh_fedcba987654@app", "app_brand_pass": "pages/points"})
    );
    assert_eq!(
        updated.document["base_info"]["pay_info"],
        json!({"swipe_card": {"is_swipe_card": false}})
    );
    assert_eq!(
        updated.document["base_info"]["custom_app_brand_user_name"],
        json!(MINI_PROGRAM)
    );
    assert_eq!(
        updated.mini_programs,
        vec![
            (
                "member_card.bonus_app_brand_user_name".to_owned(),
                "gh_111111111111@app".to_owned()
            ),
            (
                "member_card.custom_field1.app_brand_user_name".to_owned(),
                "gh_fedcba987654@app".to_owned()
            ),
        ]
    );
    assert!(!updated.send_check);
}

#[test]
fn update_values_are_validated_like_create_values() {
    let cases: Vec<(CardType, &str, Value, Rule, &str)> = vec![
        (
            CardType::GeneralCoupon,
            "base_info.title",
            json!("十个汉字十个汉字十个"),
            Rule::TooLong,
            "base_info.title",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.color",
            json!("Color999"),
            Rule::BadColor,
            "base_info.color",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.code_type",
            json!("CODE_TYPE_NFC"),
            Rule::BadCodeType,
            "base_info.code_type",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.get_limit",
            json!(51),
            Rule::BadGetLimit,
            "base_info.get_limit",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.logo_url",
            json!("logo.png"),
            Rule::BadImageUrl,
            "base_info.logo_url",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.location_id_list",
            json!([-3]),
            Rule::BadLocation,
            "base_info.location_id_list[0]",
        ),
        (
            CardType::GeneralCoupon,
            "base_info.use_all_locations",
            json!(true),
            Rule::InvalidValue,
            "base_info.location_id_list",
        ),
        (
            CardType::GeneralCoupon,
            "base_info",
            json!("title"),
            Rule::WrongType,
            "base_info",
        ),
        (
            CardType::MemberCard,
            "custom_field1",
            json!({"url": "https://example.com"}),
            Rule::MissingField,
            "custom_field1.name_type",
        ),
        (
            CardType::MemberCard,
            "custom_cell1",
            json!({"name": "点单"}),
            Rule::MissingField,
            "custom_cell1.tips",
        ),
        (
            CardType::MemberCard,
            "custom_field5",
            json!({"name": "五"}),
            Rule::TooManyCustomFields,
            "custom_field5",
        ),
        (
            CardType::MemberCard,
            "supply_bonus",
            json!(false),
            Rule::InvalidValue,
            "supply_bonus",
        ),
        (
            CardType::MemberCard,
            "activate_app_brand_user_name",
            json!("gh_x@app"),
            Rule::InvalidValue,
            "activate_app_brand_user_name",
        ),
    ];
    for (card_type, path, value, rule, field) in cases {
        let violation = update(card_type, &[(path, value)]).expect_err(path);

        let expected_field = format!("{}.{field}", card_type.key());
        assert_eq!(
            (violation.rule, violation.field.as_str()),
            (rule, expected_field.as_str()),
            "{violation}"
        );
    }
}

#[test]
fn an_update_may_add_a_page_path_only_to_a_card_that_names_its_mini_program() {
    let mut without = stored(CardType::Gift);
    set(&mut without, "base_info.center_app_brand_user_name", None);
    set(&mut without, "base_info.center_app_brand_pass", None);
    let request = update_request(
        CardType::Gift,
        &[("base_info.center_app_brand_pass", json!("pages/x"))],
    );

    let rejected =
        validate_update(CardType::Gift, &without, &request, NOW).expect_err("no user name");
    let accepted = validate_update(CardType::Gift, &stored(CardType::Gift), &request, NOW);

    assert_eq!(
        (rejected.rule, rejected.field.as_str()),
        (Rule::InvalidValue, "gift.base_info.center_app_brand_pass")
    );
    assert!(accepted.is_ok(), "{accepted:?}");
}

#[test]
fn date_info_may_widen_but_not_narrow_or_change_type() {
    let fix_term = |edits: &[(&str, Value)]| {
        let mut before = stored(CardType::Gift);
        set(
            &mut before,
            "base_info.date_info",
            Some(json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "end_timestamp": END})),
        );
        validate_update(
            CardType::Gift,
            &before,
            &update_request(CardType::Gift, edits),
            NOW,
        )
    };
    let fix_term_without_end = |edits: &[(&str, Value)]| {
        let mut before = stored(CardType::Gift);
        set(
            &mut before,
            "base_info.date_info",
            Some(json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30})),
        );
        validate_update(
            CardType::Gift,
            &before,
            &update_request(CardType::Gift, edits),
            NOW,
        )
    };
    let range = |edits: &[(&str, Value)]| update(CardType::Gift, edits);
    let date = "base_info.date_info";

    let widened = range(&[(date, json!({"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": BEGIN - 10, "end_timestamp": END + 10}))])
        .expect("widening is allowed");
    let same_by_legacy_type = range(&[(
        date,
        json!({"type": 1, "begin_timestamp": BEGIN, "end_timestamp": END + 1}),
    )]);
    let only_end = range(&[("base_info.date_info.end_timestamp", json!(END + 86_400))])
        .expect("a later end is allowed");
    let longer_expiry = fix_term(&[("base_info.date_info.end_timestamp", json!(END + 1))])
        .expect("a later expiry is allowed");
    let same_term = fix_term(&[(
        date,
        json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}),
    )]);

    assert_eq!(
        widened.date,
        DateRule::FixTimeRange {
            begin: BEGIN - 10,
            end: END + 10
        }
    );
    assert!(same_by_legacy_type.is_ok(), "{same_by_legacy_type:?}");
    assert_eq!(
        only_end.date,
        DateRule::FixTimeRange {
            begin: BEGIN,
            end: END + 86_400
        }
    );
    assert_eq!(
        longer_expiry.date,
        DateRule::FixTerm {
            term_days: 30,
            begin_days: 0,
            end: Some(END + 1)
        }
    );
    assert!(same_term.is_ok(), "{same_term:?}");

    type Outcome = Result<crate::domain::card_schema::CardUpdate, Violation>;
    let rejected: Vec<(&str, Outcome, Rule, &str)> = vec![
        (
            "a later begin",
            range(&[("base_info.date_info.begin_timestamp", json!(BEGIN + 1))]),
            Rule::DateNarrowed,
            "begin_timestamp",
        ),
        (
            "an earlier end",
            range(&[("base_info.date_info.end_timestamp", json!(END - 1))]),
            Rule::DateNarrowed,
            "end_timestamp",
        ),
        (
            "a switch to a fixed term",
            range(&[(
                date,
                json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 3650}),
            )]),
            Rule::DateNarrowed,
            "type",
        ),
        (
            "an earlier hard expiry",
            fix_term(&[("base_info.date_info.end_timestamp", json!(END - 1))]),
            Rule::DateNarrowed,
            "end_timestamp",
        ),
        (
            "a new hard expiry",
            fix_term_without_end(&[("base_info.date_info.end_timestamp", json!(END))]),
            Rule::DateNarrowed,
            "end_timestamp",
        ),
        (
            "a longer fixed term",
            fix_term(&[("base_info.date_info.fixed_term", json!(60))]),
            Rule::NotUpdatable,
            "fixed_term",
        ),
        (
            "a new start delay",
            fix_term(&[("base_info.date_info.fixed_begin_term", json!(1))]),
            Rule::NotUpdatable,
            "fixed_begin_term",
        ),
        (
            "a range that becomes empty",
            range(&[(
                date,
                json!({"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": BEGIN - 10, "end_timestamp": BEGIN - 10}),
            )]),
            Rule::BadTime,
            "end_timestamp",
        ),
        (
            "an unknown type",
            range(&[("base_info.date_info.type", json!("DATE_TYPE_SOMETIMES"))]),
            Rule::BadTime,
            "type",
        ),
    ];
    for (name, outcome, rule, field) in rejected {
        let violation = outcome.expect_err(name);

        let expected_field = format!("gift.base_info.date_info.{field}");
        assert_eq!(
            (violation.rule, violation.field.as_str()),
            (rule, expected_field.as_str()),
            "{name}: {violation}"
        );
    }
}

#[test]
fn a_widened_end_that_is_still_in_the_past_is_a_bad_time() {
    let mut before = stored(CardType::Gift);
    set(
        &mut before,
        "base_info.date_info",
        Some(
            json!({"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": NOW - 1000, "end_timestamp": NOW - 500}),
        ),
    );
    let request = update_request(
        CardType::Gift,
        &[("base_info.date_info.end_timestamp", json!(NOW - 100))],
    );
    let unrelated = update_request(CardType::Gift, &[("base_info.service_phone", json!("110"))]);

    let violation =
        validate_update(CardType::Gift, &before, &request, NOW).expect_err("still expired");
    let other_fields = validate_update(CardType::Gift, &before, &unrelated, NOW);

    assert_eq!(
        (violation.rule, violation.field.as_str()),
        (Rule::BadTime, "gift.base_info.date_info.end_timestamp")
    );
    assert!(
        other_fields.is_ok(),
        "an expired card may still change other fields: {other_fields:?}"
    );
}

#[test]
fn an_update_without_the_type_object_is_an_unknown_card_type() {
    let stored_groupon = stored(CardType::Groupon);
    let cases = [
        json!({"card_id": "pFS7Fjg8kV1IdDz01r4SQwMkuCKc"}),
        json!({"card_id": "pFS7Fjg8kV1IdDz01r4SQwMkuCKc", "cash": {"base_info": {"title": "x"}}}),
    ];
    for request in cases {
        let violation = validate_update(CardType::Groupon, &stored_groupon, &request, NOW)
            .expect_err("no groupon");

        assert_eq!(
            (violation.rule, violation.field.as_str()),
            (Rule::UnknownCardType, "groupon")
        );
    }
}

#[test]
fn unknown_update_fields_are_ignored_and_listed() {
    let mut request = update_request(CardType::Groupon, &[("base_info.sub_title", json!("旧"))]);
    set(&mut request, "cash", Some(json!({})));

    let updated = validate_update(CardType::Groupon, &stored(CardType::Groupon), &request, NOW)
        .expect("valid");

    assert_eq!(updated.document, stored(CardType::Groupon));
    assert_eq!(
        updated.ignored,
        vec!["cash".to_owned(), "groupon.base_info.sub_title".to_owned()]
    );
}

/// Replaces one node of `value`, chosen by `rng`, with a value of another JSON type.
fn replace_a_node(rng: &mut wxcard_wire::fuzz::Rng, value: &mut Value) {
    let children: usize = match value {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    if children == 0 || rng.below(4) == 0 {
        *value = match rng.below(7) {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(-1),
            3 => json!(1e300),
            4 => json!("x".repeat(rng.below(5000))),
            5 => json!([]),
            _ => json!({"unexpected": [1, {"deep": null}]}),
        };
        return;
    }
    let pick = rng.below(children);
    match value {
        Value::Object(map) => {
            if let Some(child) = map.values_mut().nth(pick) {
                replace_a_node(rng, child);
            }
        }
        Value::Array(items) => replace_a_node(rng, &mut items[pick]),
        _ => {}
    }
}

#[test]
fn every_mutation_of_a_valid_card_is_answered_without_panicking() {
    wxcard_wire::fuzz::Campaign {
        name: "card JSON validation",
        seed: 0x5eed_0103,
        rounds: 3000,
    }
    .run(
        |rng, round| {
            let valid = create_request(CardType::ALL[round % CardType::ALL.len()]);
            // Text edits (most fail to parse, the rest reach the validator) ...
            let text = wxcard_wire::fuzz::mutate(rng, &valid.to_string());
            // ... and type changes anywhere in the tree, which always reach it.
            let mut changed = valid;
            replace_a_node(rng, &mut changed);
            (text, changed)
        },
        |(text, changed)| {
            if let Ok(request) = serde_json::from_str::<Value>(text) {
                let _ = validate_create(&request, NOW);
            }
            let _ = validate_create(changed, NOW);
        },
    );
}
