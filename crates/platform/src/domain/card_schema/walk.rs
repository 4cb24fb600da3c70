//! The validator: walks a request against the tables, builds the document to store, and runs
//! the cross-field checks. It descends only into fields the tables know, so the depth of the
//! walk is bounded by the depth of the tables whatever the input looks like.

use serde_json::{Map, Value};

use crate::domain::card_schema::{
    CardType, Check, DateRule, FieldSpec, Kind, Limit, ObjectSpec, OnUpdate, Rule, Update,
    Violation, DATE_TYPES,
};

/// A JSON object.
pub(crate) type Object = Map<String, Value>;

/// State of one validation: what it needs to know and what it collects on the way.
#[derive(Debug)]
pub(crate) struct Walker {
    /// The card's type; some rules depend on it.
    pub(crate) card_type: CardType,
    /// Unix seconds, for "end is in the past".
    pub(crate) now: i64,
    /// Paths of fields that are not in the tables.
    pub(crate) ignored: Vec<String>,
    /// `(path, user name)` of every `*_app_brand_user_name` walked.
    pub(crate) mini_programs: Vec<(String, String)>,
}

impl Walker {
    pub(crate) fn new(card_type: CardType, now: i64) -> Self {
        Walker {
            card_type,
            now,
            ignored: Vec::new(),
            mini_programs: Vec::new(),
        }
    }

    /// Walks `request` against `spec`.
    ///
    /// Without `stored` (a create, or an object an update replaces as a whole) the result
    /// holds the known fields of `request` and required fields must be there. With `stored`
    /// (an update of an object merged field by field) the result is `stored` with the sent
    /// fields replaced, and each sent field must be updatable.
    pub(crate) fn object(
        &mut self,
        spec: &'static ObjectSpec,
        request: &Object,
        stored: Option<&Object>,
        path: &str,
    ) -> Result<Object, Violation> {
        let mut output = stored.cloned().unwrap_or_default();
        for field in spec.fields() {
            let field_path = join(path, field.name);
            // Compat: cards.md §3.3 — a JSON null counts as an absent field, since several
            // SDKs serialize unset optional fields as null.
            let Some(sent) = request.get(field.name).filter(|value| !value.is_null()) else {
                if field.required && stored.is_none() {
                    return Err(Violation::new(
                        Rule::MissingField,
                        field_path,
                        "is required",
                    ));
                }
                continue;
            };
            let value = match stored {
                None => self.value(
                    &field.kind,
                    field.required,
                    field.wrong_type,
                    sent,
                    &field_path,
                )?,
                Some(stored) => {
                    let Some(value) = self.updated_value(field, sent, stored, &field_path)? else {
                        continue;
                    };
                    value
                }
            };
            output.insert(field.name.to_owned(), value);
        }
        for key in request.keys() {
            if spec.field(key).is_none() {
                self.ignored.push(join(path, key));
            }
        }
        for field in spec.fields() {
            if let Kind::AppBrandPass { user_name } = field.kind {
                if output.contains_key(field.name) && !output.contains_key(user_name) {
                    return Err(Violation::new(
                        Rule::InvalidValue,
                        join(path, field.name),
                        format!("needs {user_name} in the same object to name its Mini Program"),
                    ));
                }
            }
        }
        for check in spec.checks {
            self.check(*check, request, &output, stored, path)?;
        }
        Ok(output)
    }

    /// The new value of an updated field, or `None` when the field keeps its stored value.
    fn updated_value(
        &mut self,
        field: &'static FieldSpec,
        sent: &Value,
        stored: &Object,
        path: &str,
    ) -> Result<Option<Value>, Violation> {
        let before = stored.get(field.name);
        if field.update == Update::Never {
            // Compat: cards.md §6 — sending a not-updatable field with its stored value is a
            // no-op, so clients that resend whole objects keep working. An absent boolean
            // reads as false, the default of every boolean that cannot be updated.
            let unchanged = match before {
                Some(before) => before == sent,
                None => matches!(field.kind, Kind::Bool) && sent == &Value::Bool(false),
            };
            if unchanged {
                return Ok(None);
            }
            let hint = if field.name == "sku" {
                "; change the stock with /card/modifystock"
            } else {
                ""
            };
            return Err(Violation::new(
                Rule::NotUpdatable,
                path,
                format!("cannot be changed by /card/update{hint}"),
            ));
        }
        if let Kind::Object(inner) = field.kind {
            if inner.on_update == OnUpdate::MergeFields {
                let Some(sent) = sent.as_object() else {
                    return Err(wrong_type(field.wrong_type, &field.kind, sent, path));
                };
                let empty = Object::new();
                let before = before.and_then(Value::as_object).unwrap_or(&empty);
                let merged = self.object(inner, sent, Some(before), path)?;
                return Ok(Some(Value::Object(merged)));
            }
        }
        self.value(&field.kind, field.required, field.wrong_type, sent, path)
            .map(Some)
    }

    /// Checks one value of `kind` and returns what the document keeps of it.
    fn value(
        &mut self,
        kind: &'static Kind,
        required: bool,
        wrong_type_rule: Rule,
        sent: &Value,
        path: &str,
    ) -> Result<Value, Violation> {
        let wrong = || wrong_type(wrong_type_rule, kind, sent, path);
        match *kind {
            Kind::Text(limit) => {
                let text = sent.as_str().ok_or_else(wrong)?;
                text_checks(text, limit, required, path)?;
            }
            Kind::HttpUrl(limit) => {
                let text = sent.as_str().ok_or_else(wrong)?;
                text_checks(text, limit, required, path)?;
                if !is_http_url(text) {
                    return Err(Violation::new(
                        Rule::InvalidValue,
                        path,
                        format!("is {text:?}; it must be an http:// or https:// URL"),
                    ));
                }
            }
            Kind::ImageUrl(limit) => {
                let text = sent.as_str().ok_or_else(wrong)?;
                text_checks(text, limit, required, path)?;
                // Compat: cards.md §3.3 / errors.md §3 (40141) — WeChat accepts only URLs
                // of its own image upload; wxcard accepts any http(s) URL, because merchants
                // test with whatever image they have.
                if !is_http_url(text) {
                    return Err(Violation::new(
                        Rule::BadImageUrl,
                        path,
                        format!("is {text:?}; an image must be an http:// or https:// URL"),
                    ));
                }
            }
            Kind::OneOf { values, rule } => {
                let text = sent.as_str().ok_or_else(wrong)?;
                if text.is_empty() && required {
                    return Err(Violation::new(Rule::MissingField, path, "is empty"));
                }
                if !values.contains(&text) {
                    return Err(Violation::new(
                        rule,
                        path,
                        format!("is {text:?}; it must be one of {}", values.join(", ")),
                    ));
                }
            }
            Kind::Integer { min, max, rule } => {
                let number = integer_or_huge(sent).ok_or_else(wrong)?;
                check_range(number, min, max, rule, path)?;
            }
            Kind::Bool => {
                sent.as_bool().ok_or_else(wrong)?;
            }
            Kind::AppBrandUserName => {
                let text = sent.as_str().ok_or_else(wrong)?;
                if !is_app_brand_user_name(text) {
                    return Err(Violation::new(
                        Rule::InvalidValue,
                        path,
                        format!(
                            "is {text:?}; it must be a Mini Program original id plus @app, \
                             gh_ and 12 lowercase hex digits then @app (gh_0123456789ab@app)"
                        ),
                    ));
                }
                self.mini_programs.push((path.to_owned(), text.to_owned()));
            }
            Kind::AppBrandPass { .. } => {
                let text = sent.as_str().ok_or_else(wrong)?;
                text_checks(text, Limit::Bytes(128), false, path)?;
                if !is_page_path(text) {
                    return Err(Violation::new(
                        Rule::InvalidValue,
                        path,
                        format!(
                            "is {text:?}; it must be a page path inside the Mini Program, \
                             such as pages/card/detail"
                        ),
                    ));
                }
            }
            Kind::DateType => {
                if date_type(sent).is_none() {
                    return Err(Violation::new(
                        Rule::BadTime,
                        path,
                        format!(
                            "is {}; it must be one of {} (or the legacy 1 and 2)",
                            describe(sent),
                            DATE_TYPES.join(", ")
                        ),
                    ));
                }
            }
            Kind::PoiId => {
                if integer(sent).is_none_or(|id| id < 0) {
                    return Err(Violation::new(
                        Rule::BadLocation,
                        path,
                        format!(
                            "is {}; a store id is a non-negative integer",
                            describe(sent)
                        ),
                    ));
                }
            }
            Kind::NumericId => {
                let good = match sent {
                    Value::String(text) => {
                        !text.is_empty()
                            && text.len() <= 32
                            && text.bytes().all(|byte| byte.is_ascii_digit())
                    }
                    Value::Number(_) => integer(sent).is_some_and(|id| id >= 0),
                    _ => return Err(wrong()),
                };
                if !good {
                    return Err(Violation::new(
                        Rule::InvalidValue,
                        path,
                        format!("is {}; it must be a non-negative integer", describe(sent)),
                    ));
                }
            }
            Kind::Object(spec) => {
                let object = sent.as_object().ok_or_else(wrong)?;
                return self.object(spec, object, None, path).map(Value::Object);
            }
            Kind::Array { item, max_items } => {
                let items = sent.as_array().ok_or_else(wrong)?;
                if let Some((max, rule)) = max_items {
                    if items.len() > max {
                        return Err(Violation::new(
                            rule,
                            path,
                            format!("has {} entries; the limit is {max}", items.len()),
                        ));
                    }
                }
                let mut output = Vec::with_capacity(items.len());
                for (index, element) in items.iter().enumerate() {
                    let element_path = format!("{path}[{index}]");
                    output.push(self.value(
                        item,
                        false,
                        Rule::WrongType,
                        element,
                        &element_path,
                    )?);
                }
                return Ok(Value::Array(output));
            }
        }
        // A leaf: the document keeps the value exactly as sent.
        Ok(sent.clone())
    }

    /// Runs one cross-field check on `output`, the object as the document will hold it.
    fn check(
        &mut self,
        check: Check,
        request: &Object,
        output: &Object,
        stored: Option<&Object>,
        path: &str,
    ) -> Result<(), Violation> {
        match check {
            Check::DateInfo => self.check_date_info(output, stored, path),
            // Only on create: later deposits and /card/modifystock change the stock.
            Check::CodeMode if stored.is_none() => check_code_mode(output, path),
            Check::Locations => check_locations(output, path),
            Check::CashCosts => check_cash_costs(output, path),
            Check::NameOrNameType => check_name_or_name_type(output, path),
            Check::MemberActivation if stored.is_none() => check_member_activation(output, path),
            Check::CustomFieldCount => check_custom_field_count(request, path),
            Check::BonusStaysOn => check_bonus_stays_on(output, stored, path),
            Check::CodeMode | Check::MemberActivation => Ok(()),
        }
    }

    fn check_date_info(
        &self,
        output: &Object,
        stored: Option<&Object>,
        path: &str,
    ) -> Result<(), Violation> {
        let after = date_rule(self.card_type, output, path)?;
        let end_changed = match stored {
            None => true,
            Some(stored) => {
                // A stored date_info that no longer parses cannot be compared; the new one
                // has just been checked on its own.
                if let Ok(before) = date_rule(self.card_type, stored, path) {
                    check_widening(before, after, path)?;
                }
                stored.get("end_timestamp") != output.get("end_timestamp")
            }
        };
        if let Some(end) = after.end() {
            if end_changed && end < self.now {
                return Err(Violation::new(
                    Rule::BadTime,
                    join(path, "end_timestamp"),
                    format!("is {end}, which is in the past (now is {})", self.now),
                ));
            }
        }
        Ok(())
    }
}

/// The date rule `date_info` describes, checked on its own.
pub(crate) fn date_rule(
    card_type: CardType,
    date_info: &Object,
    path: &str,
) -> Result<DateRule, Violation> {
    let type_path = join(path, "type");
    let Some(sent_type) = date_info.get("type").filter(|value| !value.is_null()) else {
        return Err(Violation::new(Rule::MissingField, type_path, "is required"));
    };
    let Some(date_type) = date_type(sent_type) else {
        return Err(Violation::new(
            Rule::BadTime,
            type_path,
            format!("is {}, which is not a date type", describe(sent_type)),
        ));
    };
    let number = |name: &str| date_info.get(name).and_then(integer);
    let needed = |name: &str| {
        number(name).ok_or_else(|| {
            Violation::new(
                Rule::MissingField,
                join(path, name),
                format!("is required with {}", date_type.wire_name()),
            )
        })
    };
    match date_type {
        DateType::FixTimeRange => {
            let begin = needed("begin_timestamp")?;
            let end = needed("end_timestamp")?;
            if begin >= end {
                return Err(Violation::new(
                    Rule::BadTime,
                    join(path, "end_timestamp"),
                    format!("is {end}; it must be later than begin_timestamp ({begin})"),
                ));
            }
            Ok(DateRule::FixTimeRange { begin, end })
        }
        DateType::FixTerm => {
            let term_days = needed("fixed_term")?;
            if term_days <= 0 {
                return Err(Violation::new(
                    Rule::BadTime,
                    join(path, "fixed_term"),
                    format!("is {term_days}; a fixed term lasts at least 1 day"),
                ));
            }
            Ok(DateRule::FixTerm {
                term_days,
                begin_days: number("fixed_begin_term").unwrap_or(0),
                end: number("end_timestamp"),
            })
        }
        // Compat: cards.md §3.8 — DATE_TYPE_PERMANENT is documented for member cards only;
        // wxcard also allows it for general (gift) cards, and rejects it for coupons and
        // tickets, which always expire.
        DateType::Permanent => match card_type {
            CardType::MemberCard | CardType::GeneralCard => Ok(DateRule::Permanent),
            _ => Err(Violation::new(
                Rule::BadTime,
                type_path,
                format!(
                    "is DATE_TYPE_PERMANENT, which only member and general cards may use, \
                     not {}",
                    card_type.wire_name()
                ),
            )),
        },
    }
}

/// 40100: an update may keep or widen the validity, never narrow it or change its type.
fn check_widening(before: DateRule, after: DateRule, path: &str) -> Result<(), Violation> {
    let narrowed = |name: &str, detail: String| -> Result<(), Violation> {
        Err(Violation::new(
            Rule::DateNarrowed,
            join(path, name),
            format!("{detail}; an update may only widen the validity"),
        ))
    };
    match (before, after) {
        (
            DateRule::FixTimeRange {
                begin: old_begin,
                end: old_end,
            },
            DateRule::FixTimeRange { begin, end },
        ) => {
            if begin > old_begin {
                return narrowed(
                    "begin_timestamp",
                    format!("is {begin}, later than the current {old_begin}"),
                );
            }
            if end < old_end {
                return narrowed(
                    "end_timestamp",
                    format!("is {end}, earlier than the current {old_end}"),
                );
            }
            Ok(())
        }
        (
            DateRule::FixTerm {
                term_days: old_term,
                begin_days: old_begin_days,
                end: old_end,
            },
            DateRule::FixTerm {
                term_days,
                begin_days,
                end,
            },
        ) => {
            if term_days != old_term {
                return Err(Violation::new(
                    Rule::NotUpdatable,
                    join(path, "fixed_term"),
                    format!("is {term_days}; the fixed term ({old_term} days) cannot be changed"),
                ));
            }
            if begin_days != old_begin_days {
                return Err(Violation::new(
                    Rule::NotUpdatable,
                    join(path, "fixed_begin_term"),
                    format!(
                        "is {begin_days}; the start delay ({old_begin_days} days) cannot be changed"
                    ),
                ));
            }
            match (old_end, end) {
                (None, Some(end)) => narrowed(
                    "end_timestamp",
                    format!("is {end}, an expiry on a card that had none"),
                ),
                (Some(old_end), Some(end)) if end < old_end => narrowed(
                    "end_timestamp",
                    format!("is {end}, earlier than the current {old_end}"),
                ),
                _ => Ok(()),
            }
        }
        (DateRule::Permanent, DateRule::Permanent) => Ok(()),
        (before, after) => narrowed(
            "type",
            format!(
                "is {}, but the card's date type is {}",
                date_type_of(after).wire_name(),
                date_type_of(before).wire_name()
            ),
        ),
    }
}

fn check_code_mode(base_info: &Object, path: &str) -> Result<(), Violation> {
    if !base_info.contains_key("get_custom_code_mode") {
        return Ok(());
    }
    if base_info.get("use_custom_code").and_then(Value::as_bool) != Some(true) {
        return Err(Violation::new(
            Rule::InvalidValue,
            join(path, "use_custom_code"),
            "must be true with get_custom_code_mode GET_CUSTOM_CODE_MODE_DEPOSIT",
        ));
    }
    let quantity = base_info
        .get("sku")
        .and_then(|sku| sku.get("quantity"))
        .and_then(integer);
    if quantity != Some(0) {
        return Err(Violation::new(
            Rule::BadQuantity,
            join(path, "sku.quantity"),
            format!(
                "is {}; a deposit-code card starts with 0 and gets its stock from deposited codes",
                quantity.unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

// Compat: cards.md §3.3 — location_id_list and use_all_locations are "mutually exclusive":
// an empty list next to `use_all_locations: true` is accepted (SDKs send one), a non-empty one
// is not. A missing list with `use_all_locations: false` is accepted although WxJava refuses
// it client-side: test cards often have no stores.
fn check_locations(base_info: &Object, path: &str) -> Result<(), Violation> {
    let all = base_info.get("use_all_locations").and_then(Value::as_bool) == Some(true);
    let listed = base_info
        .get("location_id_list")
        .and_then(Value::as_array)
        .is_some_and(|ids| !ids.is_empty());
    if all && listed {
        return Err(Violation::new(
            Rule::InvalidValue,
            join(path, "location_id_list"),
            "cannot list stores when use_all_locations is true",
        ));
    }
    Ok(())
}

fn check_cash_costs(cash: &Object, path: &str) -> Result<(), Violation> {
    let least = cash.get("least_cost").and_then(integer).unwrap_or(0);
    let reduce = cash.get("reduce_cost").and_then(integer).unwrap_or(0);
    if least > 0 && least <= reduce {
        return Err(Violation::new(
            Rule::BadLeastCost,
            join(path, "least_cost"),
            format!(
                "is {least}; it must be larger than reduce_cost ({reduce}), or 0 for no threshold"
            ),
        ));
    }
    Ok(())
}

fn check_name_or_name_type(custom_field: &Object, path: &str) -> Result<(), Violation> {
    match (
        custom_field.contains_key("name_type"),
        custom_field.contains_key("name"),
    ) {
        (true, false) | (false, true) => Ok(()),
        (false, false) => Err(Violation::new(
            Rule::MissingField,
            join(path, "name_type"),
            "is required when name is absent (give exactly one of them)",
        )),
        (true, true) => Err(Violation::new(
            Rule::InvalidValue,
            join(path, "name"),
            "cannot be combined with name_type (give exactly one of them)",
        )),
    }
}

// Compat: membercard.md §1.2 and §1.6 — activate_url is "conditionally required": a member
// card needs auto_activate, wx_activate, activate_url, or an activation Mini Program (in
// member_card or in base_info), as WxJava checks before sending.
fn check_member_activation(member_card: &Object, path: &str) -> Result<(), Violation> {
    let flag = |name: &str| member_card.get(name).and_then(Value::as_bool) == Some(true);
    let has_text = |object: &Object, name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .is_some_and(|text| !text.is_empty())
    };
    let base_info_jump = member_card
        .get("base_info")
        .and_then(Value::as_object)
        .is_some_and(|base_info| has_text(base_info, "activate_app_brand_user_name"));
    if flag("auto_activate")
        || flag("wx_activate")
        || has_text(member_card, "activate_url")
        || has_text(member_card, "activate_app_brand_user_name")
        || base_info_jump
    {
        return Ok(());
    }
    Err(Violation::new(
        Rule::MissingField,
        join(path, "activate_url"),
        "is required unless auto_activate or wx_activate is true \
         or activate_app_brand_user_name names an activation Mini Program",
    ))
}

fn check_custom_field_count(request: &Object, path: &str) -> Result<(), Violation> {
    for key in request.keys() {
        let Some(number) = key.strip_prefix("custom_field") else {
            continue;
        };
        // custom_field0 is merely unknown; a number too large for u64 is certainly too many.
        let extra = !number.is_empty()
            && number.bytes().all(|byte| byte.is_ascii_digit())
            && number.parse::<u64>().map_or(true, |number| number > 3);
        if extra {
            return Err(Violation::new(
                Rule::TooManyCustomFields,
                join(path, key),
                "is one custom field too many; a card has custom_field1 to custom_field3",
            ));
        }
    }
    Ok(())
}

fn check_bonus_stays_on(
    member_card: &Object,
    stored: Option<&Object>,
    path: &str,
) -> Result<(), Violation> {
    let Some(stored) = stored else {
        return Ok(());
    };
    let was_on = stored.get("supply_bonus").and_then(Value::as_bool) == Some(true);
    let is_on = member_card.get("supply_bonus").and_then(Value::as_bool) == Some(true);
    if was_on && !is_on {
        return Err(Violation::new(
            Rule::InvalidValue,
            join(path, "supply_bonus"),
            "cannot go back to false once a card supplies bonus points",
        ));
    }
    Ok(())
}

/// `date_info.type`, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateType {
    FixTimeRange,
    FixTerm,
    Permanent,
}

impl DateType {
    fn wire_name(self) -> &'static str {
        match self {
            DateType::FixTimeRange => "DATE_TYPE_FIX_TIME_RANGE",
            DateType::FixTerm => "DATE_TYPE_FIX_TERM",
            DateType::Permanent => "DATE_TYPE_PERMANENT",
        }
    }
}

fn date_type(value: &Value) -> Option<DateType> {
    match value {
        Value::String(text) => match text.as_str() {
            "DATE_TYPE_FIX_TIME_RANGE" => Some(DateType::FixTimeRange),
            "DATE_TYPE_FIX_TERM" => Some(DateType::FixTerm),
            "DATE_TYPE_PERMANENT" => Some(DateType::Permanent),
            _ => None,
        },
        // Compat: cards.md §3.8 — the legacy integers: 1 = FIX_TIME_RANGE, 2 = FIX_TERM.
        Value::Number(_) => match integer(value) {
            Some(1) => Some(DateType::FixTimeRange),
            Some(2) => Some(DateType::FixTerm),
            _ => None,
        },
        _ => None,
    }
}

fn date_type_of(rule: DateRule) -> DateType {
    match rule {
        DateRule::FixTimeRange { .. } => DateType::FixTimeRange,
        DateRule::FixTerm { .. } => DateType::FixTerm,
        DateRule::Permanent => DateType::Permanent,
    }
}

/// Checks a string's length, and that a required one is not empty.
fn text_checks(text: &str, limit: Limit, required: bool, path: &str) -> Result<(), Violation> {
    // Compat: cards.md §3.3 — an empty string in a required field counts as missing (41011),
    // as it does for WeChat's backend, which cannot tell "" from absent.
    if required && text.is_empty() {
        return Err(Violation::new(
            Rule::MissingField,
            path,
            "is empty; it is required",
        ));
    }
    match limit {
        Limit::Bytes(max) if text.len() > max => Err(Violation::new(
            Rule::TooLong,
            path,
            format!(
                "is {} bytes; the limit is {max} bytes (about {} Chinese characters)",
                text.len(),
                max / 3
            ),
        )),
        Limit::Chars(max) if text.chars().count() > max => Err(Violation::new(
            Rule::TooLong,
            path,
            format!(
                "is {} characters; the limit is {max} characters",
                text.chars().count()
            ),
        )),
        Limit::Bytes(_) | Limit::Chars(_) => Ok(()),
    }
}

fn check_range(
    number: Option<i64>,
    min: i64,
    max: i64,
    rule: Rule,
    path: &str,
) -> Result<(), Violation> {
    let detail = match number {
        Some(number) if number < min => format!("is {number}; the minimum is {min}"),
        Some(number) if number > max => format!("is {number}; the maximum is {max}"),
        Some(_) => return Ok(()),
        None => format!("is larger than the maximum {max}"),
    };
    Err(Violation::new(rule, path, detail))
}

/// An integer value: `Some(Some(n))`, `Some(None)` for an integer too large for `i64`, or
/// `None` for anything that is not an integer.
fn integer_or_huge(value: &Value) -> Option<Option<i64>> {
    let Value::Number(number) = value else {
        return None;
    };
    if let Some(number) = number.as_i64() {
        return Some(Some(number));
    }
    number.as_u64().map(|_| None)
}

/// An integer that fits in `i64`.
pub(crate) fn integer(value: &Value) -> Option<i64> {
    integer_or_huge(value).flatten()
}

fn wrong_type(rule: Rule, kind: &Kind, sent: &Value, path: &str) -> Violation {
    let expected = match kind {
        Kind::Text(_)
        | Kind::HttpUrl(_)
        | Kind::ImageUrl(_)
        | Kind::OneOf { .. }
        | Kind::AppBrandUserName
        | Kind::AppBrandPass { .. } => "a string",
        Kind::Integer { .. } | Kind::PoiId => "an integer",
        Kind::Bool => "true or false",
        Kind::DateType => "a date type string",
        Kind::NumericId => "an integer or a string of digits",
        Kind::Object(_) => "an object",
        Kind::Array { .. } => "an array",
    };
    Violation::new(
        rule,
        path,
        format!("must be {expected}, not {}", describe_type(sent)),
    )
}

/// The JSON type of `value`, as a phrase.
fn describe_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a number with a fraction",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a scalar for a detail; containers are named by their type.
fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => describe_type(value).to_owned(),
    }
}

/// `http://` or `https://`, a host, and no spaces or control characters.
pub(crate) fn is_http_url(text: &str) -> bool {
    let rest = strip_prefix_ignoring_case(text, "https://")
        .or_else(|| strip_prefix_ignoring_case(text, "http://"));
    let Some(rest) = rest else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && !text
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
}

fn strip_prefix_ignoring_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// `gh_` + 12 lowercase hex digits + `@app` (miniprogram-jump.md §1.1, §6).
pub(crate) fn is_app_brand_user_name(text: &str) -> bool {
    let Some(middle) = text
        .strip_prefix("gh_")
        .and_then(|rest| rest.strip_suffix("@app"))
    else {
        return false;
    };
    middle.len() == 12
        && middle
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

// Compat: miniprogram-jump.md §1.1 — a page path may start with one `/` and may carry its own
// query; it may not be empty, be a URL (`scheme://`), start with `//` or `?`, or contain spaces.
pub(crate) fn is_page_path(text: &str) -> bool {
    let path = text.strip_prefix('/').unwrap_or(text);
    !path.is_empty()
        && !path.starts_with('/')
        && !path.starts_with('?')
        && !text.contains("://")
        && !text
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
}

/// `path.name`, or `name` at the root.
pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}
