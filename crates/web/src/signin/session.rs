//! Browser sessions: starting one after a successful sign-in, and the [`SignedIn`]
//! extractor that only exists for a live session of an active user of this org.

use crate::html::{org_cookie, set_cookie_for};
use crate::org::CurrentOrg;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::lifecycle::can_authenticate;
use idhub_domain::policy::SignOnPolicy;
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

/// Start a session for `user`; returns it and the `Set-Cookie` header value. Only
/// [`super::complete::complete_sign_in`] calls this: every sign-in goes through the
/// org's policy first.
pub async fn start_session(
    state: &AppState,
    org: &Org,
    user: &StoredUser,
    amr: Vec<String>,
    client: &ClientInfo,
) -> Result<(Session, HeaderValue), StoreError> {
    let now = state.now();
    let policy = SignOnPolicy::from_settings(&org.settings);
    let session = Session {
        id: format!("102{}", idhub_domain::ids::random_base62(22)),
        org_id: org.id.clone(),
        user_id: user.user.id.clone(),
        amr,
        created: now,
        last_seen: now,
        idle_timeout: policy.session_idle_minutes * 60_000,
        expires: now + policy.session_lifetime_minutes * 60_000,
    };
    let secret = idhub_domain::ids::random_base62(43);
    let u = &user.user;
    let ev = NewEvent::success(
        "user.session.start",
        "User login to Okta",
        Party::new(u.id.0.clone(), "User", u.login(), u.display_name()),
        vec![],
        client.clone(),
    );
    state.store.create_session(&session, &secret, client.ip_address.as_deref(), client.user_agent.as_deref(), &[ev]).await?;
    let cookie = set_cookie_for(org, SESSION_COOKIE, &secret, None);
    Ok((session, cookie))
}

/// End the session the request's cookie names, if it has one: at sign-out, and before a
/// new sign-in in the same browser replaces it (the old session must not live on beside
/// the new one, whoever signed in).
pub async fn end_session_of_request(state: &AppState, org: &Org, headers: &HeaderMap, client: &ClientInfo) {
    let Some(secret) = org_cookie(org, headers, SESSION_COOKIE).filter(|s| !s.is_empty() && s.len() <= 64) else {
        return;
    };
    let Ok((session, user)) = state.store.session_with_user(&org.id, &secret, state.now()).await else {
        return;
    };
    let u = &user.user;
    let ev = NewEvent::success(
        "user.session.end",
        "User logout from Okta",
        Party::new(u.id.0.clone(), "User", u.login(), u.display_name()),
        vec![],
        client.clone(),
    );
    if let Err(e) = state.store.delete_session(&org.id, &session.id, state.now(), &[ev]).await {
        tracing::warn!("ending the previous session: {e}");
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
    let Some(secret) = org_cookie(&org, &parts.headers, SESSION_COOKIE).filter(|s| !s.is_empty() && s.len() <= 64) else {
        return Ok(None);
    };
    match state.store.session_with_user(&org.id, &secret, state.now()).await {
        Ok((session, user)) => Ok(Some(SignedIn { org, session, user })),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
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

/// Where a sign-in may continue to: a path on this org, or an absolute URL of this
/// org's origin. Anything else (another host, `//evil`, `javascript:`) is refused.
pub fn same_org_target(org: &Org, target: &str) -> Option<String> {
    let t = target.trim();
    if t.is_empty() || t.len() > 4096 || t.contains(['\r', '\n', '\\']) {
        return None;
    }
    if t.starts_with('/') && !t.starts_with("//") {
        return Some(t.to_string());
    }
    let rest = t.strip_prefix(&org.base_url)?;
    if rest.is_empty() {
        return Some("/".into());
    }
    (rest.starts_with('/') || rest.starts_with('?')).then(|| t.to_string())
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
    fn only_same_org_targets() {
        let o = org();
        assert_eq!(same_org_target(&o, "/app/UserHome").as_deref(), Some("/app/UserHome"));
        assert_eq!(
            same_org_target(&o, "http://127.0.0.2:8080/app/x/sso/saml?RelayState=a").as_deref(),
            Some("http://127.0.0.2:8080/app/x/sso/saml?RelayState=a")
        );
        assert_eq!(same_org_target(&o, "http://127.0.0.2:8080").as_deref(), Some("/"));
        assert_eq!(same_org_target(&o, "http://127.0.0.2:8080.evil.com/x"), None);
        assert_eq!(same_org_target(&o, "//evil.com/x"), None);
        assert_eq!(same_org_target(&o, "https://evil.com/"), None);
        assert_eq!(same_org_target(&o, "javascript:alert(1)"), None);
        assert_eq!(same_org_target(&o, "/\\evil.com"), None);
    }
}
