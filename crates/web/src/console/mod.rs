//! The admin console: server-rendered pages (minijinja templates embedded in the binary)
//! for everything an administrator does by clicking. Every page needs a signed-in user
//! with an admin role; every form carries a CSRF token; read-only admins see pages but
//! cannot change anything.

// The early returns of console handlers are whole HTTP responses; boxing them would
// only add noise.
#![allow(clippy::result_large_err)]

mod app_assign;
mod app_tabs;
mod apps;
mod groups;
mod idp_mappings;
mod idps;
mod people;
mod reports;
mod routing;
mod search;
mod security;

use crate::error::ApiError;
use crate::html::{add_security_headers, error_page, Csrf};
use crate::signin::session::SignedIn;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use idhub_core::permissions::{self, Denied, OrgAction, UserAction};
use idhub_domain::event::{ClientInfo, Party};
use idhub_domain::user::AdminRole;
use minijinja::Environment;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/dashboard") }))
        .route("/admin/dashboard", get(reports::dashboard))
        .route("/admin/tasks", get(reports::tasks))
        .route("/admin/tasks/{id}/{action}", post(reports::task_action))
        .route("/admin/reports/system-log", get(reports::system_log))
        .route("/admin/users", get(people::list))
        .route("/admin/users/new", get(people::new_form).post(people::create))
        .route("/admin/user/{id}", get(people::view))
        .route("/admin/user/{id}/profile", post(people::save_profile))
        .route("/admin/user/{id}/lifecycle/{op}", post(people::lifecycle))
        .route("/admin/user/{id}/reset-factors", post(people::reset_factors))
        .route("/admin/user/{id}/role", post(people::set_role))
        .route("/admin/groups", get(groups::list).post(groups::create))
        .route("/admin/group/{id}", get(groups::view))
        .route("/admin/group/{id}/profile", post(groups::save_profile))
        .route("/admin/group/{id}/members", post(groups::add_member))
        .route("/admin/group/{id}/members/{user}/remove", post(groups::remove_member))
        .route("/admin/group/{id}/delete", post(groups::delete))
        .route("/admin/access/api/tokens", get(security::tokens).post(security::create_token))
        .route("/admin/access/api/tokens/rotation", post(security::save_rotation))
        .route("/admin/access/api/tokens/{id}/revoke", post(security::revoke_token))
        .route("/admin/access/authenticators", get(security::authenticators).post(security::save_authenticators))
        .route("/admin/search", get(search::search))
        .route("/admin/apps/active", get(apps::list))
        .route("/admin/apps/self-service", get(app_assign::self_service).post(app_assign::save_self_service_settings))
        .route("/admin/apps/catalog", get(apps::browse))
        .route("/admin/apps/new/{name}", get(apps::new_form).post(apps::create))
        .route("/admin/app/{id}", get(apps::general))
        .route("/admin/app/{id}/general", get(apps::general).post(apps::save_general))
        .route("/admin/app/{id}/lifecycle/{op}", post(apps::lifecycle))
        .route("/admin/app/{id}/delete", post(apps::delete))
        .route("/admin/app/{id}/signon", get(app_tabs::sign_on).post(app_tabs::save_sign_on))
        .route("/admin/app/{id}/keys/rotate", post(app_tabs::rotate_key))
        .route("/admin/app/{id}/metadata", get(app_tabs::metadata))
        .route("/admin/app/{id}/provisioning", get(app_tabs::provisioning_tab))
        .route("/admin/app/{id}/provisioning/integration", post(app_tabs::save_integration))
        .route("/admin/app/{id}/provisioning/to-app", post(app_tabs::save_to_app))
        .route("/admin/app/{id}/assignments", get(app_assign::assignments))
        .route("/admin/app/{id}/assignments/convert", post(app_assign::convert))
        .route("/admin/app/{id}/assignments/self-service", post(app_assign::save_self_service))
        .route("/admin/app/{id}/push-groups", get(app_tabs::push_groups_tab).post(app_tabs::push_groups))
        .route("/admin/app/{id}/push-groups/{mapping}/unlink", post(app_tabs::unlink_push))
        .route("/admin/app/{id}/push-groups/rules/{rule}/delete", post(app_tabs::delete_push_rule))
        .route("/admin/app/{id}/import", get(app_tabs::import_tab))
        .route("/admin/app/{id}/import/{action}", post(app_tabs::import_action))
        .route("/admin/app/{id}/assignments/{kind}", post(app_assign::assign))
        .route("/admin/app/{id}/assignments/{kind}/{target}/remove", post(app_assign::unassign))
        .route("/admin/access/identity-providers", get(idps::list))
        .route("/admin/access/identity-providers/add", get(idps::add))
        .route("/admin/access/identity-providers/new", get(idps::new_form).post(idps::create))
        .route("/admin/idp/{id}", get(idps::view).post(idps::save))
        .route("/admin/idp/{id}/lifecycle/{op}", post(idps::lifecycle))
        .route("/admin/idp/{id}/delete", post(idps::delete))
        .route("/admin/idp/{id}/metadata", get(idps::metadata))
        .route("/admin/idp/{id}/mappings", get(idp_mappings::view).post(idp_mappings::save))
        .route("/admin/help/expression-language", get(idp_mappings::reference))
        .route("/admin/access/identity-providers/routing-rules", get(routing::list).post(routing::create))
        .route("/admin/access/identity-providers/routing-rules/{id}", get(routing::edit).post(routing::save))
        .route("/admin/access/identity-providers/routing-rules/{id}/delete", post(routing::delete))
        .route("/static/console.css", get(|| async { static_file("text/css; charset=utf-8", include_str!("../../static/console.css")) }))
        .route(
            "/static/console.js",
            get(|| async { static_file("text/javascript; charset=utf-8", include_str!("../../static/console.js")) }),
        )
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let templates: &[(&str, &str)] = &[
            ("base.html", include_str!("../../templates/console/base.html")),
            ("dashboard.html", include_str!("../../templates/console/dashboard.html")),
            ("people.html", include_str!("../../templates/console/people.html")),
            ("person_new.html", include_str!("../../templates/console/person_new.html")),
            ("person.html", include_str!("../../templates/console/person.html")),
            ("groups.html", include_str!("../../templates/console/groups.html")),
            ("group.html", include_str!("../../templates/console/group.html")),
            ("tokens.html", include_str!("../../templates/console/tokens.html")),
            ("system_log.html", include_str!("../../templates/console/system_log.html")),
            ("authenticators.html", include_str!("../../templates/console/authenticators.html")),
            ("placeholder.html", include_str!("../../templates/console/placeholder.html")),
            ("fields.html", include_str!("../../templates/console/fields.html")),
            ("apps.html", include_str!("../../templates/console/apps.html")),
            ("catalog.html", include_str!("../../templates/console/catalog.html")),
            ("app_new.html", include_str!("../../templates/console/app_new.html")),
            ("app.html", include_str!("../../templates/console/app.html")),
            ("idps.html", include_str!("../../templates/console/idps.html")),
            ("idp_form.html", include_str!("../../templates/console/idp_form.html")),
            ("idp_new.html", include_str!("../../templates/console/idp_new.html")),
            ("idp.html", include_str!("../../templates/console/idp.html")),
            ("idp_type.html", include_str!("../../templates/console/idp_type.html")),
            ("idp_mappings.html", include_str!("../../templates/console/idp_mappings.html")),
            ("expression_language.html", include_str!("../../templates/console/expression_language.html")),
            ("routing.html", include_str!("../../templates/console/routing.html")),
            ("tasks.html", include_str!("../../templates/console/tasks.html")),
            ("search.html", include_str!("../../templates/console/search.html")),
            ("self_service.html", include_str!("../../templates/console/self_service.html")),
        ];
        for (name, src) in templates {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!("console template {name}: {e}");
            }
        }
        env
    })
}

/// A signed-in administrator of the request's org.
#[derive(Debug, Clone)]
pub struct Admin {
    pub signed_in: SignedIn,
    pub role: AdminRole,
    /// The CSRF token of the admin's session (for the forms of the page).
    pub csrf: Csrf,
    pub client: ClientInfo,
}

impl Admin {
    /// May this admin change anything at all?
    pub fn can_write(&self) -> bool {
        permissions::can_write(Some(self.role))
    }

    /// The System Log actor.
    pub fn actor(&self) -> idhub_core::Actor {
        let u = &self.signed_in.user.user;
        idhub_core::Actor { party: Party::new(u.id.0.clone(), "User", u.login(), u.display_name()), client: self.client.clone() }
    }

    /// The org.
    pub fn org(&self) -> &idhub_store::orgs::Org {
        &self.signed_in.org
    }

    /// Refuse, with a page, what the permission table does not allow this admin.
    pub fn require(&self, action: OrgAction) -> Result<(), Response> {
        permissions::check_org(Some(self.role), action).map_err(|why| self.denied(why))
    }

    /// May this admin do `action` to a user holding `target`? (To offer only what they may.)
    /// The console writes only for org-wide roles ([`WriteForm`]), so scopes never apply here.
    pub fn may(&self, action: UserAction, target: Option<AdminRole>) -> bool {
        permissions::check_user(Some(self.role), action, target, false).is_ok()
    }

    /// Refuse, with a page, an action on a user the permission table does not allow.
    pub fn require_user(&self, action: UserAction, target: Option<AdminRole>) -> Result<(), Response> {
        permissions::check_user(Some(self.role), action, target, false).map_err(|why| self.denied(why))
    }

    fn denied(&self, why: Denied) -> Response {
        let text = format!("Your administrator role does not allow this change: {why}.");
        page_error(self, StatusCode::FORBIDDEN, "Not allowed", &text)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let Some(role) = signed_in.user.user.admin_role else {
            let mut r = error_page(
                StatusCode::FORBIDDEN,
                &signed_in.org.name,
                "Administrators only",
                "You are signed in, but your account has no administrator role in this organization.",
            );
            add_security_headers(r.headers_mut());
            return Err(r);
        };
        let client = crate::request::Client::from_request_parts(parts, state).await.map(|c| c.0).unwrap_or_default();
        let csrf = Csrf::of_request(state, &signed_in.org, parts).await.map_err(|e| ApiError::internal(e.to_string()).into_response())?;
        Ok(Admin { signed_in, role, csrf, client })
    }
}

/// A console form posted by an administrator who may change things: the capability a
/// mutating handler takes. It exists only once the CSRF token matched and the role is at
/// least organization administrator; otherwise the request is answered with a readable
/// refusal (403) and nothing runs.
pub struct WriteForm {
    pub admin: Admin,
    pub form: Vec<(String, String)>,
}

impl axum::extract::FromRequest<AppState> for WriteForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let admin = Admin::from_request_parts(&mut parts, state).await?;
        let req = axum::extract::Request::from_parts(parts, body);
        let axum::extract::Form(form) = axum::extract::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|_| page_error(&admin, StatusCode::BAD_REQUEST, "Bad form", "The form could not be read. Go back and try again."))?;
        check_csrf(&admin, field(&form, "csrf"))?;
        if !admin.can_write() {
            return Err(admin.denied(Denied::RoleTooLow { needed: AdminRole::OrgAdmin }));
        }
        Ok(WriteForm { admin, form })
    }
}

/// Check a form's CSRF token against the admin's session.
fn check_csrf(admin: &Admin, submitted: Option<&str>) -> Result<(), Response> {
    if admin.csrf.matches(submitted) {
        Ok(())
    } else {
        Err(page_error(
            admin,
            StatusCode::FORBIDDEN,
            "Request refused",
            "The form has expired or did not come from this site. Go back, reload the page and try again.",
        ))
    }
}

/// Render a console page.
pub fn render(admin: &Admin, template: &str, section: &str, title: &str, mut ctx: Value, status: StatusCode) -> Response {
    let u = &admin.signed_in.user.user;
    if let Some(obj) = ctx.as_object_mut() {
        obj.insert("org_name".into(), json!(admin.org().name));
        obj.insert("admin_login".into(), json!(u.login()));
        obj.insert("admin_role".into(), json!(admin.role.as_str()));
        obj.insert("section".into(), json!(section));
        obj.entry("title").or_insert(json!(title));
        obj.insert("csrf".into(), json!(admin.csrf.token));
        obj.insert("can_write".into(), json!(admin.can_write()));
    }
    let html = env().get_template(template).and_then(|t| t.render(minijinja::Value::from_serialize(&ctx)));
    let mut resp = match html {
        Ok(h) => (status, Html(h)).into_response(),
        Err(e) => return ApiError::internal(format!("rendering {template}: {e}")).into_response(),
    };
    admin.csrf.attach(&mut resp);
    add_security_headers(resp.headers_mut());
    resp
}

/// A console page showing an error.
pub fn page_error(admin: &Admin, status: StatusCode, title: &str, message: &str) -> Response {
    render(admin, "placeholder.html", "", title, json!({ "message": message }), status)
}

/// A page for a failure the console cannot show in a form: the error's status and
/// summary; an internal error is logged with its cause and an error id, and the page
/// shows only the id.
pub fn failure_page(admin: &Admin, e: impl Into<ApiError>) -> Response {
    let e: ApiError = e.into();
    if e.status.is_server_error() {
        let id = crate::error::new_error_id();
        tracing::error!(error_id = %id, code = e.code, "{}", e.internal.as_deref().unwrap_or(&e.summary));
        return page_error(admin, e.status, "Something went wrong", &format!("The request could not be completed (error {id})."));
    }
    page_error(admin, e.status, "Not possible", &e.summary)
}

/// An API error as the console shows it: a summary, the causes, and per-field messages.
pub fn error_context(e: &ApiError) -> (Value, serde_json::Map<String, Value>) {
    let mut fields = serde_json::Map::new();
    for c in &e.causes {
        if let Some((field, msg)) = c.split_once(": ") {
            fields.entry(field.to_string()).or_insert(json!(msg));
        }
    }
    (json!({ "summary": e.summary, "causes": e.causes }), fields)
}

pub use idhub_core::org_settings::OrgSetting;

/// Store a change to the org's settings with its event, make every node see it, and go
/// back to `back` with a notice.
pub async fn save_org_setting(state: &AppState, admin: &Admin, change: OrgSetting, back: &str, notice: &str) -> Response {
    match idhub_core::org_settings::save(&state.core, admin.org(), &admin.actor(), change).await {
        Ok(()) => {
            state.orgs.invalidate(&admin.org().host);
            done(back, notice)
        }
        Err(e) => failure_page(admin, e),
    }
}

/// Redirect after a successful POST, with a notice for the next page.
pub fn done(to: &str, notice: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    let mut r =
        Redirect::to(&format!("{to}{sep}notice={}", percent_encoding::utf8_percent_encode(notice, percent_encoding::NON_ALPHANUMERIC)))
            .into_response();
    add_security_headers(r.headers_mut());
    r
}

/// The value of a repeated-key form field list.
pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The notice carried by `?notice=` (only our own short texts are shown).
pub fn notice(params: &crate::api::extract::Params) -> Option<String> {
    params.get("notice").map(|n| n.chars().take(200).collect())
}
