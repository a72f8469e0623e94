//! Browser sessions: starting one after a successful sign-in, and the [`SignedIn`]
//! extractor that only exists for a live session of an active user of this org.

use crate::html::{org_cookie, set_cookie_for};
use crate::org::CurrentOrg;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use idhub_domain::event::ClientInfo;
use idhub_domain::lifecycle::can_authenticate;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::sessions::Session;
use idhub_store::StoreError;

/// Base name of the session cookie (`__Host-idhub_sid` on https orgs).
pub const SESSION_COOKIE: &str = "idhub_sid";

/// Is this org served over https (so cookies get `Secure`)?
pub fn is_https(org: &Org) -> bool {
    org.base_url.starts_with("https://")
}

/// End the session the request's cookie names, if it has one (at sign-out). A store
/// failure is logged; the browser's cookie is cleared either way.
pub async fn end_session_of_request(state: &AppState, org: &Org, headers: &HeaderMap, client: &ClientInfo) {
    let Some(secret) = org_cookie(org, headers, SESSION_COOKIE) else {
        return;
    };
    if let Err(e) = idhub_core::signin::sessions::end(&state.core, org, &secret, client).await {
        tracing::warn!("ending the session at sign-out: {e}");
    }
}

/// A `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(org: &Org) -> HeaderValue {
    set_cookie_for(org, SESSION_COOKIE, "", Some(0))
}

/// A signed-in user of the request's org.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub org: Org,
    pub session: Session,
    pub user: StoredUser,
}

/// Look up the request's session, if it has a live one and its user may authenticate.
pub async fn current_session(state: &AppState, parts: &Parts) -> Result<Option<SignedIn>, StoreError> {
    let Some(s) = session_of_request(state, parts).await? else {
        return Ok(None);
    };
    if !can_authenticate(s.user.user.status) {
        return Ok(None);
    }
    state.store.touch_session(&s.session, state.now()).await?;
    Ok(Some(s))
}

/// The request's live session and its user, *whatever the user's status* (a suspended
/// user's session may outlive the suspension by a moment, or on another node): for
/// handlers that refuse such a user with their own page and event. Activity is not
/// recorded; callers that accept the user call [`idhub_store::Store::touch_session`].
pub async fn session_of_request(state: &AppState, parts: &Parts) -> Result<Option<SignedIn>, StoreError> {
    let Some(org) = parts.extensions.get::<CurrentOrg>().map(|o| o.0.clone()) else {
        return Ok(None);
    };
    let Some(secret) = org_cookie(&org, &parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(idhub_core::signin::sessions::find(&state.core, &org, &secret).await?.map(|(session, user)| SignedIn { org, session, user }))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match current_session(state, parts).await {
            Ok(Some(s)) => {
                // later extractors of the request (the CSRF token) read it from here
                parts.extensions.insert(s.clone());
                Ok(s)
            }
            Ok(None) => {
                let from = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let to = format!("/login?fromURI={}", percent_encoding::utf8_percent_encode(from, percent_encoding::NON_ALPHANUMERIC));
                Err(Redirect::to(&to).into_response())
            }
            Err(e) => Err(crate::error::ApiError::internal(e.to_string()).into_response()),
        }
    }
}

/// Why a sign-in may not continue to a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// A control character (C0, DEL, C1): browsers drop some of them (TAB, CR, LF) and
    /// read what is left as another address, and none belongs in a URL.
    #[error("the address contains a control character")]
    ControlCharacter,
    /// Empty, too long, not an http(s) URL, or of another origin than the org's.
    #[error("the address is not one of this organization")]
    NotThisOrg,
}

/// Where a sign-in may continue to: a URL whose origin (scheme, host, port) is the
/// org's. The target is parsed as a browser parses it (WHATWG URL, relative to the
/// org's base URL), so `/\evil`, `//evil`, `https:evil` and `http://org@evil` are
/// seen as the other hosts they are. Returns the normalised URL: the path on (path,
/// query, fragment) for a relative target, the whole URL for an absolute one (or for
/// a path starting `//`, which a browser would read as a host).
pub fn org_target(org: &Org, target: &str) -> Result<String, TargetError> {
    if target.chars().any(char::is_control) {
        return Err(TargetError::ControlCharacter);
    }
    let t = target.trim_matches(' ');
    if t.is_empty() || t.len() > 4096 {
        return Err(TargetError::NotThisOrg);
    }
    let base = url::Url::parse(&org.base_url).map_err(|_| TargetError::NotThisOrg)?;
    let url = base.join(t).map_err(|_| TargetError::NotThisOrg)?;
    let same_origin =
        matches!(url.scheme(), "http" | "https") && url.origin() == base.origin() && url.username().is_empty() && url.password().is_none();
    if !same_origin {
        return Err(TargetError::NotThisOrg);
    }
    let absolute = url::Url::parse(t).is_ok();
    let from_path = &url[url::Position::BeforePath..];
    Ok(if absolute || from_path.starts_with("//") { url.to_string() } else { from_path.to_string() })
}

/// [`org_target`] for callers that fall back to a default on any refusal.
pub fn same_org_target(org: &Org, target: &str) -> Option<String> {
    org_target(org, target).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Org {
        Org {
            id: idhub_domain::ids::OrgId("o".into()),
            name: "o".into(),
            base_url: "http://127.0.0.2:8080".into(),
            host: "127.0.0.2:8080".into(),
            user_type_id: "t".into(),
            settings: serde_json::json!({}),
            created: 0,
        }
    }

    #[test]
    fn targets_are_parsed_as_a_browser_parses_them() {
        let o = org();
        let ok = |t: &str, want: &str| assert_eq!(org_target(&o, t).as_deref(), Ok(want), "{t:?}");
        let refused = |t: &str, why: TargetError| assert_eq!(org_target(&o, t), Err(why), "{t:?}");
        ok("/app/UserHome", "/app/UserHome");
        ok("/ok?x=1#f", "/ok?x=1#f");
        // an encoded TAB is only a path
        ok("/%09/evil.example", "/%09/evil.example");
        ok("/a b/é", "/a%20b/%C3%A9");
        ok("http://127.0.0.2:8080/app/x/sso/saml?RelayState=a", "http://127.0.0.2:8080/app/x/sso/saml?RelayState=a");
        ok("http://127.0.0.2:8080", "http://127.0.0.2:8080/");
        ok("HTTP://127.0.0.2:8080/x", "http://127.0.0.2:8080/x");
        // the org's own scheme without slashes is a path, as in a browser
        ok("http:evil.example", "http://127.0.0.2:8080/evil.example");
        // a path a browser would read as a host stays absolute
        ok("/.//evil.example", "http://127.0.0.2:8080//evil.example");
        for t in ["/\t/evil.example", "/\n/evil", "/\r/evil", "/\0", "/\u{b}x", "/\u{c}x", "/\u{7f}", "/\u{85}", "/\u{9b}x"] {
            refused(t, TargetError::ControlCharacter);
        }
        for t in [
            "",
            "\\\\evil.example",
            "/\\evil.example",
            "//evil.example",
            "https:evil.example",
            "http://127.0.0.2:8080@evil.example/",
            "http://user@127.0.0.2:8080/",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://evil.example/",
            "http://127.0.0.2:8080.evil.example/x",
            "http://127.0.0.2:8081/x",
            "https://127.0.0.2:8080/x",
            "http://127.0.0.3:8080/x",
        ] {
            refused(t, TargetError::NotThisOrg);
        }
        assert_eq!(same_org_target(&o, "//evil.example"), None);
    }
}
