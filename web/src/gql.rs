//! The pages' one way into the product: a GraphQL operation run in-process as the
//! signed-in person ([`api::AppState::execute_as`]), with the same roles, masking and
//! commands as `/graphql`. A refusal comes back with its stable code.

use crate::session::Session;
use crate::WebState;
use serde_json::Value;

/// A refused or failed operation: the API's stable code and its message.
#[derive(Debug, Clone)]
pub struct Refused {
    pub code: String,
    pub message: String,
    /// The volunteer number a refusal names (`DUPLICATE_PERSON`: the record the person
    /// already has).
    pub volunteer_number: Option<String>,
    /// That record's volunteer id and community (`DUPLICATE_PERSON`), for the desk to
    /// offer moving it here (转移接续).
    pub record: Option<(String, String)>,
}

/// Runs `query` as the session's person; the `data` of the answer.
pub async fn run(
    state: &WebState,
    session: &Session,
    query: &str,
    variables: Value,
) -> Result<Value, Refused> {
    let response = state
        .api
        .execute_as(session.principal.clone(), query, variables)
        .await;
    if let Some(e) = response.errors.first() {
        let code = e
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_string())
            .unwrap_or_else(|| "INTERNAL".into());
        if matches!(
            code.as_str(),
            "INTERNAL" | "GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED"
        ) {
            tracing::error!(%code, message = %e.message, "a page's operation failed");
        }
        let ext = |k: &str| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get(k))
                .map(|n| n.to_string().trim_matches('"').to_string())
        };
        return Err(Refused {
            code,
            message: e.message.clone(),
            volunteer_number: ext("volunteerNumber"),
            record: ext("volunteerId").zip(ext("communityId")),
        });
    }
    serde_json::to_value(&response.data).map_err(|e| Refused {
        code: "INTERNAL".into(),
        message: e.to_string(),
        volunteer_number: None,
        record: None,
    })
}

/// The `atLeast` of a page's reads: the position a form's redirect carries (`?at=`),
/// so that a page shows the write that led to it.
pub fn at_least(q: &std::collections::HashMap<String, String>) -> Value {
    q.get("at")
        .and_then(|a| a.parse::<i64>().ok())
        .map(Value::from)
        .unwrap_or(Value::Null)
}

/// A fresh idempotency key for a form: a double-clicked button replays, never repeats.
pub fn form_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A string field of a JSON answer ("" when absent).
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An integer field of a JSON answer (0 when absent).
pub fn i(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// The items of a JSON list of an answer (none when absent).
pub fn items(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}
