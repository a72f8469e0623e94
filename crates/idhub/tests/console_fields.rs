//! Every field of every console page (and the end user's Settings) has a label a screen
//! reader announces and a click focuses: a `<label for>` naming its id, a wrapping
//! `<label>`, or `aria-label`/`aria-labelledby`. The pages are fetched as an administrator
//! sees them, with an Org2Org app, a group, a person and an identity provider in place.
//! Every form that posts carries the CSRF token, no page has inline script (the CSP
//! forbids it), and the same pages seen by a read-only administrator offer no form that
//! changes anything.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::browser::{signed_in_admin, PW};
use common::*;

/// The value of attribute `name` in a start tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    tag[start..].split('"').next()
}

/// The form fields of a page that nothing labels.
fn unlabelled(html: &str) -> Vec<String> {
    let mut out = vec![];
    for open in ["<input", "<select", "<textarea"] {
        let mut from = 0;
        while let Some(at) = html[from..].find(open).map(|i| from + i) {
            from = at + open.len();
            let tag = &html[at..at + html[at..].find('>').unwrap_or(0) + 1];
            if matches!(attr(tag, "type"), Some("hidden" | "submit" | "button" | "reset" | "image")) {
                continue;
            }
            if attr(tag, "aria-label").is_some() || attr(tag, "aria-labelledby").is_some() {
                continue;
            }
            if attr(tag, "id").is_some_and(|id| html.contains(&format!("for=\"{id}\""))) {
                continue;
            }
            let before = &html[..at];
            if before.rfind("<label").is_some_and(|l| before.rfind("</label>").is_none_or(|c| c < l)) {
                continue; // inside a <label>
            }
            out.push(tag.to_string());
        }
    }
    out
}

#[test]
fn the_check_itself_tells_labelled_from_unlabelled() {
    let page = r#"<label for="a">A</label><input id="a" name="a"><label><input type="checkbox" name="b"> B</label>
<input type="hidden" name="csrf"><input name="c" aria-label="C"><select name="d"></select>"#;
    assert_eq!(unlabelled(page), vec!["<select name=\"d\">".to_string()]);
}

#[tokio::test]
async fn every_console_field_has_a_label() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let mut b = signed_in_admin(&s, "boss@example.com", "SUPER_ADMIN").await;
    let person = create_user(&s, "sarah@example.com", Some(PW), true).await;
    let uid = person["id"].as_str().unwrap().to_string();
    let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors"}}))).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let (app_id, _, _) = provisioned_app(&s).await;
    let (_, dropbox) = call(s.api(Method::POST, "/api/v1/apps").json(&json!({"name": "dropbox_for_business"}))).await;
    let dropbox = dropbox["id"].as_str().unwrap().to_string();
    let p = common::saml::partner(&s, json!({})).await;
    let idp = p.idp["id"].as_str().unwrap().to_string();
    let mut pages = vec![
        "/admin/dashboard".to_string(),
        "/admin/tasks".into(),
        "/admin/search?q=sa".into(),
        "/admin/users".into(),
        "/admin/users/new".into(),
        format!("/admin/user/{uid}"),
        "/admin/groups".into(),
        format!("/admin/group/{gid}"),
        "/admin/apps/active".into(),
        "/admin/apps/catalog?q=okta".into(),
        "/admin/apps/new/okta_org2org".into(),
        "/admin/apps/new/dropbox_for_business".into(),
        "/admin/apps/self-service".into(),
        "/admin/access/identity-providers".into(),
        "/admin/access/identity-providers/add".into(),
        "/admin/access/identity-providers/new".into(),
        format!("/admin/idp/{idp}"),
        format!("/admin/idp/{idp}/mappings"),
        "/admin/access/identity-providers/routing-rules".into(),
        "/admin/access/authenticators".into(),
        "/admin/access/api/tokens".into(),
        "/admin/reports/system-log".into(),
        "/enduser/settings".into(),
    ];
    for tab in [
        "general",
        "signon",
        "provisioning",
        "provisioning?configure=1",
        "provisioning?edit=to-app",
        "assignments",
        "import",
        "push-groups",
    ] {
        pages.push(format!("/admin/app/{app_id}/{tab}"));
    }
    for tab in ["general", "signon", "assignments"] {
        pages.push(format!("/admin/app/{dropbox}/{tab}"));
    }
    let mut missing = vec![];
    for page in &pages {
        let (st, html, _) = b.get(page).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        missing.extend(unlabelled(&html).into_iter().map(|t| format!("{page}: {t}")));
        for form in html.split("<form").skip(1).map(|f| &f[..f.find("</form>").unwrap_or(f.len())]) {
            if form[..form.find('>').unwrap_or(0)].contains("method=\"post\"") && !form.contains("name=\"csrf\"") {
                missing.push(format!("{page}: a form without its CSRF token: <form{}", &form[..form.find('>').unwrap_or(0) + 1]));
            }
        }
        let inline_script = html.split("<script").skip(1).any(|t| !t[..t.find('>').unwrap_or(0)].contains(" src="));
        let handler = [" onclick=", " onload=", " onchange=", " onsubmit=", "javascript:"].iter().find(|h| html.contains(*h));
        assert!(!inline_script && handler.is_none(), "{page}: inline script {handler:?}");
    }
    assert!(missing.is_empty(), "fields without a label or forms without the CSRF token:\n{}", missing.join("\n"));

    let mut viewer = signed_in_admin(&s, "viewer@example.com", "READ_ONLY_ADMIN").await;
    let mut writable = vec![];
    for page in &pages {
        let (st, html, _) = viewer.get(page).await;
        // The pages that only add something are refused outright.
        let adds = ["/users/new", "/apps/new/", "/identity-providers/add", "/identity-providers/new"].iter().any(|a| page.contains(a));
        if adds {
            assert_eq!(st, StatusCode::FORBIDDEN, "{page}");
            continue;
        }
        assert_eq!(st, StatusCode::OK, "{page}");
        // A form a read-only admin can send: posting, with a button that submits it.
        for form in html.split("<form").skip(1).map(|f| &f[..f.find("</form>").unwrap_or(f.len())]) {
            let start = &form[..form.find('>').unwrap_or(0)];
            let action = attr(start, "action").unwrap_or("");
            let submits = form.split("<button").skip(1).any(|b| {
                let tag = &b[..b.find('>').unwrap_or(0)];
                !tag.contains("type=\"button\"") && !tag.contains(" disabled")
            }) || form.contains("type=\"submit\"");
            if start.contains("method=\"post\"") && submits && action != "/login/signout" && !page.starts_with("/enduser/") {
                writable.push(format!("{page}: {action}"));
            }
        }
    }
    assert!(writable.is_empty(), "forms offered to a read-only admin:\n{}", writable.join("\n"));
}
