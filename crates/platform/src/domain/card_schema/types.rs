//! The vocabulary of the field tables: what a field is, which JSON it takes and what
//! `/card/update` may do with it. `tables` fills it in and `walk` reads it; an OpenAPI generator
//! can read it the same way, starting from [`crate::domain::card_schema::CardType::schema`].

use crate::domain::card_schema::Rule;

/// How long a string may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many bytes of UTF-8: the spec's `string(N)`, where a Chinese character
    /// takes 3 bytes.
    Bytes(usize),
    /// At most this many characters, for fields the spec measures in characters.
    Chars(usize),
}

/// Which JSON a field takes, and which values of it are good.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A string.
    Text(Limit),
    /// A string that must be an `http://` or `https://` URL ([`Rule::InvalidValue`] otherwise).
    HttpUrl(Limit),
    /// An image URL: any `http(s)` URL ([`Rule::BadImageUrl`] otherwise).
    ImageUrl(Limit),
    /// One string out of `values`; another string breaks `rule`.
    OneOf {
        /// The accepted strings.
        values: &'static [&'static str],
        /// The rule a string outside `values` breaks.
        rule: Rule,
    },
    /// An integer in `min..=max`; a number outside breaks `rule`.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
        /// The rule a value outside the range breaks.
        rule: Rule,
    },
    /// `true` or `false`.
    Bool,
    /// A Mini Program's original id plus `@app`: `gh_` + 12 lowercase hex digits + `@app`.
    AppBrandUserName,
    /// A page path inside a Mini Program; needs the sibling field `user_name` in the same object.
    AppBrandPass {
        /// The sibling `*_app_brand_user_name` field.
        user_name: &'static str,
    },
    /// `date_info.type`: a `DATE_TYPE_*` string or the legacy integers 1 and 2.
    DateType,
    /// A store (POI) id: a non-negative integer ([`Rule::BadLocation`] otherwise).
    PoiId,
    /// A numeric id sent either as an integer or as a string of digits.
    NumericId,
    /// A JSON object with its own fields.
    Object(&'static ObjectSpec),
    /// A JSON array of `item`s.
    Array {
        /// What each element is.
        item: &'static Kind,
        /// At most this many elements, and the rule more break.
        max_items: Option<(usize, Rule)>,
    },
}

/// What `/card/update` may do with a field (cards.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Not updatable: a changed value is [`Rule::NotUpdatable`]. Sending the stored value again
    /// is accepted as a no-op.
    Never,
    /// Updatable; the card keeps its review status.
    Allowed,
    /// Updatable; a change sends the card back to review (`send_check: true`).
    Review,
    /// Like [`Update::Review`], except on member cards, where a change does not re-review.
    ReviewExceptMemberCard,
    /// Part of `date_info`: [`Check::DateInfo`] allows only widening the validity, and keeps
    /// `fixed_term` / `fixed_begin_term` as they are.
    WidenOnly,
}

/// How `/card/update` applies a sent object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUpdate {
    /// Field by field: fields the update leaves out keep their stored values (`base_info`,
    /// `date_info`, `pay_info`).
    MergeFields,
    /// As a whole: the sent object replaces the stored one and must be complete
    /// (`custom_field1`, `bonus_rule`, …).
    Replace,
}

/// A rule that involves more than one field, run on an object after its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `date_info` (cards.md §3.8): `FIX_TIME_RANGE` needs `begin_timestamp < end_timestamp`;
    /// `FIX_TERM` needs `fixed_term > 0`; `DATE_TYPE_PERMANENT` is for member and general
    /// cards; an end must not be in the past. On update the window may only widen (40100).
    DateInfo,
    /// `get_custom_code_mode` needs `use_custom_code: true` and `sku.quantity: 0` (create only).
    CodeMode,
    /// `use_all_locations: true` excludes a non-empty `location_id_list`.
    Locations,
    /// CASH: `least_cost` is 0 (no threshold) or larger than `reduce_cost` (72008).
    CashCosts,
    /// `custom_fieldN`: exactly one of `name_type` and `name`.
    NameOrNameType,
    /// Member card: some activation mode is configured (create only, membercard.md §1.6).
    MemberActivation,
    /// Member card: no `custom_field4` or later (40124).
    CustomFieldCount,
    /// Member card update: `supply_bonus` cannot go from `true` to `false` (errors.md 40135,
    /// reported as [`Rule::InvalidValue`]).
    BonusStaysOn,
}

/// One field of an object.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The JSON key.
    pub name: &'static str,
    /// Which JSON it takes.
    pub kind: Kind,
    /// Whether `/card/create` needs it. An update never needs a field of a merged object.
    pub required: bool,
    /// What `/card/update` may do with it.
    pub update: Update,
    /// The rule a value of the wrong JSON type breaks (usually [`Rule::WrongType`]).
    pub wrong_type: Rule,
}

impl FieldSpec {
    /// An optional, not updatable field of `kind`.
    #[must_use]
    pub const fn of_kind(name: &'static str, kind: Kind) -> Self {
        FieldSpec {
            name,
            kind,
            required: false,
            update: Update::Never,
            wrong_type: Rule::WrongType,
        }
    }

    /// A string of at most `max_bytes` bytes of UTF-8 (`string(max_bytes)`).
    #[must_use]
    pub const fn text(name: &'static str, max_bytes: usize) -> Self {
        Self::of_kind(name, Kind::Text(Limit::Bytes(max_bytes)))
    }

    /// An `http(s)` URL of at most `max_bytes` bytes.
    #[must_use]
    pub const fn http_url(name: &'static str, max_bytes: usize) -> Self {
        Self::of_kind(name, Kind::HttpUrl(Limit::Bytes(max_bytes)))
    }

    /// An image URL of at most 128 bytes.
    #[must_use]
    pub const fn image_url(name: &'static str) -> Self {
        Self::of_kind(name, Kind::ImageUrl(Limit::Bytes(128)))
    }

    /// One of `values`; another string breaks `rule`.
    #[must_use]
    pub const fn one_of(name: &'static str, values: &'static [&'static str], rule: Rule) -> Self {
        Self::of_kind(name, Kind::OneOf { values, rule })
    }

    /// An integer in `min..=max`; a number outside breaks `rule`.
    #[must_use]
    pub const fn integer(name: &'static str, min: i64, max: i64, rule: Rule) -> Self {
        Self::of_kind(name, Kind::Integer { min, max, rule })
    }

    /// `true` or `false`.
    #[must_use]
    pub const fn boolean(name: &'static str) -> Self {
        Self::of_kind(name, Kind::Bool)
    }

    /// An object described by `spec`.
    #[must_use]
    pub const fn object(name: &'static str, spec: &'static ObjectSpec) -> Self {
        Self::of_kind(name, Kind::Object(spec))
    }

    /// An array of `item`s.
    #[must_use]
    pub const fn array(name: &'static str, item: &'static Kind) -> Self {
        Self::of_kind(
            name,
            Kind::Array {
                item,
                max_items: None,
            },
        )
    }

    /// An array of at most `max` `item`s; more break `rule`.
    #[must_use]
    pub const fn array_at_most(
        name: &'static str,
        item: &'static Kind,
        max: usize,
        rule: Rule,
    ) -> Self {
        Self::of_kind(
            name,
            Kind::Array {
                item,
                max_items: Some((max, rule)),
            },
        )
    }

    /// A `*_app_brand_user_name` field.
    #[must_use]
    pub const fn app_brand_user_name(name: &'static str) -> Self {
        Self::of_kind(name, Kind::AppBrandUserName)
    }

    /// A `*_app_brand_pass` field whose Mini Program is named by `user_name`.
    #[must_use]
    pub const fn app_brand_pass(name: &'static str, user_name: &'static str) -> Self {
        Self::of_kind(name, Kind::AppBrandPass { user_name })
    }

    /// Marks the field required on create.
    #[must_use]
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Lets `/card/update` change the field.
    #[must_use]
    pub const fn updatable(mut self) -> Self {
        self.update = Update::Allowed;
        self
    }

    /// Lets `/card/update` change the field, and sends the card back to review when it does.
    #[must_use]
    pub const fn review(mut self) -> Self {
        self.update = Update::Review;
        self
    }

    /// Like [`FieldSpec::review`], except on member cards.
    #[must_use]
    pub const fn review_except_member_card(mut self) -> Self {
        self.update = Update::ReviewExceptMemberCard;
        self
    }

    /// Marks a `date_info` field: updates may only widen the validity.
    #[must_use]
    pub const fn widen_only(mut self) -> Self {
        self.update = Update::WidenOnly;
        self
    }

    /// Reports a value of the wrong JSON type as `rule` instead of [`Rule::WrongType`].
    #[must_use]
    pub const fn wrong_type_is(mut self, rule: Rule) -> Self {
        self.wrong_type = rule;
        self
    }
}

/// The fields of one JSON object, the cross-field checks run on it, and how updates apply it.
#[derive(Debug)]
pub struct ObjectSpec {
    /// The fields, in groups (for example the common `base_info` fields plus the member-card
    /// ones). Order matters only for which violation of several is reported.
    pub groups: &'static [&'static [FieldSpec]],
    /// How `/card/update` applies a sent object of this shape.
    pub on_update: OnUpdate,
    /// Cross-field rules, run in order after the fields.
    pub checks: &'static [Check],
}

impl ObjectSpec {
    /// An object replaced as a whole on update, with no cross-field checks.
    #[must_use]
    pub const fn new(groups: &'static [&'static [FieldSpec]]) -> Self {
        ObjectSpec {
            groups,
            on_update: OnUpdate::Replace,
            checks: &[],
        }
    }

    /// The same object, merged field by field on update.
    #[must_use]
    pub const fn merged(mut self) -> Self {
        self.on_update = OnUpdate::MergeFields;
        self
    }

    /// The same object with cross-field checks.
    #[must_use]
    pub const fn with_checks(mut self, checks: &'static [Check]) -> Self {
        self.checks = checks;
        self
    }

    /// Every field, group after group.
    pub fn fields(&self) -> impl Iterator<Item = &'static FieldSpec> {
        let groups: &'static [&'static [FieldSpec]] = self.groups;
        groups.iter().flat_map(|group| group.iter())
    }

    /// The field called `name`, if the object has one.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().find(|field| field.name == name)
    }
}
