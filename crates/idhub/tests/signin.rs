//! Sign-in: the hosted page (CSRF, wrong password, lockout, sign-out), the Okta
//! authentication API with `sessionCookieRedirect`, and `/api/v1/sessions/me`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;

const PW: &str = "Str0ngPassw0rd";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// Fetch the sign-in form; returns (csrf cookie pair, csrf token).
async fn csrf(s: &TestServer, http: &reqwest::Client) -> (String, String) {
    let r = http.get(format!("{}/login", s.base_url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let cookie = set_cookie(&r, "idhub_csrf").expect("pre-session cookie");
    let html = r.text().await.unwrap();
    let token = csrf_of(&html);
    assert!(!cookie.contains(&token), "the token is not the cookie");
    assert!(html.contains("<label for=\"username\">"));
    (cookie, token)
}

async fn form_login(s: &TestServer, http: &reqwest::Client, user: &str, pw: &str) -> reqwest::Response {
    let (cookie, token) = csrf(s, http).await;
    http.post(format!("{}/login", s.base_url))
        .header("Cookie", cookie)
        .form(&[("username", user), ("password", pw), ("csrf", &token), ("fromURI", "")])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_page_dashboard_and_sign_out() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    create_user(&s, "sarah@example.com", Some(PW), true).await;
    let http = no_redirects();
    // without the CSRF token: refused, readable page
    let r = http.post(format!("{}/login", s.base_url)).form(&[("username", "sarah@example.com"), ("password", PW)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("<h1>Request refused</h1>"));
    // wrong password
    let r = form_login(&s, &http, "sarah@example.com", "nope").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("username or password is not correct"));
    // right password: redirect to the dashboard with a session cookie
    let r = form_login(&s, &http, "SARAH@example.com", PW).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/app/UserHome");
    let raw =
        r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with("idhub_sid=")).unwrap();
    assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Lax"));
    let sid = set_cookie(&r, "idhub_sid").unwrap();
    let r = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("sarah@example.com"));
    // the dashboard without a session goes to the sign-in page
    let r = http.get(format!("{}/app/UserHome", s.base_url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?fromURI="));
    // the API sees the session
    let (st, me) = call(http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("Cookie", &sid)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["login"], "sarah@example.com");
    assert_eq!(me["amr"], json!(["pwd"]));
    // signing in again in the same browser ends the session it held (the form's token
    // is the session's, as on a ForceAuthn page)
    let (cookie, _) = csrf(&s, &http).await;
    let dash = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    let token = csrf_of(&dash.text().await.unwrap());
    let r = http
        .post(format!("{}/login", s.base_url))
        .header("Cookie", format!("{cookie}; {sid}"))
        .form(&[("username", "sarah@example.com"), ("password", PW), ("csrf", &token), ("fromURI", "")])
        .send()
        .await
        .unwrap();
    let new_sid = set_cookie(&r, "idhub_sid").unwrap();
    assert_ne!(new_sid, sid);
    let r = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the replaced session no longer works");
    let sid = new_sid;
    let dash = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    let new_token = csrf_of(&dash.text().await.unwrap());
    assert_ne!(new_token, token, "a new session has a new CSRF token");
    let token = new_token;
    // the Sign out form needs its CSRF token; then it ends the session
    let r = http.post(format!("{}/login/signout", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "a refused sign-out changes nothing");
    let r = http
        .post(format!("{}/login/signout", s.base_url))
        .header("Cookie", format!("{cookie}; {sid}"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.session.start%22")).await;
    let outcomes: Vec<&str> = logs.as_array().unwrap().iter().map(|e| e["outcome"]["result"].as_str().unwrap()).collect();
    assert_eq!(outcomes, vec!["FAILURE", "SUCCESS", "SUCCESS"]);
    let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.session.end%22")).await;
    assert_eq!(logs.as_array().unwrap().len(), 2, "the replaced session and the signed-out one: {logs}");
}

#[tokio::test]
async fn failed_attempts_lock_the_account_until_unlocked() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let u = create_user(&s, "lock@example.com", Some(PW), true).await;
    let id = u["id"].as_str().unwrap();
    let authn =
        |pw: &str| s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "lock@example.com", "password": pw}));
    for _ in 0..9 {
        let (st, body) = call(authn("wrong")).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_okta_error(&body, "E0000004");
    }
    let (st, body) = call(authn("wrong")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "LOCKED_OUT");
    let (_, user) = call(s.api(Method::GET, &format!("/api/v1/users/{id}"))).await;
    assert_eq!(user["status"], "LOCKED_OUT");
    // even the right password is refused while locked
    let (_, body) = call(authn(PW)).await;
    assert_eq!(body["status"], "LOCKED_OUT");
    assert_eq!(call(s.api(Method::POST, &format!("/api/v1/users/{id}/lifecycle/unlock"))).await.0, StatusCode::OK);
    let (st, body) = call(authn(PW)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["status"], "SUCCESS");
    let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.account.lock%22")).await;
    assert_eq!(logs.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn authn_api_session_token_and_cookie_redirect() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        create_user(&s, "api@example.com", Some(PW), true).await;
        create_user(&s, "staged@example.com", Some(PW), false).await;
        let http = no_redirects();
        let (st, body) =
            call(http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "api@example.com", "password": PW}))).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["status"], "SUCCESS");
        assert_eq!(body["_embedded"]["user"]["profile"]["login"], "api@example.com");
        let token = body["sessionToken"].as_str().unwrap().to_string();
        // a foreign redirect is refused and does not use up the token
        let r = http
            .get(format!("{}/login/sessionCookieRedirect", s.base_url))
            .query(&[("token", token.as_str()), ("redirectUrl", "https://evil.example/")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let target = format!("{}/app/UserHome", s.base_url);
        let r = http
            .get(format!("{}/login/sessionCookieRedirect", s.base_url))
            .query(&[("token", token.as_str()), ("redirectUrl", target.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], target.as_str());
        let sid = set_cookie(&r, "idhub_sid").unwrap();
        let (st, me) = call(http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("Cookie", &sid)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(me["status"], "ACTIVE");
        // the token works once
        let r = http
            .get(format!("{}/login/sessionCookieRedirect", s.base_url))
            .query(&[("token", token.as_str()), ("redirectUrl", target.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        // DELETE /sessions/me ends the session
        assert_eq!(
            http.delete(format!("{}/api/v1/sessions/me", s.base_url)).header("Cookie", &sid).send().await.unwrap().status(),
            StatusCode::NO_CONTENT
        );
        let (st, body) = call(http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("Cookie", &sid)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_okta_error(&body, "E0000007");
        // unknown user, staged user, missing fields
        for (u, p) in [("nobody@example.com", PW), ("staged@example.com", PW)] {
            let (st, body) = call(http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": u, "password": p}))).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{u}");
            assert_okta_error(&body, "E0000004");
        }
        let (st, body) = call(http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "api@example.com"}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_okta_error(&body, "E0000001");
    }
}

#[tokio::test]
async fn the_settings_page_changes_the_password_after_the_current_one() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        create_user(&s, "kai@example.com", Some("Str0ngPassw0rd"), true).await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = form_login(&s, &http, "kai@example.com", "Str0ngPassw0rd").await;
        let sid = set_cookie(&r, "idhub_sid").expect("session");
        let page = http.get(format!("{}/enduser/settings", s.base_url)).header("Cookie", &sid).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(set_cookie(&page, "idhub_csrf").is_none(), "a signed-in page's token comes from the session");
        let html = page.text().await.unwrap();
        let token = csrf_of(&html);
        assert!(html.contains("id=\"settings-login\">kai@example.com") && html.contains("id=\"mfa-status\""), "{html}");
        let cookies = sid.clone();
        let change = |current: &str, new: &str, confirm: &str, csrf: &str| {
            http.post(format!("{}/enduser/settings/password", s.base_url))
                .header("Cookie", cookies.clone())
                .form(&[("csrf", csrf), ("current", current), ("new", new), ("confirm", confirm)])
                .send()
        };
        let authn = |pw: &'static str| {
            s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "kai@example.com", "password": pw}))
        };
        // Refusals next to their field; nothing changes.
        let r = change("wrong", "N3w-Passw0rd!", "N3w-Passw0rd!", &token).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("id=\"current-error\""));
        let r = change("Str0ngPassw0rd", "N3w-Passw0rd!", "Other-Passw0rd!", &token).await.unwrap();
        assert!(r.text().await.unwrap().contains("id=\"confirm-error\""));
        let r = change("Str0ngPassw0rd", "short", "short", &token).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("id=\"new-error\""));
        let r = change("Str0ngPassw0rd", "N3w-Passw0rd!", "N3w-Passw0rd!", "forged-token-forged-token-forged-token-1").await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF");
        assert_eq!(call(authn("Str0ngPassw0rd")).await.1["status"], "SUCCESS");
        // The change.
        let r = change("Str0ngPassw0rd", "N3w-Passw0rd!", "N3w-Passw0rd!", &token).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/enduser/settings?changed=1");
        assert_eq!(call(authn("N3w-Passw0rd!")).await.1["status"], "SUCCESS");
        assert_eq!(call(authn("Str0ngPassw0rd")).await.0, StatusCode::UNAUTHORIZED);
        // Without a session: to the sign-in page.
        let r = http.get(format!("{}/enduser/settings", s.base_url)).send().await.unwrap();
        assert!(r.status().is_redirection() && r.headers()["location"].to_str().unwrap().starts_with("/login"));
    }
}

/// Targets a browser would follow to another host, or that hold control characters;
/// `{org}` stands for the server's base URL.
const FOREIGN_TARGETS: &[&str] = &[
    "//evil.example/",
    "\\\\evil.example",
    "/\\evil.example",
    "https:evil.example",
    "http://{host}@evil.example/",
    "javascript:alert(1)",
    "https://evil.example/",
    "http://{host}.evil.example/",
    "http://127.0.0.1:1/app/UserHome",
];
const CONTROL_TARGETS: &[&str] = &["/\t/evil.example", "/\n/evil.example", "/\r/x", "/\0x", "/\u{b}x", "/\u{c}x", "/\u{85}x"];

fn target(s: &TestServer, t: &str) -> String {
    t.replace("{host}", s.base_url.trim_start_matches("http://"))
}

async fn session_token(s: &TestServer, login: &str) -> String {
    let (_, body) = call(s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": login, "password": PW}))).await;
    body["sessionToken"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn redirect_targets_are_judged_by_the_origin_a_browser_would_go_to() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let http = no_redirects();
    for u in ["redir@example.com", "form@example.com", "again@example.com"] {
        create_user(&s, u, Some(PW), true).await;
    }
    let allowed = [
        ("/ok?x=1#f", "/ok?x=1#f".to_string()),
        ("/%09/evil.example", "/%09/evil.example".to_string()),
        ("/.//evil.example", format!("{}//evil.example", s.base_url)),
        ("{org}/app/UserHome", format!("{}/app/UserHome", s.base_url)),
    ];
    // sessionCookieRedirect: every refusal is a page, before the one-time token is used
    let token = session_token(&s, "redir@example.com").await;
    let redirect = |t: String, token: String| {
        let http = http.clone();
        let url = format!("{}/login/sessionCookieRedirect", s.base_url);
        async move { http.get(url).query(&[("token", token.as_str()), ("redirectUrl", t.as_str())]).send().await.unwrap() }
    };
    for t in FOREIGN_TARGETS.iter().chain(CONTROL_TARGETS) {
        let r = redirect(target(&s, t), token.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{t:?}");
        assert!(set_cookie(&r, "idhub_sid").is_none(), "{t:?}");
        assert!(r.text().await.unwrap().contains("<h1>Invalid redirect</h1>"), "{t:?}");
    }
    let mut token = Some(token);
    for (t, want) in &allowed {
        let tok = match token.take() {
            Some(t) => t,
            None => session_token(&s, "redir@example.com").await,
        };
        let r = redirect(t.replace("{org}", &s.base_url), tok).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{t:?}");
        assert_eq!(r.headers()["location"], want.as_str(), "{t:?}");
        assert!(set_cookie(&r, "idhub_sid").is_some());
    }
    // POST /login: a foreign fromURI falls back to the dashboard; a control character
    // is refused before the password is checked or a session started
    let (cookie, csrf_token) = csrf(&s, &http).await;
    let post = |from: String| {
        let (http, cookie, csrf_token) = (http.clone(), cookie.clone(), csrf_token.clone());
        let url = format!("{}/login", s.base_url);
        async move {
            http.post(url)
                .header("Cookie", cookie)
                .form(&[("username", "form@example.com"), ("password", PW), ("csrf", &csrf_token), ("fromURI", &from)])
                .send()
                .await
                .unwrap()
        }
    };
    for t in CONTROL_TARGETS {
        let r = post(target(&s, t)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{t:?}");
        assert!(set_cookie(&r, "idhub_sid").is_none(), "{t:?}");
        assert!(r.text().await.unwrap().contains("<h1>Invalid redirect</h1>"));
    }
    let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.session.start%22")).await;
    assert_eq!(logs.as_array().unwrap().len(), allowed.len(), "only the sessionCookieRedirect sign-ins so far");
    for t in ["//evil.example/", "/\\evil.example", "https:evil.example", "http://{host}@evil.example/"] {
        let r = post(target(&s, t)).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{t:?}");
        assert_eq!(r.headers()["location"], "/app/UserHome", "{t:?}");
    }
    for (t, want) in &allowed[..2] {
        let r = post(t.to_string()).await;
        assert_eq!(r.headers()["location"], want.as_str(), "{t:?}");
    }
    // GET /login?fromURI= with a live session continues only to this org
    let r = form_login(&s, &http, "again@example.com", PW).await;
    let sid = set_cookie(&r, "idhub_sid").unwrap();
    let login_page = |from: String| {
        let (http, sid) = (http.clone(), sid.clone());
        let url = format!("{}/login", s.base_url);
        async move { http.get(url).query(&[("fromURI", from.as_str())]).header("Cookie", sid).send().await.unwrap() }
    };
    for t in FOREIGN_TARGETS {
        let r = login_page(target(&s, t)).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{t:?}");
        assert_eq!(r.headers()["location"], "/app/UserHome", "{t:?}");
    }
    for t in CONTROL_TARGETS {
        let r = login_page(target(&s, t)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{t:?}");
    }
    for (t, want) in &allowed {
        let r = login_page(t.replace("{org}", &s.base_url)).await;
        assert_eq!(r.headers()["location"], want.as_str(), "{t:?}");
    }
}

/// A request to an org of the server by its `Host` (as a browser of that org sends it).
fn to_org(http: &reqwest::Client, s: &TestServer, host: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    http.request(method, format!("http://127.0.0.1:{}{path}", s.addr.port())).header("Host", host)
}

#[tokio::test]
async fn csrf_tokens_are_bound_to_the_org_and_the_session() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    create_user(&s, "tia@example.com", Some(PW), true).await;
    let http = no_redirects();
    // Org B on the same server (another host).
    let b_host = format!("localhost:{}", s.addr.port());
    let (_, b_token) = idhub_testkit::add_org(&s.db.store, "org-b", &format!("http://{b_host}")).await;
    let (st, _) = call(
        to_org(&http, &s, &b_host, Method::POST, "/api/v1/users?activate=true")
            .header("Authorization", format!("SSWS {b_token}"))
            .json(&json!({ "profile": profile("tia@example.com", "Tia", "B"), "credentials": { "password": { "value": PW } } })),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // A token org A issued, planted with its cookie in org B: refused.
    let (a_cookie, a_token) = csrf(&s, &http).await;
    let r = to_org(&http, &s, &b_host, Method::POST, "/login")
        .header("Cookie", &a_cookie)
        .form(&[("username", "tia@example.com"), ("password", PW), ("csrf", &a_token), ("fromURI", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "org A's token in org B");
    assert!(r.text().await.unwrap().contains("<h1>Request refused</h1>"));
    // The token from before sign-in does not survive it.
    let r = http
        .post(format!("{}/login", s.base_url))
        .header("Cookie", &a_cookie)
        .form(&[("username", "tia@example.com"), ("password", PW), ("csrf", &a_token), ("fromURI", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cleared = r.headers().get_all("set-cookie").iter().any(|v| v.to_str().unwrap().starts_with("idhub_csrf=;"));
    assert!(cleared, "the pre-session cookie is dropped at sign-in");
    let sid = set_cookie(&r, "idhub_sid").unwrap();
    let signout = |token: String| {
        http.post(format!("{}/login/signout", s.base_url)).header("Cookie", format!("{a_cookie}; {sid}")).form(&[("csrf", token)]).send()
    };
    assert_eq!(signout(a_token.clone()).await.unwrap().status(), StatusCode::FORBIDDEN, "pre-sign-in token after sign-in");
    let r = http.get(format!("{}/app/UserHome", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "still signed in");
    let token = csrf_of(&r.text().await.unwrap());
    assert_ne!(token, a_token);
    assert_eq!(signout(token).await.unwrap().status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_https_org_uses_host_cookies_and_hsts() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    let http = no_redirects();
    let host = "secure.idhub.test";
    let (_, token) = idhub_testkit::add_org(&s.db.store, "secure", &format!("https://{host}")).await;
    let (st, _) = call(
        to_org(&http, &s, host, Method::POST, "/api/v1/users?activate=true")
            .header("Authorization", format!("SSWS {token}"))
            .json(&json!({ "profile": profile("uli@example.com", "Uli", "S"), "credentials": { "password": { "value": PW } } })),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let page = to_org(&http, &s, host, Method::GET, "/login").send().await.unwrap();
    assert_eq!(page.headers()["strict-transport-security"], "max-age=31536000");
    let raw = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(raw.starts_with("__Host-idhub_csrf=") && raw.contains("; Path=/") && raw.contains("; Secure"), "{raw}");
    assert!(!raw.contains("Domain="));
    let pre = raw.split(';').next().unwrap().to_string();
    let csrf = csrf_of(&page.text().await.unwrap());
    let r = to_org(&http, &s, host, Method::POST, "/login")
        .header("Cookie", &pre)
        .form(&[("username", "uli@example.com"), ("password", PW), ("csrf", &csrf), ("fromURI", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let sid = set_cookie(&r, "__Host-idhub_sid").expect("a __Host- session cookie");
    assert!(set_cookie(&r, "idhub_sid").is_none());
    let dash = to_org(&http, &s, host, Method::GET, "/app/UserHome").header("Cookie", &sid).send().await.unwrap();
    assert_eq!(dash.status(), StatusCode::OK);
    // The plain-named cookie means nothing to an https org.
    let plain = sid.replacen("__Host-", "", 1);
    let r = to_org(&http, &s, host, Method::GET, "/app/UserHome").header("Cookie", plain).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // An http org sends no HSTS.
    let r = http.get(format!("{}/login", s.base_url)).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
}

/// A browser session made through the authn API and `sessionCookieRedirect`.
async fn api_session(s: &TestServer, login: &str, pw: &str) -> String {
    let (st, authn) = call(s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": login, "password": pw}))).await;
    assert_eq!(st, StatusCode::OK, "{authn}");
    let r = no_redirects()
        .get(format!("{}/login/sessionCookieRedirect", s.base_url))
        .query(&[("token", authn["sessionToken"].as_str().unwrap()), ("redirectUrl", &format!("{}/app/UserHome", s.base_url))])
        .send()
        .await
        .unwrap();
    set_cookie(&r, "idhub_sid").expect("a session")
}

async fn live(s: &TestServer, sid: &str) -> bool {
    call(s.http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("Cookie", sid)).await.0 == StatusCode::OK
}

async fn clear_events(s: &TestServer) -> usize {
    let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.session.clear%22")).await;
    logs.as_array().unwrap().len()
}

#[tokio::test]
async fn password_and_factor_changes_and_role_removal_end_the_users_sessions() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        create_user(&s, "val@example.com", Some(PW), true).await;
        // In Settings: the session it was made in stays, the others end.
        let here = api_session(&s, "val@example.com", PW).await;
        let elsewhere = api_session(&s, "val@example.com", PW).await;
        let page = no_redirects().get(format!("{}/enduser/settings", s.base_url)).header("Cookie", &here).send().await.unwrap();
        let token = csrf_of(&page.text().await.unwrap());
        let r = no_redirects()
            .post(format!("{}/enduser/settings/password", s.base_url))
            .header("Cookie", &here)
            .form(&[("csrf", token.as_str()), ("current", PW), ("new", "N3w-Passw0rd!"), ("confirm", "N3w-Passw0rd!")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(live(&s, &here).await, "the session the change was made in");
        assert!(!live(&s, &elsewhere).await, "another session of the user");
        assert_eq!(clear_events(&s).await, 1);
        // By an admin through the API: every session ends, whatever the change.
        let ops = [
            ("", json!({ "credentials": { "password": { "value": "Th1rd-Passw0rd!" } } })),
            ("/lifecycle/reset_factors", Value::Null),
            ("/lifecycle/expire_password", Value::Null),
            ("/lifecycle/reset_password?sendEmail=false", Value::Null),
        ];
        for (i, (op, body)) in ops.into_iter().enumerate() {
            let login = format!("op{i}@example.com");
            let user = create_user(&s, &login, Some(PW), true).await;
            let sid = api_session(&s, &login, PW).await;
            assert!(live(&s, &sid).await);
            let mut req = s.api(Method::POST, &format!("/api/v1/users/{}{op}", user["id"].as_str().unwrap()));
            if !body.is_null() {
                req = req.json(&body);
            }
            let (st, b) = call(req).await;
            assert!(st.is_success(), "{op}: {st} {b}");
            assert!(!live(&s, &sid).await, "{op} ends the session");
            assert_eq!(clear_events(&s).await, 2 + i, "{op} logs user.session.clear");
        }

        // An admin role taken away.
        let w = create_user(&s, "wes@example.com", Some(PW), true).await;
        let wid = w["id"].as_str().unwrap();
        let (st, _) = call(s.api(Method::POST, &format!("/api/v1/users/{wid}/roles")).json(&json!({"type": "ORG_ADMIN"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        let sid = api_session(&s, "wes@example.com", PW).await;
        let (_, roles) = call(s.api(Method::GET, &format!("/api/v1/users/{wid}/roles"))).await;
        let role = roles[0]["id"].as_str().unwrap();
        let (st, _) = call(s.api(Method::DELETE, &format!("/api/v1/users/{wid}/roles/{role}"))).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        assert!(!live(&s, &sid).await, "role removal ends the session");
    }
}

/// A signed-in Settings page: (session cookie, CSRF token).
async fn settings_session(s: &TestServer, login: &str) -> (String, String) {
    let sid = api_session(s, login, PW).await;
    let page = no_redirects().get(format!("{}/enduser/settings", s.base_url)).header("Cookie", &sid).send().await.unwrap();
    (sid, csrf_of(&page.text().await.unwrap()))
}

async fn event_count(s: &TestServer, filter: &str) -> usize {
    let (_, logs) = call(s.api(Method::GET, "/api/v1/logs").query(&[("filter", filter), ("limit", "200")])).await;
    logs.as_array().unwrap().len()
}

#[tokio::test]
async fn wrong_current_passwords_in_settings_lock_the_account_and_are_throttled() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    // Lockout: the org's limit (10) of wrong current passwords locks the account.
    let u = create_user(&s, "lou@example.com", Some(PW), true).await;
    let (sid, token) = settings_session(&s, "lou@example.com").await;
    let http = no_redirects();
    let change = |path: &'static str, current: &'static str| {
        let form = [
            ("csrf", token.clone()),
            ("current", current.to_string()),
            ("new", "N3w-Passw0rd!".into()),
            ("confirm", "N3w-Passw0rd!".into()),
        ];
        http.post(format!("{}/enduser/settings/{path}", s.base_url)).header("Cookie", &sid).form(&form).send()
    };
    for i in 1..10 {
        let r = change(if i % 2 == 0 { "password" } else { "mfa/setup" }, "wrong").await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "attempt {i}");
    }
    let r = change("password", "wrong").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("Your account is locked"), "a readable page");
    let (_, me) = call(s.api(Method::GET, &format!("/api/v1/users/{}", u["id"].as_str().unwrap()))).await;
    assert_eq!(me["status"], "LOCKED_OUT");
    assert_eq!(event_count(&s, "eventType eq \"user.account.lock\"").await, 1);
    assert_eq!(event_count(&s, "eventType eq \"user.authentication.verify\" and outcome.result eq \"FAILURE\"").await, 10);
    assert_eq!(
        call(s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": "lou@example.com", "password": PW}))).await.1
            ["status"],
        "LOCKED_OUT"
    );

    // Throttle: with lockout off, wrong passwords are still limited per username.
    let (st, _) = call(s.api(Method::PUT, "/api/v1/idhub/policies/sign-on").json(&json!({"maxAttempts": 0}))).await;
    assert_eq!(st, StatusCode::OK);
    create_user(&s, "max@example.com", Some(PW), true).await;
    let (sid, token) = settings_session(&s, "max@example.com").await;
    let mut throttled = None;
    // bounded: the limit is 12 a minute, so even across a minute's edge 30 tries reach it
    for i in 0..30 {
        let form = [("csrf", token.clone()), ("current", "wrong".to_string())];
        let r = http.post(format!("{}/enduser/settings/mfa/setup", s.base_url)).header("Cookie", &sid).form(&form).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some((i, r.text().await.unwrap()));
            break;
        }
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let (at, page) = throttled.expect("throttled");
    assert!(at >= 11, "not before the limit of 12 a minute (the sign-in counted as one): {at}");
    assert!(page.contains("Too many attempts. Wait a minute and try again."), "{page}");
    let (_, logs) =
        call(s.api(Method::GET, "/api/v1/logs").query(&[("filter", "eventType eq \"user.authentication.verify\""), ("limit", "200")]))
            .await;
    assert!(logs.as_array().unwrap().iter().any(|e| e["outcome"]["reason"] == "RATE_LIMITED"), "the refusal is logged");
}
