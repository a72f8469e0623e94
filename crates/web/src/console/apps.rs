//! Applications > Applications and Browse App Catalog: the app list, the catalog with its
//! search, the "Add Integration" wizard (General Settings, Sign-On Options), and the
//! General tab of an app (label, visibility, auto-submit, activate/deactivate, delete).
//! Forms name their inputs by the API's field paths (`settings.app.baseUrl`), so the
//! service's validation errors land next to the field that caused them.

use super::app_tabs::{app_page, Tab};
use super::{done, error_context, field, notice, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_core::applications;
use idhub_core::permissions::OrgAction;
use idhub_domain::application::{
    catalog, CatalogEntry, Endpoints, SignOnMode, CATALOG, NAMEID_FORMATS, SILENT_PROVISIONING_APPS, USERNAME_FORMATS,
};
use idhub_store::apps::AppQuery;
use serde_json::{json, Map, Value};

/// How a form field is shown and read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    /// A checkbox; the text beside it.
    Check(&'static str),
    /// A checkbox that sets its field to false when checked ("Disable Force
    /// Authentication" is `honorForceAuthn: false`); the text beside it.
    CheckOff(&'static str),
    /// A choice among (value, label).
    Select(&'static [(&'static str, &'static str)]),
}

/// One form field, named by the API field path it sets.
#[derive(Debug, Clone, Copy)]
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

const fn text(name: &'static str, label: &'static str, help: &'static str) -> FormField {
    FormField { name, label, help, kind: Kind::Text }
}

const NAMEID_CHOICES: [(&str, &str); 5] = [
    (NAMEID_FORMATS[0], "Unspecified"),
    (NAMEID_FORMATS[1], "EmailAddress"),
    (NAMEID_FORMATS[2], "x509SubjectName"),
    (NAMEID_FORMATS[3], "Persistent"),
    (NAMEID_FORMATS[4], "Transient"),
];
const UPDATE_ON: [(&str, &str); 2] = [("CREATE_AND_UPDATE", "Create and update"), ("CREATE", "Create only")];

/// The General Settings of a template (wizard step 1 and the General tab).
pub fn general_fields(entry: &CatalogEntry) -> Vec<FormField> {
    let mut v = vec![text("label", "Application label", "This label displays under the app on your home page")];
    match entry.name {
        "okta_org2org" => v.push(text(
            "settings.app.baseUrl",
            "Base Url",
            "Required field for SSO and Provisioning: Please enter the login URL of the target Okta Org",
        )),
        "google" => v.push(text("settings.app.domain", "Your Google Apps domain", "For example example.com")),
        "bookmark" => v.push(text("settings.app.url", "URL", "The URL the tile opens")),
        _ => {}
    }
    v.push(FormField {
        kind: Kind::Check("Do not display application icon to users"),
        ..text("visibility.hide.web", "Application Visibility", "")
    });
    v.push(FormField {
        kind: Kind::Check("Automatically log in when user lands on login page"),
        ..text("visibility.autoSubmitToolbar", "Browser plugin auto-submit", "")
    });
    v
}

/// The Sign-On Options of a template (wizard step 2 and the Sign On tab).
pub fn sign_on_fields(entry: &CatalogEntry) -> Vec<FormField> {
    let mut v = vec![];
    if entry.mode == SignOnMode::Saml2 {
        v.push(text(
            "settings.signOn.defaultRelayState",
            "Default Relay State",
            "All IDP-initiated requests will include this RelayState.",
        ));
        v.push(FormField {
            kind: Kind::CheckOff("Never prompt user to re-authenticate."),
            ..text(
                "settings.signOn.honorForceAuthn",
                "Disable Force Authentication",
                "When a service provider's request asks for fresh authentication (ForceAuthn), the user enters their password again unless this is checked.",
            )
        });
    }
    if entry.endpoints == Endpoints::Custom {
        v.push(text("settings.signOn.ssoAcsUrl", "Single sign-on URL", "The location where the SAML assertion is sent with a HTTP POST"));
        v.push(text("settings.signOn.audience", "Audience URI (SP Entity ID)", "The intended audience of the SAML assertion"));
        v.push(FormField {
            name: "settings.signOn.subjectNameIdFormat",
            label: "Name ID format",
            help: "",
            kind: Kind::Select(&NAMEID_CHOICES),
        });
    }
    if entry.endpoints == Endpoints::HubIdp {
        v.push(text("settings.app.acsUrl", "Hub ACS URL", "Enter your Source org Assertion Consumer Service URL"));
        v.push(text("settings.app.audRestriction", "Audience URI", "Enter the Audience URI of the identity provider in the Hub org"));
    }
    if SILENT_PROVISIONING_APPS.contains(&entry.name) {
        v.push(FormField {
            kind: Kind::Check("Enabled"),
            ..text(
                "settings.idhub.silentProvisioning",
                "Silent Provisioning",
                "The app creates an account for an assigned user at their first sign-on, without an invitation.",
            )
        });
    }
    v.push(FormField {
        name: "credentials.userNameTemplate.template",
        label: "Application username format",
        help: "Choose a format to use as the default username value when assigning the application to users.",
        kind: Kind::Select(&USERNAME_FORMATS),
    });
    v.push(FormField { name: "credentials.updateOn", label: "Update application username on", help: "", kind: Kind::Select(&UPDATE_ON) });
    v.push(FormField {
        kind: Kind::Check("Allow users to securely see their password (Recommended)"),
        ..text("credentials.revealPassword", "Password reveal", "")
    });
    v
}

fn pointer(name: &str) -> String {
    format!("/{}", name.replace('.', "/"))
}

/// Fields as the templates render them, with values from `body` (an app in Okta's shape,
/// or what was submitted) and errors keyed by field name.
pub fn render_fields(fields: &[FormField], body: &Value, errors: &Map<String, Value>) -> Vec<Value> {
    fields
        .iter()
        .map(|f| {
            let v = body.pointer(&pointer(f.name));
            let value = v.and_then(Value::as_str).unwrap_or_default();
            let mut out = json!({
                "name": f.name, "id": f.name.replace('.', "-"), "label": f.label, "help": f.help,
                "value": value, "error": errors.get(f.name),
            });
            match f.kind {
                Kind::Text => out["kind"] = json!("text"),
                Kind::Check(t) => {
                    out["kind"] = json!("check");
                    out["text"] = json!(t);
                    out["checked"] = json!(v.and_then(Value::as_bool).unwrap_or(false));
                }
                Kind::CheckOff(t) => {
                    out["kind"] = json!("check");
                    out["text"] = json!(t);
                    out["checked"] = json!(v.and_then(Value::as_bool) == Some(false));
                }
                Kind::Select(choices) => {
                    out["kind"] = json!("select");
                    let mut options: Vec<Value> =
                        choices.iter().map(|(cv, cl)| json!({ "value": cv, "label": cl, "selected": *cv == value })).collect();
                    if !value.is_empty() && !choices.iter().any(|(cv, _)| *cv == value) {
                        options.push(json!({ "value": value, "label": format!("Custom: {value}"), "selected": true }));
                    }
                    out["options"] = json!(options);
                }
            }
            out
        })
        .collect()
}

/// Set the value at a dotted API field path (`settings.app.baseUrl`), making the objects
/// on the way.
pub fn set_path(body: &mut Value, name: &str, value: Value) {
    let parts: Vec<&str> = name.split('.').collect();
    let mut at = body;
    for p in &parts[..parts.len() - 1] {
        if !at.get(*p).is_some_and(Value::is_object) {
            at[*p] = json!({});
        }
        at = &mut at[*p];
    }
    at[parts[parts.len() - 1]] = value;
}

/// Set `fields` from a submitted form into `body`: checkboxes absent from the form are
/// off (browsers send only checked ones); other fields absent from the form keep their value.
pub fn apply_form(fields: &[FormField], form: &[(String, String)], body: &mut Value) {
    for f in fields {
        let value = match (f.kind, field(form, f.name)) {
            (Kind::Check(_), v) => json!(v == Some("on")),
            (Kind::CheckOff(_), v) => json!(v != Some("on")),
            (_, Some(v)) => json!(v.trim()),
            (_, None) => continue,
        };
        set_path(body, f.name, value);
        if f.name == "visibility.hide.web" {
            body["visibility"]["hide"]["iOS"] = body["visibility"]["hide"]["web"].clone();
        }
    }
}

fn entry_json(e: &CatalogEntry) -> Value {
    json!({
        "name": e.name, "display_name": e.display_name, "description": e.description, "mode": e.mode.as_str(),
        "provisioning": e.provisioning, "saml": e.mode == SignOnMode::Saml2,
        "hub": e.endpoints == Endpoints::HubIdp, "custom": e.endpoints == Endpoints::Custom,
    })
}

/// `GET /admin/apps/active`
pub async fn list(State(state): State<AppState>, admin: Admin, params: Params) -> Response {
    let q = params.get("q").unwrap_or_default().trim().to_string();
    let query = AppQuery { q: Some(q.as_str()).filter(|q| !q.is_empty()), status: None, name: None, after_seq: 0, limit: 500 };
    let apps: Vec<Value> = match state.store.list_apps(&admin.org().id, &query).await {
        Ok(apps) => apps
            .iter()
            .map(|a| {
                let kind = catalog(&a.name).map(|c| c.display_name).unwrap_or(a.name.as_str());
                json!({ "id": a.id, "label": a.label, "status": a.status, "kind": kind, "mode": a.sign_on_mode })
            })
            .collect(),
        Err(e) => return super::page_error(&admin, StatusCode::BAD_REQUEST, "Cannot list applications", &e.to_string()),
    };
    render(&admin, "apps.html", "apps", "Applications", json!({ "apps": apps, "q": q, "notice": notice(&params) }), StatusCode::OK)
}

/// `GET /admin/apps/catalog`: Browse App Integration Catalog, searchable.
pub async fn browse(admin: Admin, params: Params) -> Response {
    let q = params.get("q").unwrap_or_default().trim().to_string();
    let needle = q.to_lowercase();
    let entries: Vec<Value> = CATALOG
        .iter()
        .filter(|e| {
            needle.is_empty()
                || e.display_name.to_lowercase().contains(&needle)
                || e.description.to_lowercase().contains(&needle)
                || e.name.contains(&needle)
        })
        .map(entry_json)
        .collect();
    render(&admin, "catalog.html", "catalog", "Browse App Integration Catalog", json!({ "entries": entries, "q": q }), StatusCode::OK)
}

fn wizard(
    admin: &Admin,
    entry: &CatalogEntry,
    step: u8,
    body: &Value,
    error: Option<Value>,
    errors: &Map<String, Value>,
    status: StatusCode,
) -> Response {
    let general = general_fields(entry);
    // the General Settings ride along as hidden inputs on step 2
    let carried: Vec<Value> = render_fields(&general, body, &Map::new())
        .into_iter()
        .map(|f| {
            let value = if f["kind"] == "check" {
                if f["checked"] == true {
                    json!("on")
                } else {
                    json!("")
                }
            } else {
                f["value"].clone()
            };
            json!({ "name": f["name"], "value": value })
        })
        .collect();
    let ctx = json!({
        "entry": entry_json(entry),
        "step": step,
        "general": render_fields(&general, body, errors),
        "sign_on": render_fields(&sign_on_fields(entry), body, errors),
        "carried": carried,
        "error": error,
    });
    render(admin, "app_new.html", "catalog", &format!("Add {}", entry.display_name), ctx, status)
}

fn default_body(entry: &CatalogEntry) -> Value {
    json!({
        "name": entry.name, "label": entry.display_name,
        "credentials": { "userNameTemplate": { "template": entry.default_username_template }, "updateOn": "CREATE_AND_UPDATE", "revealPassword": true },
        "settings": { "signOn": { "subjectNameIdFormat": entry.default_name_id_format, "honorForceAuthn": true } },
    })
}

/// `GET /admin/apps/new/{name}`: the wizard's first step.
pub async fn new_form(admin: Admin, Path(name): Path<String>) -> Response {
    let Some(entry) = catalog(&name) else {
        return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such app in the catalog.");
    };
    if let Err(r) = admin.require(OrgAction::ManageApplications) {
        return r;
    }
    wizard(&admin, entry, 1, &default_body(entry), None, &Map::new(), StatusCode::OK)
}

/// `POST /admin/apps/new/{name}`: step 1 checks the General Settings and shows the
/// Sign-On Options; step 2 adds the app (active) and opens it.
pub async fn create(State(state): State<AppState>, Path(name): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let Some(entry) = catalog(&name) else {
        return super::page_error(&admin, StatusCode::NOT_FOUND, "Not found", "There is no such app in the catalog.");
    };
    let general = general_fields(entry);
    let mut body = default_body(entry);
    apply_form(&general, &form, &mut body);
    let final_step = field(&form, "step") == Some("2");
    if final_step {
        apply_form(&sign_on_fields(entry), &form, &mut body);
    }
    let checked = idhub_domain::application::validate_app(&body).map_err(crate::error::ApiError::from);
    let result = match checked {
        Err(e) => Err(e),
        Ok(_) if !final_step => return wizard(&admin, entry, 2, &body, None, &Map::new(), StatusCode::OK),
        Ok(_) => applications::create(&state.core, admin.org(), &admin.actor(), &body, true).await.map_err(crate::error::ApiError::from),
    };
    match result {
        Ok(app) => done(&format!("/admin/app/{}/general", app.id), &format!("{} added.", app.label)),
        Err(e) => {
            let (err, errors) = error_context(&e);
            let in_general = errors.keys().any(|k| general.iter().any(|f| f.name == k));
            // a step-2 field's error on step 1 (custom SAML's endpoints) just moves on to step 2
            if !final_step && !in_general {
                return wizard(&admin, entry, 2, &body, None, &Map::new(), StatusCode::OK);
            }
            wizard(&admin, entry, if in_general { 1 } else { 2 }, &body, Some(err), &errors, e.status)
        }
    }
}

/// `GET /admin/app/{id}` and `/admin/app/{id}/general`
pub async fn general(State(state): State<AppState>, admin: Admin, params: Params, Path(id): Path<String>) -> Response {
    app_page(&state, &admin, &id, Tab::General, json!({ "notice": notice(&params) }), StatusCode::OK).await
}

/// `POST /admin/app/{id}/general`: label, visibility, auto-submit and the template's
/// app settings.
pub async fn save_general(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    save_tab(&state, &admin, &id, Tab::General, &form).await
}

/// Save one tab's fields through the applications service; errors go next to the field.
pub async fn save_tab(state: &AppState, admin: &Admin, id: &str, tab: Tab, form: &[(String, String)]) -> Response {
    let app = match applications::load(&state.core, admin.org(), id).await.map_err(crate::error::ApiError::from) {
        Ok(a) => a,
        Err(_) => {
            return super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "There is no such application in this organization.")
        }
    };
    let Some(entry) = catalog(&app.name) else {
        return super::page_error(admin, StatusCode::NOT_FOUND, "Not found", "The app's template is not in the catalog.");
    };
    let fields = if tab == Tab::General { general_fields(entry) } else { sign_on_fields(entry) };
    let mut body = crate::api::applications::app_json(admin.org(), &app);
    apply_form(&fields, form, &mut body);
    if tab == Tab::SignOn && field(form, "attributes").is_some() {
        apply_attributes(form, &mut body);
    }
    match applications::update(&state.core, admin.org(), &admin.actor(), id, body.clone()).await.map_err(crate::error::ApiError::from) {
        Ok(_) => done(&format!("/admin/app/{id}/{}", tab.path()), "Saved."),
        Err(e) => {
            let (err, mut errors) = error_context(&e);
            attribute_errors(&mut errors);
            app_page(state, admin, id, tab, json!({ "error": err, "field_errors": errors, "body": body }), e.status).await
        }
    }
}

const STATEMENTS: &str = "settings.signOn.attributeStatements";

/// "Attributes (Optional)": rows `attr-name-N` / `attr-value-N` (an expression) become the
/// app's attribute statements; blank rows are dropped, a row's name format is kept.
fn apply_attributes(form: &[(String, String)], body: &mut Value) {
    let previous = body.pointer("/settings/signOn/attributeStatements").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut rows: Vec<(usize, &str)> =
        form.iter().filter_map(|(k, v)| Some((k.strip_prefix("attr-name-")?.parse().ok()?, v.as_str()))).collect();
    rows.sort();
    let statements: Vec<Value> = rows
        .iter()
        .filter_map(|(i, name)| {
            let value = field(form, &format!("attr-value-{i}")).unwrap_or_default().trim();
            let name = name.trim();
            if name.is_empty() && value.is_empty() {
                return None;
            }
            let namespace = previous.iter().find(|p| p["name"] == name).and_then(|p| p.get("namespace").cloned());
            let values = if value.is_empty() { json!([]) } else { json!([value]) };
            Some(json!({ "type": "EXPRESSION", "name": name, "namespace": namespace, "values": values }))
        })
        .collect();
    if body["settings"]["signOn"].is_object() {
        body["settings"]["signOn"]["attributeStatements"] = json!(statements);
    }
}

/// Errors of attribute statement `k` go next to row `k` (the rows shown again are the
/// statements submitted, blank rows dropped).
fn attribute_errors(errors: &mut Map<String, Value>) {
    let keys: Vec<String> = errors.keys().filter(|k| k.starts_with(STATEMENTS)).cloned().collect();
    for k in keys {
        let rest = k.trim_start_matches(STATEMENTS).trim_start_matches('[');
        let Some((index, part)) = rest.split_once(']') else { continue };
        let row = if part.starts_with(".values") { "attr-value" } else { "attr-name" };
        if let Some(msg) = errors.get(&k).cloned() {
            errors.insert(format!("{row}-{index}"), msg);
        }
    }
}

/// `POST /admin/app/{id}/lifecycle/{activate|deactivate}`
pub async fn lifecycle(
    State(state): State<AppState>,
    Path((id, op)): Path<(String, String)>,
    WriteForm { admin, .. }: WriteForm,
) -> Response {
    match applications::set_status(&state.core, admin.org(), &admin.actor(), &id, &op).await.map_err(crate::error::ApiError::from) {
        Ok(a) => done(
            &format!("/admin/app/{id}/general"),
            if a.status == "ACTIVE" { "Application activated." } else { "Application deactivated." },
        ),
        Err(e) => app_page(&state, &admin, &id, Tab::General, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}

/// `POST /admin/app/{id}/delete` (an inactive app only, after confirmation)
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, .. }: WriteForm) -> Response {
    match applications::delete(&state.core, admin.org(), &admin.actor(), &id).await.map_err(crate::error::ApiError::from) {
        Ok(()) => done("/admin/apps/active", "Application deleted."),
        Err(e) => app_page(&state, &admin, &id, Tab::General, json!({ "error": error_context(&e).0 }), e.status).await,
    }
}
