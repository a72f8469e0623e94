//! A browser-like client for the console tests: keeps cookies by hand, sends the CSRF
//! token with every form, never follows redirects.

use super::*;

/// The password of the users these helpers create.
pub const PW: &str = "Str0ngPassw0rd";

/// A browser-like session: keeps cookies by hand, never follows redirects.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: std::collections::BTreeMap<String, String>,
    /// The CSRF token of the last page with a form (it changes with the session).
    pub csrf: Option<String>,
}

impl Browser {
    pub fn new(s: &TestServer) -> Self {
        Browser {
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            base: s.base_url.clone(),
            cookies: Default::default(),
            csrf: None,
        }
    }
    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    pub fn absorb(&mut self, r: &reqwest::Response) {
        if r.headers().get_all("set-cookie").iter().any(|v| v.to_str().unwrap().starts_with("idhub_sid=")) {
            self.csrf = None; // a new session: a new token
        }
        for v in r.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }
    pub async fn get(&mut self, path: &str) -> (StatusCode, String, Option<String>) {
        let r = self.http.get(format!("{}{path}", self.base)).header("Cookie", self.cookie_header()).send().await.unwrap();
        self.absorb(&r);
        let loc = r.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        let (status, body) = (r.status(), r.text().await.unwrap());
        self.learn(&body);
        (status, body, loc)
    }
    /// Remember the page's CSRF token.
    fn learn(&mut self, html: &str) {
        if html.contains("name=\"csrf\" value=\"") {
            self.csrf = Some(csrf_of(html));
        }
    }
    /// The CSRF token for the next form: the last page's, or a page's fetched for it.
    pub async fn csrf(&mut self) -> String {
        if self.csrf.is_none() {
            let (_, _, to) = self.get("/app/UserHome").await;
            if to.is_some() {
                self.get("/login").await;
            }
        }
        self.csrf.clone().unwrap_or_default()
    }
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
        let csrf = self.csrf().await;
        let mut f: Vec<(&str, &str)> = form.to_vec();
        f.push(("csrf", &csrf));
        let r = self.http.post(format!("{}{path}", self.base)).header("Cookie", self.cookie_header()).form(&f).send().await.unwrap();
        self.absorb(&r);
        let loc = r.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        let (status, body) = (r.status(), r.text().await.unwrap());
        self.learn(&body);
        (status, body, loc)
    }
    pub async fn sign_in(&mut self, login: &str) {
        self.get("/login").await;
        let (st, _, loc) = self.post("/login", &[("username", login), ("password", PW), ("fromURI", "")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "sign in {login}");
        assert_eq!(loc.as_deref(), Some("/app/UserHome"));
    }
}

pub async fn admin_user(s: &TestServer, login: &str, role: &str) {
    let u = create_user(s, login, Some(PW), true).await;
    let (st, body) =
        call(s.api(Method::POST, &format!("/api/v1/users/{}/roles", u["id"].as_str().unwrap())).json(&json!({"type": role}))).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
}

/// A browser signed in as a new administrator with `role`.
pub async fn signed_in_admin(s: &TestServer, login: &str, role: &str) -> Browser {
    admin_user(s, login, role).await;
    let mut b = Browser::new(s);
    b.sign_in(login).await;
    b
}
