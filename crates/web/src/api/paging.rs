//! Okta's pagination links. `self` and `next` are separate `Link` headers with `next`
//! last, because the okta SDK keeps only the last `Link` header it sees.

use axum::http::{HeaderMap, HeaderValue};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Build `Link` headers for a listing at `base_url` + `path` with the request's
/// parameters (minus `after`) and the next cursor.
pub fn link_headers(base_url: &str, path: &str, params: &[(&str, String)], next: Option<&str>) -> HeaderMap {
    let encode = |pairs: &[(&str, String)]| -> String {
        pairs.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY))).collect::<Vec<_>>().join("&")
    };
    let mut headers = HeaderMap::new();
    let self_q = encode(params);
    let self_url = if self_q.is_empty() { format!("{base_url}{path}") } else { format!("{base_url}{path}?{self_q}") };
    if let Ok(v) = HeaderValue::from_str(&format!("<{self_url}>; rel=\"self\"")) {
        headers.append("link", v);
    }
    if let Some(cursor) = next {
        let mut with_after: Vec<(&str, String)> = vec![("after", cursor.to_string())];
        with_after.extend(params.iter().cloned());
        if let Ok(v) = HeaderValue::from_str(&format!("<{base_url}{path}?{}>; rel=\"next\"", encode(&with_after))) {
            headers.append("link", v);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_comes_last() {
        let h = link_headers("http://h", "/api/v1/users", &[("limit", "2".into()), ("filter", "status eq \"ACTIVE\"".into())], Some("abc"));
        let links: Vec<&str> = h.get_all("link").iter().filter_map(|v| v.to_str().ok()).collect();
        assert_eq!(links.len(), 2);
        assert!(links[0].ends_with("rel=\"self\""));
        assert_eq!(links[1], "<http://h/api/v1/users?after=abc&limit=2&filter=status%20eq%20%22ACTIVE%22>; rel=\"next\"");
        let h = link_headers("http://h", "/api/v1/users", &[], None);
        assert_eq!(h.get_all("link").iter().count(), 1);
    }
}
