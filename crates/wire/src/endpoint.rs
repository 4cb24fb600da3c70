//! The `Endpoint` trait: one WeChat API call, where it goes and what comes back.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The HTTP method an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Parameters in the query string.
    Get,
    /// A JSON body.
    Post,
}

impl Method {
    /// The method as written on the request line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One WeChat API call. For a `GET` endpoint the request serializes into the query string;
/// for a `POST` endpoint it is the JSON body.
pub trait Endpoint: Serialize + DeserializeOwned {
    /// The path, as WeChat spells it (`/card/code/consume`).
    const PATH: &'static str;
    /// The method the path takes.
    const METHOD: Method;
    /// Whether the call carries `?access_token=`.
    const NEEDS_TOKEN: bool = true;
    /// The success body.
    type Response: Serialize + DeserializeOwned;
}
