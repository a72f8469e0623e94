//! Server-rendered pages: one layout, HTML escaping, CSRF tokens (double-submit
//! cookie), and the security headers every page carries.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

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

/// Name of the CSRF cookie.
pub const CSRF_COOKIE: &str = "idhub_csrf";

/// The CSRF token of this browser (from its cookie), or a new one to set.
pub fn csrf_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, CSRF_COOKIE) {
        Some(t) if t.len() >= 32 && t.chars().all(|c| c.is_ascii_alphanumeric()) => (t, false),
        _ => (idhub_domain::ids::random_base62(43), true),
    }
}

/// Does the submitted form token match the browser's CSRF cookie?
pub fn csrf_ok(headers: &HeaderMap, submitted: Option<&str>) -> bool {
    match (cookie(headers, CSRF_COOKIE), submitted) {
        (Some(c), Some(s)) => c.len() >= 32 && constant_time_eq(c.as_bytes(), s.as_bytes()),
        _ => false,
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
        assert!(csrf_ok(&h, Some("abcdefghijklmnopqrstuvwxyz0123456789")));
        assert!(!csrf_ok(&h, Some("abcdefghijklmnopqrstuvwxyz012345678X")));
        assert!(!csrf_ok(&h, None));
        assert!(!csrf_ok(&HeaderMap::new(), Some("abcdefghijklmnopqrstuvwxyz0123456789")));
        let c = set_cookie("s", "v", true, Some(10));
        assert_eq!(c.to_str().unwrap_or_default(), "s=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=10");
    }
}
