//! `/openapi.json`: it is served, it is the description `wxcard openapi` prints, and every
//! operation it lists reaches a handler (none falls through to the unknown-path answer).

use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_served_description_is_openapi_3_and_matches_the_built_in_text() {
    let app = spawn_app().await;

    let (status, content_type, served) = app.request(Method::GET, "/openapi.json", None).await;

    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let built_in: Value = serde_json::from_str(wxcard_platform::http_openapi_text()).unwrap();
    assert_eq!(served, built_in);
    assert_eq!(served["openapi"], "3.0.3");
    let consume = &served["paths"]["/card/code/consume"]["post"];
    assert_eq!(
        consume["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ConsumeRequest"
    );
    assert_eq!(consume["security"][0]["accessToken"], serde_json::json!([]));
    let request = &served["components"]["schemas"]["ConsumeRequest"];
    assert_eq!(
        request["required"],
        serde_json::json!(["code"]),
        "{request}"
    );
}

#[tokio::test]
async fn every_described_operation_reaches_its_handler() {
    let app = spawn_app().await;
    let description: Value = serde_json::from_str(wxcard_platform::http_openapi_text()).unwrap();
    let paths = description["paths"].as_object().unwrap();
    let mut tried = 0;

    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let concrete = crate::helpers::concrete_path(path, "view");
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let body = (method != Method::GET).then_some("{}");

            let (status, _, answer) = app.request(method.clone(), &concrete, body).await;

            let errmsg = answer["errmsg"].as_str().unwrap_or_default();
            assert_ne!(status, 405, "{method} {path}: {answer}");
            assert!(
                !errmsg.contains("no API has the path") && !errmsg.contains("needs "),
                "{method} {path} did not reach a handler: {answer}"
            );
            tried += 1;
        }
    }

    assert!(tried > 70, "only {tried} operations described");
}
