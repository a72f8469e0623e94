//! A small SAML service provider for `idhub demo`, standing in for Dropbox Business: it
//! trusts one IdP (an app of the hub org), verifies each posted Response with the saml
//! crate's SP verifier, and shows who signed in with which attributes. It is a demo of
//! the wire, not a product surface: sign-ins live in memory only.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use idhub_saml::metadata::{sp_metadata, SpMetadataSpec};
use idhub_saml::{Certificate, TrustPolicy};
use idhub_web::html::{add_security_headers, escape, page};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The demo SP's configuration and its last sign-ins.
#[derive(Debug)]
pub struct DemoSp {
    base_url: String,
    trust: RwLock<Option<(String, Certificate)>>,
    seen: RwLock<Vec<String>>,
}

impl DemoSp {
    /// An SP at `base_url` that trusts nobody yet.
    pub fn new(base_url: impl Into<String>) -> Arc<DemoSp> {
        Arc::new(DemoSp { base_url: base_url.into(), trust: RwLock::new(None), seen: RwLock::new(vec![]) })
    }

    /// The SP's entity id (the Audience URI to configure in the IdP's app).
    pub fn entity_id(&self) -> String {
        format!("{}/saml/metadata", self.base_url)
    }

    /// The ACS URL (the Single Sign-On URL to configure in the IdP's app).
    pub fn acs_url(&self) -> String {
        format!("{}/saml/acs", self.base_url)
    }

    /// Trust the IdP with this issuer and signing certificate.
    pub fn trust(&self, issuer: String, cert: Certificate) {
        if let Ok(mut t) = self.trust.write() {
            *t = Some((issuer, cert));
        }
    }
}

/// The SP's routes.
pub fn router(sp: Arc<DemoSp>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/saml/metadata", get(metadata))
        .route("/saml/acs", post(acs))
        .route("/static/idhub.css", get(idhub_web::signin::pages::stylesheet))
        .with_state(sp)
}

fn render(status: StatusCode, title: &str, body: &str) -> Response {
    let mut r = (status, page(title, "Dropbox Business (demo SP)", body)).into_response();
    add_security_headers(r.headers_mut());
    r
}

async fn home(State(sp): State<Arc<DemoSp>>) -> Response {
    let seen = sp.seen.read().map(|s| s.clone()).unwrap_or_default();
    let list = if seen.is_empty() {
        "<p>Nobody has signed in yet. Start from the Dropbox tile on the hub's dashboard.</p>".to_string()
    } else {
        format!("<p>Recent sign-ins:</p><ul>{}</ul>", seen.iter().rev().map(|s| format!("<li>{}</li>", escape(s))).collect::<String>())
    };
    render(
        StatusCode::OK,
        "Dropbox Business (demo)",
        &format!("<section class=\"card\"><h1>Dropbox Business (demo SP)</h1>{list}</section>"),
    )
}

async fn metadata(State(sp): State<Arc<DemoSp>>) -> Response {
    let (entity, acs) = (sp.entity_id(), sp.acs_url());
    match sp_metadata(&SpMetadataSpec {
        entity_id: &entity,
        acs_url: &acs,
        authn_requests_signed: false,
        want_assertions_signed: true,
        signing_certificate: None,
        name_id_format: None,
    }) {
        Ok(xml) => ([(axum::http::header::CONTENT_TYPE, "application/xml")], xml).into_response(),
        Err(e) => render(StatusCode::INTERNAL_SERVER_ERROR, "Error", &escape(&e.to_string())),
    }
}

async fn acs(
    State(sp): State<Arc<DemoSp>>,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some((issuer, cert)) = sp.trust.read().ok().and_then(|t| t.clone()) else {
        return render(StatusCode::SERVICE_UNAVAILABLE, "Not configured", "<p>This SP does not trust any IdP yet.</p>");
    };
    let Some(encoded) = form.ok().and_then(|f| f.0.get("SAMLResponse").cloned()) else {
        return render(StatusCode::BAD_REQUEST, "No SAMLResponse", "<p>The form carried no SAMLResponse.</p>");
    };
    let mut policy = TrustPolicy::new(issuer, vec![cert], sp.acs_url(), sp.entity_id());
    policy.allow_idp_initiated = true;
    match idhub_saml::verify_response(&encoded, &policy, chrono::Utc::now()) {
        Ok(a) => {
            let who = a.name_id().value.clone();
            if let Ok(mut seen) = sp.seen.write() {
                seen.push(who.clone());
                let excess = seen.len().saturating_sub(20);
                seen.drain(..excess);
            }
            let attrs: String =
                a.attributes().iter().map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v.join(", ")))).collect();
            let body = format!(
                "<section class=\"card\"><h1 id=\"signed-in\">Signed in to Dropbox Business (demo) as {}</h1>\
<p>The SAML Response from {} verified (signature, audience, recipient, time).</p><table class=\"attrs\">{attrs}</table></section>",
                escape(&who),
                escape(a.issuer()),
            );
            let mut r = Html(page("Signed in", "Dropbox Business (demo SP)", &body)).into_response();
            add_security_headers(r.headers_mut());
            r
        }
        Err(e) => render(
            StatusCode::FORBIDDEN,
            "Refused",
            &format!("<section class=\"card\"><h1>Sign-in refused</h1><p>{} (reason: {})</p></section>", escape(e.summary()), e.reason()),
        ),
    }
}
