//! An IdP's "Edit profile and mappings" page: the IdP user profile (the attributes the IdP
//! sends, readable as `idpuser.<name>`) and, for each attribute of the org's user profile,
//! the expression that fills it when a user is created just in time (and at each sign-in
//! when the IdP is a profile source). Saving goes through the same service as
//! `/api/v1/idps`, so every expression is checked by the domain's parser and nothing is
//! stored while one is wrong. Also the Expression Language Reference page.

use super::{done, error_context, field, notice, page_error, render, Admin, WriteForm};
use crate::api::extract::Params;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use idhub_core::idps::Caller;
use idhub_core::idps::{load_idp, settings_of};
use idhub_domain::idp::SUBJECT_ATTRIBUTES;
use idhub_store::idps::Idp;
use serde_json::{json, Map, Value};

/// What the page shows: the IdP user profile attributes and the expression per attribute.
struct Mapping {
    attributes: Vec<String>,
    expressions: Map<String, Value>,
}

/// The submitted page: the attributes kept, minus those ticked for removal, plus the new
/// ones (comma or space separated); the non-empty expressions.
fn read_form(form: &[(String, String)]) -> Mapping {
    let values = |name: &str| form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).collect::<Vec<_>>();
    let removed = values("removeAttribute");
    let mut attributes: Vec<String> = vec![];
    let added = field(form, "newAttribute").unwrap_or_default();
    for a in values("idpAttribute").into_iter().filter(|a| !removed.contains(a)).chain(added.split([',', ' ', '\n', '\r', '\t'])) {
        if !a.is_empty() && !attributes.iter().any(|x| x == a) {
            attributes.push(a.to_string());
        }
    }
    let expressions = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("map.")?, v.trim())))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    Mapping { attributes, expressions }
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    admin: &Admin,
    idp: &Idp,
    m: &Mapping,
    error: Value,
    errors: Map<String, Value>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let settings = match settings_of(idp) {
        Ok(s) => s,
        Err(e) => return page_error(admin, StatusCode::INTERNAL_SERVER_ERROR, "Cannot read the identity provider", &e.to_string()),
    };
    let schema = match state.store.user_schema(&admin.org().id).await {
        Ok(s) => s,
        Err(_) => return page_error(admin, StatusCode::INTERNAL_SERVER_ERROR, "Cannot read the profile", "Try again later."),
    };
    let row = |a: &idhub_domain::schema::Attribute, custom: bool| json!({ "name": a.name, "title": a.title, "required": a.required, "custom": custom, "expr": m.expressions.get(&a.name) });
    let rows: Vec<Value> =
        schema.base.iter().filter(|a| a.name != "login").map(|a| row(a, false)).chain(schema.custom.iter().map(|a| row(a, true))).collect();
    let ctx = json!({
        "idp": { "id": idp.id, "name": idp.name, "status": idp.status },
        "subject_attributes": SUBJECT_ATTRIBUTES, "attributes": m.attributes, "rows": rows,
        "username_template": settings.username_template, "profile_master": settings.profile_master, "jit": settings.jit,
        "error": error, "errors": errors, "notice": notice,
    });
    render(admin, "idp_mappings.html", "idps", &format!("Profile and mappings · {}", idp.name), ctx, status)
}

async fn idp_or_404(state: &AppState, admin: &Admin, id: &str) -> Result<Idp, Response> {
    load_idp(&state.core, admin.org(), id)
        .await
        .map_err(|_| page_error(admin, StatusCode::NOT_FOUND, "Not found", "There is no such identity provider."))
}

/// `GET /admin/idp/{id}/mappings`
pub async fn view(State(state): State<AppState>, admin: Admin, Path(id): Path<String>, params: Params) -> Response {
    let idp = match idp_or_404(&state, &admin, &id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let m = match settings_of(&idp) {
        Ok(s) => {
            Mapping { attributes: s.profile_attributes, expressions: s.profile_mapping.into_iter().map(|(k, v)| (k, json!(v))).collect() }
        }
        Err(e) => return page_error(&admin, StatusCode::INTERNAL_SERVER_ERROR, "Cannot read the identity provider", &e.to_string()),
    };
    page(&state, &admin, &idp, &m, Value::Null, Map::new(), notice(&params), StatusCode::OK).await
}

/// `POST /admin/idp/{id}/mappings` (Save): all or nothing.
pub async fn save(State(state): State<AppState>, Path(id): Path<String>, WriteForm { admin, form }: WriteForm) -> Response {
    let idp = match idp_or_404(&state, &admin, &id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let m = read_form(&form);
    let caller = Caller { org: admin.org(), actor: admin.actor().party, client: &admin.client };
    match idhub_core::idps::set_profile_mapping(&state.core, &caller, &id, &m.attributes, m.expressions.clone())
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(_) => done(&format!("/admin/idp/{id}/mappings"), "Profile and mappings saved."),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            let (error, fields) = error_context(&e);
            page(&state, &admin, &idp, &m, error, fields, None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => page_error(&admin, e.status, "Cannot save the mappings", &e.summary),
    }
}

/// `GET /admin/help/expression-language`: the subset of Okta's Expression Language that
/// idhub evaluates; the function table comes from the parser's own list.
pub async fn reference(admin: Admin) -> Response {
    let functions: Vec<Value> = idhub_domain::expr::functions()
        .map(|(name, min, max)| {
            let arity = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("{min} or more"),
            };
            json!({ "name": name, "arity": arity })
        })
        .collect();
    let ctx = json!({
        "functions": functions,
        "max_chars": idhub_domain::expr::MAX_SOURCE_CHARS,
        "max_depth": idhub_domain::expr::MAX_DEPTH,
        "username_roots": idhub_domain::application::USERNAME_ROOTS,
        "saml_roots": idhub_domain::application::SAML_ROOTS,
    });
    render(&admin, "expression_language.html", "idps", "Expression Language Reference", ctx, StatusCode::OK)
}
