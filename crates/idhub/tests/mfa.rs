//! MFA: the org policy (off / everyone / a group), TOTP enrollment at the first sign-in
//! where it is required, verification with one use per code, attempt limits, the admin
//! factor API, through both the authn API and the hosted sign-in page.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;
use idhub_core::signin::mfa::{code_at, decode_base32};

const PW: &str = "Str0ngPassw0rd";

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

async fn set_policy(s: &TestServer, policy: Value) -> (StatusCode, Value) {
    call(s.api(Method::PUT, "/api/v1/idhub/policies/sign-on").json(&policy)).await
}

async fn authn(s: &TestServer, user: &str) -> Value {
    let (st, body) = call(s.http.post(format!("{}/api/v1/authn", s.base_url)).json(&json!({"username": user, "password": PW}))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn totp_enrollment_and_verification_through_the_authn_api() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let u = create_user(&s, "mfa@example.com", Some(PW), true).await;
        let uid = u["id"].as_str().unwrap();
        assert_eq!(authn(&s, "mfa@example.com").await["status"], "SUCCESS", "MFA is off by default");
        let (st, p) = set_policy(&s, json!({"mfa": "ALWAYS"})).await;
        assert_eq!(st, StatusCode::OK, "{p}");
        // first sign-in: enrollment is required
        let body = authn(&s, "mfa@example.com").await;
        assert_eq!(body["status"], "MFA_ENROLL");
        let state_token = body["stateToken"].as_str().unwrap().to_string();
        assert!(body.get("sessionToken").is_none());
        let (st, enroll) = call(
            s.http
                .post(format!("{}/api/v1/authn/factors", s.base_url))
                .json(&json!({"stateToken": state_token, "factorType": "token:software:totp", "provider": "GOOGLE"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{enroll}");
        assert_eq!(enroll["status"], "MFA_ENROLL_ACTIVATE");
        let secret = decode_base32(enroll["_embedded"]["factor"]["_embedded"]["activation"]["sharedSecret"].as_str().unwrap()).unwrap();
        let activate = enroll["_links"]["next"]["href"].as_str().unwrap().to_string();
        let (st, body) = call(s.http.post(&activate).json(&json!({"stateToken": state_token, "passCode": "000000"}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_okta_error(&body, "E0000068");
        let code = code_at(&secret, now_secs()).unwrap();
        let (st, body) = call(s.http.post(&activate).json(&json!({"stateToken": state_token, "passCode": code}))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "SUCCESS");
        // the session made from it records both factors
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let target = format!("{}/app/UserHome", s.base_url);
        let r = http
            .get(format!("{}/login/sessionCookieRedirect", s.base_url))
            .query(&[("token", body["sessionToken"].as_str().unwrap()), ("redirectUrl", &target)])
            .send()
            .await
            .unwrap();
        let sid = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("idhub_sid="))
            .unwrap();
        let (_, me) = call(http.get(format!("{}/api/v1/sessions/me", s.base_url)).header("Cookie", sid)).await;
        assert_eq!(me["amr"], json!(["pwd", "otp"]));
        // next sign-in: verify with the enrolled factor; the same code cannot be used twice
        let body = authn(&s, "mfa@example.com").await;
        assert_eq!(body["status"], "MFA_REQUIRED");
        let verify = body["_embedded"]["factors"][0]["_links"]["verify"]["href"].as_str().unwrap().to_string();
        let st2 = body["stateToken"].as_str().unwrap().to_string();
        let (st, body) = call(s.http.post(&verify).json(&json!({"stateToken": st2, "passCode": code}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "replayed code: {body}");
        let next_code = code_at(&secret, now_secs() + 30).unwrap();
        let (st, body) = call(s.http.post(&verify).json(&json!({"stateToken": st2, "passCode": next_code}))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "SUCCESS");
        // too many wrong codes end the transaction
        let body = authn(&s, "mfa@example.com").await;
        let st3 = body["stateToken"].as_str().unwrap().to_string();
        for _ in 0..5 {
            call(s.http.post(&verify).json(&json!({"stateToken": st3, "passCode": "123456"}))).await;
        }
        let (st, body) =
            call(s.http.post(&verify).json(&json!({"stateToken": st3, "passCode": code_at(&secret, now_secs()).unwrap()}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_okta_error(&body, "E0000011");
        // admin view and reset
        let (_, factors) = call(s.api(Method::GET, &format!("/api/v1/users/{uid}/factors"))).await;
        assert_eq!(factors.as_array().unwrap().len(), 1);
        assert_eq!(factors[0]["status"], "ACTIVE");
        assert!(!factors.to_string().contains(&idhub_core::signin::mfa::base32(&secret)), "the seed is never shown to admins");
        assert_eq!(call(s.api(Method::POST, &format!("/api/v1/users/{uid}/lifecycle/reset_factors"))).await.0, StatusCode::OK);
        assert_eq!(authn(&s, "mfa@example.com").await["status"], "MFA_ENROLL");
        let (_, logs) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.authentication.auth_via_mfa%22")).await;
        let results: Vec<&str> = logs.as_array().unwrap().iter().map(|e| e["outcome"]["result"].as_str().unwrap()).collect();
        assert!(results.contains(&"SUCCESS") && results.contains(&"FAILURE"), "{results:?}");
    }
}

#[tokio::test]
async fn group_policy_applies_only_to_members() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    create_user(&s, "in@example.com", Some(PW), true).await;
    create_user(&s, "out@example.com", Some(PW), true).await;
    let (_, g) = call(s.api(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Contractors"}}))).await;
    let gid = g["id"].as_str().unwrap();
    s.api(Method::PUT, &format!("/api/v1/groups/{gid}/users/in@example.com")).send().await.unwrap();
    let (st, body) = set_policy(&s, json!({"mfa": "GROUP"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a group is required");
    assert_okta_error(&body, "E0000001");
    let (st, _) = set_policy(&s, json!({"mfa": "GROUP", "mfaGroupId": "00gnope"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = set_policy(&s, json!({"mfa": "GROUP", "mfaGroupId": gid})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(authn(&s, "in@example.com").await["status"], "MFA_ENROLL");
    assert_eq!(authn(&s, "out@example.com").await["status"], "SUCCESS");
    let (_, p) = call(s.api(Method::GET, "/api/v1/idhub/policies/sign-on")).await;
    assert_eq!(p["mfa"], "GROUP");
}

#[tokio::test]
async fn hosted_sign_in_enrolls_then_challenges() {
    let s = TestServer::start(idhub_store::Backend::Sqlite).await;
    create_user(&s, "page@example.com", Some(PW), true).await;
    set_policy(&s, json!({"mfa": "ALWAYS"})).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = |csrf_cookie: String, csrf: String| {
        let http = http.clone();
        let url = format!("{}/login", s.base_url);
        async move {
            http.post(url)
                .header("Cookie", csrf_cookie)
                .form(&[("username", "page@example.com"), ("password", PW), ("csrf", &csrf), ("fromURI", "/app/UserHome")])
                .send()
                .await
                .unwrap()
        }
    };
    let r = http.get(format!("{}/login", s.base_url)).send().await.unwrap();
    let csrf_cookie = cookie_of(&r, "idhub_csrf").unwrap();
    let csrf = csrf_of(&r.text().await.unwrap());
    let r = login(csrf_cookie.clone(), csrf.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login/mfa");
    assert!(cookie_of(&r, "idhub_sid").is_none(), "no session before the factor");
    let tx = cookie_of(&r, "idhub_tx").unwrap();
    let cookies = format!("{csrf_cookie}; {tx}");
    let page = http.get(format!("{}/login/mfa", s.base_url)).header("Cookie", &cookies).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Set up multifactor authentication"));
    let key = page.split("<code id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap();
    let secret = decode_base32(key).unwrap();
    let r = http
        .post(format!("{}/login/mfa", s.base_url))
        .header("Cookie", &cookies)
        .form(&[("code", "000000"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("not correct"));
    let code = code_at(&secret, now_secs()).unwrap();
    let r = http
        .post(format!("{}/login/mfa", s.base_url))
        .header("Cookie", &cookies)
        .form(&[("code", code.as_str()), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/app/UserHome");
    assert!(cookie_of(&r, "idhub_sid").is_some());
    // second sign-in: a challenge, not enrollment
    let r = login(csrf_cookie.clone(), csrf.clone()).await;
    let tx = cookie_of(&r, "idhub_tx").unwrap();
    let page = http
        .get(format!("{}/login/mfa", s.base_url))
        .header("Cookie", format!("{csrf_cookie}; {tx}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Verify it&#39;s you") || page.contains("Verify it's you"), "{page}");
    assert!(!page.contains("totp-secret"));
}

#[tokio::test]
async fn the_settings_page_sets_up_replaces_and_removes_the_authenticator() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let u = create_user(&s, "self@example.com", Some(PW), true).await;
        let uid = u["id"].as_str().unwrap().to_string();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = http.get(format!("{}/login", s.base_url)).send().await.unwrap();
        let csrf_cookie = cookie_of(&r, "idhub_csrf").unwrap();
        let csrf = csrf_of(&r.text().await.unwrap());
        let r = http
            .post(format!("{}/login", s.base_url))
            .header("Cookie", &csrf_cookie)
            .form(&[("username", "self@example.com"), ("password", PW), ("csrf", &csrf), ("fromURI", "")])
            .send()
            .await
            .unwrap();
        let cookies = cookie_of(&r, "idhub_sid").expect("signed in");
        let post = |path: &str, form: Vec<(&str, String)>| {
            http.post(format!("{}/enduser/settings/mfa/{path}", s.base_url)).header("Cookie", &cookies).form(&form).send()
        };
        let factors = || async {
            let (st, body) = call(s.api(Method::GET, &format!("/api/v1/users/{uid}/factors"))).await;
            assert_eq!(st, StatusCode::OK, "{body}");
            body.as_array()
                .unwrap()
                .iter()
                .map(|f| (f["id"].as_str().unwrap().to_string(), f["status"].as_str().unwrap().to_string()))
                .collect::<Vec<_>>()
        };
        // Set up: the current password first; then the key; then its first code.
        let page =
            http.get(format!("{}/enduser/settings", s.base_url)).header("Cookie", &cookies).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        assert!(page.contains("id=\"totp-setup-start\">Set up<") && page.contains("TOTP): not set up"), "{page}");
        let setup = |pw: &str| post("setup", vec![("csrf", csrf.clone()), ("current", pw.to_string())]);
        let r = setup("wrong").await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("id=\"setup-current-error\""));
        let r = post("setup", vec![("csrf", "forged-token-forged-token-forged-1".into()), ("current", PW.into())]).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF");
        assert!(factors().await.is_empty(), "refusals change nothing");
        let enroll = || async {
            let page = setup(PW).await.unwrap().text().await.unwrap();
            let key = page.split("<code id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
            let factor = page.split("name=\"factor\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            (decode_base32(&key).unwrap(), factor)
        };
        let (secret, first) = enroll().await;
        let activate =
            |factor: &str, code: String| post("activate", vec![("csrf", csrf.clone()), ("factor", factor.to_string()), ("code", code)]);
        let r = activate(&first, "000000".into()).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"totp-code-error\"") && page.contains("id=\"totp-secret\""), "the same key is shown again: {page}");
        let r = activate(&first, code_at(&secret, now_secs()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/enduser/settings?mfa=set");
        assert_eq!(factors().await, vec![(first.clone(), "ACTIVE".to_string())]);
        // The factor now guards sign-in when the policy asks for one.
        set_policy(&s, json!({"mfa": "ALWAYS"})).await;
        assert_eq!(authn(&s, "self@example.com").await["status"], "MFA_REQUIRED");

        // Replace: the old authenticator keeps working until the new one is verified.
        let (new_secret, second) = enroll().await;
        assert_eq!(factors().await.len(), 2);
        let r = activate(&second, code_at(&new_secret, now_secs()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(factors().await, vec![(second.clone(), "ACTIVE".to_string())], "the old one is gone");
        let r = activate(&first, code_at(&secret, now_secs()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "the replaced factor cannot come back");

        // Remove: refused while the policy requires a factor, then allowed.
        let remove = |pw: &str| post("remove", vec![("csrf", csrf.clone()), ("current", pw.to_string())]);
        let r = remove(PW).await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"remove-current-error\""));
        assert!(page.contains("<details open><summary id=\"totp-remove-open\">"), "the refusal is shown, not folded away: {page}");
        set_policy(&s, json!({"mfa": "OFF"})).await;
        assert_eq!(remove("wrong").await.unwrap().status(), StatusCode::BAD_REQUEST);
        assert_eq!(factors().await.len(), 1);
        let r = remove(PW).await.unwrap();
        assert_eq!(r.headers()["location"], "/enduser/settings?mfa=removed");
        assert!(factors().await.is_empty());
        let (_, log) = call(s.api(Method::GET, "/api/v1/logs?filter=eventType+sw+%22user.mfa.factor%22")).await;
        let types: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["eventType"].as_str().unwrap()).collect();
        for t in ["user.mfa.factor.enroll", "user.mfa.factor.activate", "user.mfa.factor.deactivate"] {
            assert!(types.contains(&t), "{t} in {types:?}");
        }
    }
}
