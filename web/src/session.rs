//! Sessions of the pages: a login link gives an API token (an `api_tokens` row labelled
//! `session: …`), kept in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` over HTTPS);
//! every request of a page is authenticated by it exactly as a bearer token is, so a
//! page sees and does what the same person could through the API. Forms carry a CSRF
//! token derived from the session's secret, which another site cannot know.

use crate::WebState;
use api::auth::Principal;
use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE: &str = api::state::SESSION_COOKIE;
/// The cookie of elder mode (长辈模式), kept per phone.
pub const ELDER_COOKIE: &str = "tb_elder";
/// A session lasts a year on its phone (staff revoke it by its token).
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// A signed-in request: who, and the secret its forms' CSRF token comes from.
#[derive(Clone)]
pub struct Session {
    pub principal: Principal,
    token: String,
}

impl Session {
    /// The CSRF token of this session's forms.
    pub fn csrf(&self) -> String {
        csrf_of(&self.token)
    }

    /// Whether a posted form carries this session's CSRF token.
    pub fn csrf_ok(&self, given: &str) -> bool {
        let want = self.csrf();
        // Same length, compared without an early exit.
        want.len() == given.len()
            && want
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

fn csrf_of(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"timebank csrf\0");
    h.update(token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The value of cookie `name` in a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The session of a request, if its cookie holds a live token.
pub async fn of_request(state: &WebState, headers: &HeaderMap) -> Option<Session> {
    let token = cookie(headers, COOKIE)?;
    let principal = state.api.authenticate_token(token).await.ok()?;
    Some(Session {
        principal,
        token: token.to_string(),
    })
}

/// Whether the request reached us over HTTPS: by configuration, or as the proxy in
/// front says (`X-Forwarded-Proto`) when the configuration leaves it to the request.
pub fn is_https(state: &WebState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies.unwrap_or_else(|| {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    })
}

/// The `Set-Cookie` of a new session.
pub fn set_cookie(token: &str, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={MAX_AGE_SECS}{secure}"
    ))
    .expect("a token is ASCII")
}

/// The `Set-Cookie` that ends a session on this phone.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("tb_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The `Set-Cookie` of elder mode, on or off.
pub fn elder_cookie(on: bool) -> HeaderValue {
    if on {
        HeaderValue::from_static("tb_elder=1; Path=/; SameSite=Lax; Max-Age=31536000")
    } else {
        HeaderValue::from_static("tb_elder=; Path=/; SameSite=Lax; Max-Age=0")
    }
}

/// Whether this phone shows elder mode.
pub fn elder(headers: &HeaderMap) -> bool {
    cookie(headers, ELDER_COOKIE) == Some("1")
}
