//! Server-rendered pages: one layout, HTML escaping, the org's cookies (`__Host-` on
//! https orgs), CSRF tokens bound to the session (or a pre-session cookie) and the org,
//! and the security headers every page carries.

use crate::org::CurrentOrg;
use crate::AppState;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use idhub_store::orgs::Org;

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A full page in idhub's layout. `body` must already be escaped HTML.
pub fn page(title: &str, org_name: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · {org}</title><link rel=\"stylesheet\" href=\"/static/idhub.css\"></head>\
<body><header class=\"top\"><span class=\"brand\">{org}</span></header><main>{body}</main></body></html>",
        title = escape(title),
        org = escape(org_name),
    ))
}

/// A readable error page with a status.
pub fn error_page(status: axum::http::StatusCode, org_name: &str, title: &str, message: &str) -> Response {
    let body =
        format!("<section class=\"card\"><h1>{}</h1><p>{}</p><p><a href=\"/\">Back</a></p></section>", escape(title), escape(message));
    (status, page(title, org_name, &body)).into_response()
}

/// Name of the pre-session cookie: a random value that a signed-out browser's CSRF
/// token is bound to (the token itself is never a cookie).
pub const PRE_SESSION_COOKIE: &str = "idhub_csrf";

/// The name a cookie has for this org: `__Host-` prefixed on https orgs (so no other
/// host or path can set or shadow it).
pub fn cookie_name(org: &Org, base: &str) -> String {
    if crate::signin::session::is_https(org) {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// One of the org's cookies (by base name) from the request.
pub fn org_cookie(org: &Org, headers: &HeaderMap, base: &str) -> Option<String> {
    cookie(headers, &cookie_name(org, base))
}

/// A `Set-Cookie` for one of the org's cookies (by base name).
pub fn set_cookie_for(org: &Org, base: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    set_cookie(&cookie_name(org, base), value, crate::signin::session::is_https(org), max_age_secs)
}

/// A `Set-Cookie` that removes the pre-session cookie (at sign-in: its tokens die).
pub fn clear_pre_session_cookie(org: &Org) -> HeaderValue {
    set_cookie_for(org, PRE_SESSION_COOKIE, "", Some(0))
}

/// The request's CSRF token. It is a keyed MAC (the server key) over the org and what
/// the browser holds: its session when signed in, else its pre-session cookie. So a
/// token works only in the org and the session it was made for: a new session (every
/// sign-in) means a new token, and a token planted from elsewhere does not match.
#[derive(Debug, Clone)]
pub struct Csrf {
    pub token: String,
    /// The pre-session cookie to set (a signed-out browser that had none).
    set: Option<HeaderValue>,
}

impl Csrf {
    /// The token for a session (`Some(id)`) or a pre-session value.
    fn derive(state: &AppState, org: &Org, session_id: Option<&str>, pre: &str) -> String {
        match session_id {
            Some(id) => state.settings.sealing_key.mac(&format!("csrf:{}:session", org.id), id.as_bytes()),
            None => state.settings.sealing_key.mac(&format!("csrf:{}:pre-session", org.id), pre.as_bytes()),
        }
    }

    /// The token of a request: its session's (the one a `SignedIn` extractor found, else
    /// looked up), or its pre-session cookie's.
    pub async fn of_request(state: &AppState, org: &Org, parts: &Parts) -> Result<Csrf, idhub_store::StoreError> {
        if let Some(s) = parts.extensions.get::<crate::signin::session::SignedIn>() {
            return Ok(Csrf { token: Self::derive(state, org, Some(&s.session.id), ""), set: None });
        }
        if let Some(s) = crate::signin::session::session_of_request(state, parts).await? {
            return Ok(Csrf { token: Self::derive(state, org, Some(&s.session.id), ""), set: None });
        }
        match org_cookie(org, &parts.headers, PRE_SESSION_COOKIE)
            .filter(|v| v.len() >= 32 && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            Some(pre) => Ok(Csrf { token: Self::derive(state, org, None, &pre), set: None }),
            None => {
                let pre = idhub_domain::ids::random_base62(43);
                Ok(Csrf { token: Self::derive(state, org, None, &pre), set: Some(set_cookie_for(org, PRE_SESSION_COOKIE, &pre, None)) })
            }
        }
    }

    /// Does a submitted token match? (Never for a browser that had no binding yet.)
    pub fn matches(&self, submitted: Option<&str>) -> bool {
        self.set.is_none() && submitted.is_some_and(|s| constant_time_eq(self.token.as_bytes(), s.as_bytes()))
    }

    /// The `Set-Cookie` values a page showing this token must send.
    pub fn cookies(&self) -> Vec<HeaderValue> {
        self.set.iter().cloned().collect()
    }

    /// Append [`Csrf::cookies`] to a response.
    pub fn attach(&self, resp: &mut Response) {
        for c in self.cookies() {
            resp.headers_mut().append(header::SET_COOKIE, c);
        }
    }
}

impl FromRequestParts<AppState> for Csrf {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(org) = parts.extensions.get::<CurrentOrg>().map(|o| o.0.clone()) else {
            return Err((StatusCode::NOT_FOUND, "Not Found\n").into_response());
        };
        Csrf::of_request(state, &org, parts).await.map_err(|e| crate::error::ApiError::internal(e.to_string()).into_response())
    }
}

/// The page for a form whose CSRF token does not match.
pub fn csrf_refused(org_name: &str) -> Response {
    let mut r = error_page(
        StatusCode::FORBIDDEN,
        org_name,
        "Request refused",
        "The form has expired or did not come from this site. Go back, reload the page and try again.",
    );
    add_security_headers(r.headers_mut());
    r
}

/// A form of the sign-in and settings pages whose CSRF token matched (field `csrf`),
/// with the request's token for the page it answers with. Otherwise a readable 403
/// page, and the handler does not run.
pub struct CsrfForm<T> {
    pub form: T,
    pub csrf: Csrf,
}

impl<T: serde::de::DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let csrf = Csrf::from_request_parts(&mut parts, state).await?;
        let org_name = parts.extensions.get::<CurrentOrg>().map(|o| o.0.name.clone()).unwrap_or_default();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.map_err(|_| csrf_refused(&org_name))?;
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        let submitted = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        if !csrf.matches(submitted) {
            return Err(csrf_refused(&org_name));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let Form(form) = Form::<T>::from_request(req, state).await.map_err(|_| {
            let mut r = error_page(StatusCode::BAD_REQUEST, &org_name, "Bad form", "The form could not be read. Go back and try again.");
            add_security_headers(r.headers_mut());
            r
        })?;
        Ok(CsrfForm { form, csrf })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// A `Set-Cookie` value with idhub's attributes: HttpOnly, SameSite=Lax, Path=/, and
/// Secure whenever the org is served over https.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_secs: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Security headers for every page: a CSP without inline scripts, no framing, no sniffing.
pub fn add_security_headers(headers: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(headers, "content-security-policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'");
    set(headers, "x-frame-options", "DENY");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "cache-control", "no-store");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_cookies() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; idhub_csrf=abcdefghijklmnopqrstuvwxyz0123456789; b=2"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"abc", b"ab"));
        let c = set_cookie("s", "v", true, Some(10));
        assert_eq!(c.to_str().unwrap_or_default(), "s=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=10");
    }
}
