//! The bad-input catalogue: every operation of `/openapi.json` that reads a body or a query
//! gets each kind of malformed input, built from the operation's own schema. Every answer
//! must be WeChat-shaped JSON (HTTP 200 on WeChat's paths, never a 5xx) and every input that
//! cannot be right must be refused. The table of answers is `docs/bad-input.md`; this test
//! regenerates it and fails when it differs (run with `WXCARD_BLESS=1` to rewrite the file).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app, TestApp};

/// The kinds of malformed body, in the catalogue's column order: (name, must be refused).
const BODY_KINDS: &[(&str, bool)] = &[
    ("empty", true),
    ("not JSON", true),
    ("non-UTF-8", true),
    ("array", true),
    ("missing fields", false),
    ("wrong types", false),
    ("oversize strings", false),
    ("deep nesting", true),
    ("duplicate keys", false),
    ("unknown fields", false),
    ("negative numbers", false),
    ("overflowing numbers", false),
    ("huge body", true),
];

/// The kinds of malformed query string.
const QUERY_KINDS: &[(&str, bool)] = &[
    ("missing parameters", false),
    ("oversize values", false),
    ("non-UTF-8", false),
    ("duplicate keys", false),
    ("unknown parameters", false),
    ("negative numbers", false),
    ("overflowing numbers", false),
];

struct Schemas<'a>(&'a Map<String, Value>);

impl Schemas<'_> {
    /// Follows `$ref`, `allOf` and `anyOf` to a schema with a `type` (or an empty one).
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        if let Some(name) = schema["$ref"].as_str() {
            let name = name.trim_start_matches("#/components/schemas/");
            return self.resolve(&self.0[name]);
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            if let Some(first) = schema[combinator].as_array().and_then(|list| list.first()) {
                return self.resolve(first);
            }
        }
        schema
    }

    /// A value of the right type for `schema` (the first enum value, "x", 1, true, ...).
    fn plausible(&self, schema: &Value, depth: usize) -> Value {
        let schema = self.resolve(schema);
        if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
            return first.clone();
        }
        match schema["type"].as_str() {
            Some("integer" | "number") => json!(1),
            Some("boolean") => json!(true),
            Some("array") => json!([]),
            Some("object") if depth < 3 => Value::Object(self.baseline(schema, depth + 1)),
            Some("object") => json!({}),
            _ => json!("x"),
        }
    }

    /// An object with every required property given a plausible value.
    fn baseline(&self, schema: &Value, depth: usize) -> Map<String, Value> {
        let schema = self.resolve(schema);
        let mut out = Map::new();
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            out.insert(
                name.to_owned(),
                self.plausible(&schema["properties"][name], depth),
            );
        }
        out
    }

    /// Every property with its resolved type.
    fn properties(&self, schema: &Value) -> Vec<(String, String)> {
        let schema = self.resolve(schema);
        schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, property)| {
                let kind = self.resolve(property)["type"].as_str().unwrap_or("any");
                (name.clone(), kind.to_owned())
            })
            .collect()
    }
}

/// The body of one malformed kind, from the operation's schema.
fn body_of(kind: &str, schemas: &Schemas<'_>, schema: &Value) -> Vec<u8> {
    let baseline = schemas.baseline(schema, 0);
    let properties = schemas.properties(schema);
    let with = |change: &dyn Fn(&str) -> Option<Value>| {
        let mut body = baseline.clone();
        for (name, kind) in &properties {
            if let Some(value) = change(kind) {
                body.insert(name.clone(), value);
            }
        }
        Value::Object(body).to_string().into_bytes()
    };
    match kind {
        "empty" => Vec::new(),
        "not JSON" => b"{\"code\": \"12".to_vec(),
        "non-UTF-8" => b"{\"code\": \"\xff\xfe\xfd\"}".to_vec(),
        "array" => b"[1, 2, 3]".to_vec(),
        "missing fields" => b"{}".to_vec(),
        "wrong types" => with(&|kind| {
            Some(match kind {
                "string" => json!(12345),
                "integer" | "number" => json!("twelve"),
                "boolean" => json!("yes"),
                "array" => json!({"not": "a list"}),
                "object" => json!([1]),
                _ => return None,
            })
        }),
        "oversize strings" => with(&|kind| (kind == "string").then(|| json!("长".repeat(70_000)))),
        "deep nesting" => {
            let mut text = String::from("{\"code\": ");
            text.push_str(&"[".repeat(100_000));
            text.push_str(&"]".repeat(100_000));
            text.push('}');
            text.into_bytes()
        }
        "duplicate keys" => {
            let text = Value::Object(baseline.clone()).to_string();
            let first = baseline
                .keys()
                .next()
                .cloned()
                .unwrap_or_else(|| "code".into());
            let inner = text.trim_start_matches('{').trim_end_matches('}');
            let separator = if inner.is_empty() { "" } else { "," };
            format!("{{\"{first}\": 7{separator}{inner}}}").into_bytes()
        }
        "unknown fields" => {
            let mut body = baseline.clone();
            body.insert("zz_not_a_field".into(), json!({"deep": [1, 2]}));
            Value::Object(body).to_string().into_bytes()
        }
        "negative numbers" => with(&|kind| matches!(kind, "integer" | "number").then(|| json!(-1))),
        "overflowing numbers" => {
            let text = String::from_utf8(with(&|kind| {
                matches!(kind, "integer" | "number").then(|| json!("OVERFLOW"))
            }))
            .unwrap();
            text.replace("\"OVERFLOW\"", "18446744073709551616000")
                .into_bytes()
        }
        "huge body" => {
            let mut body = b"{\"code\": \"".to_vec();
            body.resize(2 * 1024 * 1024 + 100, b'a');
            body.extend_from_slice(b"\"}");
            body
        }
        other => panic!("unknown kind {other}"),
    }
}

/// The query string of one malformed kind.
fn query_of(kind: &str, schemas: &Schemas<'_>, parameters: &[Value], token: &str) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for parameter in parameters.iter().filter(|p| p["in"] == "query") {
        let name = parameter["name"].as_str().unwrap().to_owned();
        let numeric = matches!(
            schemas.resolve(&parameter["schema"])["type"].as_str(),
            Some("integer")
        ) || name == "limit";
        let value = match kind {
            "missing parameters" => continue,
            "oversize values" => "%E9%95%BF".repeat(1_500),
            "non-UTF-8" => "%FF%FE%FD".into(),
            "negative numbers" if numeric => "-1".into(),
            "overflowing numbers" if numeric => "18446744073709551616000".into(),
            _ => "x".into(),
        };
        if kind == "duplicate keys" {
            pairs.push((name.clone(), "first".into()));
        }
        pairs.push((name, value));
    }
    if kind == "unknown parameters" {
        pairs.push(("zz_not_a_parameter".into(), "1".into()));
    }
    pairs.push(("access_token".into(), token.into()));
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// One answer: HTTP status and errcode, as the catalogue shows it (`47001`, or `47001 (400)`
/// when the status is not 200).
async fn send(app: &TestApp, method: &str, url: &str, body: Option<Vec<u8>>) -> (u16, i64, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.http.request(method, format!("{}{url}", app.base_url));
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{:.200}: {}", url, error.without_url()));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let answer: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{url:.200} answered something that is not JSON: {text:.200}"));
    let errcode = answer["errcode"]
        .as_i64()
        .unwrap_or_else(|| panic!("{url:.200} answered without an errcode: {text:.200}"));
    (
        status,
        errcode,
        answer["errmsg"].as_str().unwrap_or_default().to_owned(),
    )
}

fn cell(status: u16, errcode: i64) -> String {
    if status == 200 {
        errcode.to_string()
    } else {
        format!("{errcode} ({status})")
    }
}

#[tokio::test]
async fn every_operation_answers_every_kind_of_bad_input_in_wechats_shape() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    let description: Value = serde_json::from_str(wxcard_platform::http_openapi_text()).unwrap();
    let schemas = Schemas(description["components"]["schemas"].as_object().unwrap());
    let mut body_rows = Vec::new();
    let mut query_rows = Vec::new();
    let mut tried = 0;

    for (path, operations) in description["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let built = operation["tags"][0] != "wechat (not built)";
            let wechat = path.starts_with("/card/")
                || path.starts_with("/cgi-bin/")
                || path.starts_with("/sns/");
            let concrete = crate::helpers::concrete_path(path, "pay");
            let method = method.to_ascii_uppercase();
            let body_schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let has_query = parameters.iter().any(|p| p["in"] == "query");
            if !built || (body_schema.is_null() && !has_query) {
                continue;
            }
            let (kinds, rows) = if body_schema.is_null() {
                (QUERY_KINDS, &mut query_rows)
            } else {
                (BODY_KINDS, &mut body_rows)
            };
            let mut cells = Vec::new();
            for (kind, must_refuse) in kinds {
                let (url, body) = if body_schema.is_null() {
                    (
                        format!(
                            "{concrete}?{}",
                            query_of(kind, &schemas, &parameters, &token)
                        ),
                        None,
                    )
                } else {
                    (
                        format!("{concrete}?access_token={token}"),
                        Some(body_of(kind, &schemas, body_schema)),
                    )
                };
                let (status, errcode, errmsg) = send(&app, &method, &url, body).await;

                assert!(
                    status < 500,
                    "{method} {path} {kind}: {status} {errcode} {errmsg}"
                );
                if wechat {
                    assert_eq!(status, 200, "{method} {path} {kind}: {errcode} {errmsg}");
                }
                if *must_refuse {
                    assert_ne!(errcode, 0, "{method} {path} {kind} was accepted");
                }
                if errcode != 0 && errcode != -1 {
                    assert!(
                        errmsg.contains("hint: ["),
                        "{method} {path} {kind}: no hint in {errmsg:?}"
                    );
                }
                cells.push(cell(status, errcode));
                tried += 1;
            }
            rows.push(format!("| {method} `{path}` | {} |", cells.join(" | ")));
        }
    }

    let endpoints = body_rows.len() + query_rows.len();
    let mut doc = String::new();
    writeln!(doc, "# Bad input: what each endpoint answers\n").unwrap();
    writeln!(doc, "Generated by `crates/platform/tests/api/bad_input.rs`, which sends every input below to a fresh").unwrap();
    writeln!(doc, "server and checks the answers: always JSON with an `errcode` and, for a refusal, a `hint: [...]`").unwrap();
    writeln!(doc, "saying what was wrong; HTTP 200 on WeChat's paths (wxcard's own give the status in brackets);").unwrap();
    writeln!(doc, "never a 5xx. Inputs are built from each operation's schema in `/openapi.json`: required fields").unwrap();
    writeln!(doc, "get a plausible value (`\"x\"`, `1`, `true`, the first enum value) and one thing is broken.").unwrap();
    writeln!(doc, "`0` means accepted: an unknown field is ignored on WeChat's paths as WeChat does, a duplicate key").unwrap();
    writeln!(doc, "keeps its last value, and the plausible values happened to be valid. Path parameters are `x`.").unwrap();
    writeln!(doc, "To update after a change: `WXCARD_BLESS=1 cargo test -p wxcard-platform --test api bad_input`.\n").unwrap();
    writeln!(doc, "{tried} inputs over {endpoints} operations ({} with a JSON body, {} with a query string).\n", body_rows.len(), query_rows.len()).unwrap();
    writeln!(doc, "## Bodies\n").unwrap();
    writeln!(doc, "- empty: no body; not JSON: `{{\"code\": \"12`; non-UTF-8: bytes FF FE FD in a string; array: `[1, 2, 3]`").unwrap();
    writeln!(doc, "- missing fields: `{{}}`; wrong types: every field of the wrong JSON type; oversize strings: every string 70,000 characters (210 KB)").unwrap();
    writeln!(doc, "- deep nesting: 100,000 nested arrays; duplicate keys: the first field twice; unknown fields: one more, nested").unwrap();
    writeln!(doc, "- negative numbers: every number -1; overflowing numbers: every number 18446744073709551616000; huge body: 2 MiB + 100 bytes\n").unwrap();
    let header: Vec<&str> = BODY_KINDS.iter().map(|(kind, _)| *kind).collect();
    writeln!(doc, "| operation | {} |", header.join(" | ")).unwrap();
    writeln!(doc, "|---|{}", "---|".repeat(header.len())).unwrap();
    for row in &body_rows {
        writeln!(doc, "{row}").unwrap();
    }
    writeln!(doc, "\n## Query strings\n").unwrap();
    writeln!(doc, "- missing parameters: none but `access_token`; oversize values: 1,500 percent-encoded characters each; non-UTF-8: `%FF%FE%FD`").unwrap();
    writeln!(doc, "- duplicate keys: each parameter twice (the first wins); unknown parameters: one more; negative and overflowing numbers in numeric parameters\n").unwrap();
    let header: Vec<&str> = QUERY_KINDS.iter().map(|(kind, _)| *kind).collect();
    writeln!(doc, "| operation | {} |", header.join(" | ")).unwrap();
    writeln!(doc, "|---|{}", "---|".repeat(header.len())).unwrap();
    for row in &query_rows {
        writeln!(doc, "{row}").unwrap();
    }

    assert!(endpoints >= 45, "only {endpoints} operations tried");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/bad-input.md");
    if std::env::var_os("WXCARD_BLESS").is_some() {
        std::fs::write(committed_path, &doc).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        committed == doc,
        "docs/bad-input.md differs from what the server answers now; rerun with WXCARD_BLESS=1 to rewrite it and review the diff\n{doc}"
    );
}
