//! The OpenAPI 3.0 description of every JSON endpoint wxcard serves, built from the route tables
//! in [`super`] and the request and response types their handlers use (their `JsonSchema`
//! derives, doc comments included). Nothing here lists a field by hand, so the description
//! cannot drift from the code; `docs/openapi.json` is a committed snapshot, checked by a test.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};
use wxcard_wire::catalogue::{Scope, ALL_ENDPOINTS};
use wxcard_wire::{Endpoint, Method, WxError};

/// Writes the schema of one type into the generator, answering a `$ref` or an inline schema.
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let schema = generator.subschema_for::<T>();
    // OpenAPI 3.0 has no boolean schemas: "anything" (a `serde_json::Value`) is `{}`.
    match schema.as_bool() {
        Some(true) => Schema::default(),
        Some(false) => schemars::json_schema!({ "not": {} }),
        None => schema,
    }
}

fn root_schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.root_schema_for::<T>()
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// Anyone (token and login endpoints, health).
    Anyone,
    /// `?access_token=` of a Service Account or Mini Program.
    AccessToken,
    /// `Authorization: Bearer` with the admin token, when the server has one.
    Admin,
}

/// What the description says of one route, next to its handler in the route table.
#[derive(Clone, Copy)]
pub(crate) struct Doc {
    summary: &'static str,
    caller: Caller,
    /// The JSON body's type.
    body: Option<SchemaFn>,
    /// A type whose fields are the query parameters.
    query: Option<SchemaFn>,
    /// The success answer's type.
    answer: SchemaFn,
}

impl std::fmt::Debug for Doc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doc")
            .field("summary", &self.summary)
            .finish()
    }
}

impl Doc {
    /// A WeChat endpoint, entirely from its [`Endpoint`] impl: a `GET` one's request fields are
    /// its query parameters, a `POST` one's are its body.
    pub(crate) fn endpoint<E>(summary: &'static str) -> Self
    where
        E: Endpoint + JsonSchema,
        E::Response: JsonSchema,
    {
        let (body, query) = match E::METHOD {
            Method::Get => (None, Some(root_schema_of::<E> as SchemaFn)),
            Method::Post => (Some(schema_of::<E> as SchemaFn), None),
        };
        Self {
            summary,
            caller: if E::NEEDS_TOKEN {
                Caller::AccessToken
            } else {
                Caller::Anyone
            },
            body,
            query,
            answer: schema_of::<E::Response>,
        }
    }

    /// An admin or simulator call with a JSON body.
    pub(crate) fn post<Body: JsonSchema, Answer: JsonSchema>(summary: &'static str) -> Self {
        Self {
            summary,
            caller: Caller::Admin,
            body: Some(schema_of::<Body>),
            query: None,
            answer: schema_of::<Answer>,
        }
    }

    /// An admin or simulator call without a body.
    pub(crate) fn get<Answer: JsonSchema>(summary: &'static str) -> Self {
        Self {
            summary,
            caller: Caller::Admin,
            body: None,
            query: None,
            answer: schema_of::<Answer>,
        }
    }

    /// The same call, with the fields of `Query` as query parameters.
    pub(crate) fn with_query<Query: JsonSchema>(self) -> Self {
        Self {
            query: Some(root_schema_of::<Query>),
            ..self
        }
    }

    /// The same call, open to anyone.
    pub(crate) fn public(self) -> Self {
        Self {
            caller: Caller::Anyone,
            ..self
        }
    }
}

/// One operation of the description.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Operation {
    /// `get`, `post` or `put`.
    pub(crate) method: &'static str,
    /// The path, with `{name}` for path parameters (axum and OpenAPI spell them alike).
    pub(crate) path: &'static str,
    pub(crate) doc: Doc,
}

/// The description as JSON text, built once.
pub(crate) fn document_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = serde_json::to_string_pretty(&document(&super::operations()))
            .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"));
        text.push('\n');
        text
    })
}

/// Builds the description from the operations of the route tables, the unbuilt WeChat paths
/// of the catalogue (which answer a JSON error saying so), and the operations below.
fn document(operations: &[Operation]) -> Value {
    let mut generator = SchemaGenerator::new(SchemaSettings::openapi3());
    let error = schema_of::<WxError>(&mut generator);
    let mut paths = Map::new();
    for operation in operations {
        let entry = paths
            .entry(operation.path)
            .or_insert_with(|| Value::Object(Map::new()));
        entry[operation.method] = describe(operation, &mut generator, &error);
    }
    for info in ALL_ENDPOINTS
        .iter()
        .filter(|info| !operations.iter().any(|op| op.path == info.path))
    {
        let status = match info.scope {
            Scope::Card => "not built yet",
            Scope::Outside => "outside what wxcard emulates",
        };
        let method = info.method.as_str().to_ascii_lowercase();
        paths.insert(
            info.path.to_owned(),
            json!({ method: {
                "summary": format!("{}: {status}", info.summary),
                "description": format!("Answers a WeChat error that names {} and where the spec describes it ({}).", info.path, info.spec),
                "tags": ["wechat (not built)"],
                "security": [{ "accessToken": [] }],
                "responses": { "200": { "description": "A WeChat error saying the path is not emulated.", "content": { "application/json": { "schema": error.clone() } } } },
            }}),
        );
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "wxcard",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "WeChat's card API as wxcard serves it, with wxcard's admin and simulator APIs. WeChat paths answer HTTP 200 with {errcode, errmsg} on failure; admin and simulator paths answer the same body with a 4xx status. See docs/compat.md.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "accessToken": { "type": "apiKey", "in": "query", "name": "access_token", "description": "From /cgi-bin/token or /cgi-bin/stable_token." },
                "adminToken": { "type": "http", "scheme": "bearer", "description": "The token given to `wxcard serve --admin-token`; not needed when the server has none." },
            },
        },
    })
}

fn describe(operation: &Operation, generator: &mut SchemaGenerator, error: &Schema) -> Value {
    let doc = &operation.doc;
    let mut parameters: Vec<Value> = path_parameters(operation.path)
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if let Some(query) = doc.query {
        let schema = query(generator);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                parameters.push(json!({
                    "name": name,
                    "in": "query",
                    "required": required.contains(&name.as_str()),
                    "description": property.get("description").cloned().unwrap_or(Value::Null),
                    "schema": strip_description(property),
                }));
            }
        }
    }
    let tag = match (doc.caller, operation.path) {
        (Caller::Admin, path) if path.starts_with("/sim/") => "simulator",
        (Caller::Admin, _) => "admin",
        (_, path)
            if path.starts_with("/cgi-bin/")
                || path.starts_with("/sns/")
                || path.starts_with("/card/") =>
        {
            "wechat"
        }
        _ => "wxcard",
    };
    let answer = (doc.answer)(generator);
    let mut out = json!({
        "summary": doc.summary,
        "operationId": format!("{}{}", operation.method, operation.path.replace(['/', '{', '}'], "_")),
        "tags": [tag],
        "responses": {
            "200": {
                "description": "The answer: the success body (with errcode 0 where WeChat sends it), or a WeChat error.",
                "content": { "application/json": { "schema": { "anyOf": [answer, error.clone()] } } },
            },
            "default": {
                "description": "An admin or simulator error, with its 4xx status.",
                "content": { "application/json": { "schema": error.clone() } },
            },
        },
    });
    if !parameters.is_empty() {
        out["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = doc.body {
        out["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": body(generator) } },
        });
    }
    match doc.caller {
        Caller::Anyone => {}
        Caller::AccessToken => out["security"] = json!([{ "accessToken": [] }]),
        Caller::Admin => out["security"] = json!([{ "adminToken": [] }]),
    }
    out
}

fn strip_description(property: &Value) -> Value {
    let mut property = property.clone();
    if let Some(object) = property.as_object_mut() {
        object.remove("description");
    }
    property
}

fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}
