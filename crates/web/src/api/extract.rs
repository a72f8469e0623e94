//! Extractors that answer in Okta's error shape: the authenticated API caller (with a
//! write capability only for roles that may write), JSON bodies, query parameters.

use super::ssws_token;
use crate::error::ApiError;
use crate::org::CurrentOrg;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use idhub_core::permissions::{self, Denied, OrgAction, UserAction};
use idhub_domain::event::Party;
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::user::AdminRole;
use idhub_domain::user::{RoleTargetKind, User};
use idhub_store::orgs::Org;
use idhub_store::tokens::{ApiToken, OwnerState, TokenCaller};
use serde_json::Value;
use std::collections::HashMap;

/// A caller authenticated by an API token of the request's org, acting with the current
/// role of the token's owner (Okta's tokens act as their owner).
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub org: Org,
    pub token: ApiToken,
    role: AdminRole,
}

impl ApiCaller {
    /// The actor for System Log events.
    pub fn actor(&self) -> Party {
        match &self.token.user_id {
            Some(uid) => Party::new(uid.clone(), "User", format!("token:{}", self.token.name), self.token.name.clone()),
            None => Party::new(self.token.id.0.clone(), "PublicClientApp", format!("token:{}", self.token.name), self.token.name.clone()),
        }
    }

    /// The role the caller acts with now: its owner's current role.
    pub fn role(&self) -> AdminRole {
        self.role
    }

    /// Refuse (403 E0000006) what the permission table does not allow this caller.
    pub fn check(&self, action: OrgAction) -> Result<(), ApiError> {
        permissions::check_org(Some(self.role), action).map_err(ApiError::denied)
    }

    /// Refuse (403 E0000006) an action on a user the permission table does not allow: the
    /// target's role, and for a group-scoped role whether the target is in its groups.
    pub async fn check_user(&self, state: &AppState, action: UserAction, target: &User) -> Result<(), ApiError> {
        let in_scope = match (self.role.target_kind(), &self.token.user_id) {
            (Some(RoleTargetKind::Group), Some(admin)) => {
                target.admin_role.is_none() && state.store.role_covers_user(&self.org.id, admin, self.role, target.id.as_str()).await?
            }
            _ => false,
        };
        self.check_role(action, target.admin_role, in_scope)
    }

    /// Refuse (403 E0000006) an action on a user holding `target`, scope already known.
    pub fn check_role(&self, action: UserAction, target: Option<AdminRole>, in_scope: bool) -> Result<(), ApiError> {
        permissions::check_user(Some(self.role), action, target, in_scope).map_err(ApiError::denied)
    }
}

/// The routes where a group-scoped administrator may write: each handler checks the
/// target user with [`ApiCaller::check_user`].
const USER_TARGET_ROUTES: [&str; 4] = [
    "/api/v1/users/{id}",
    "/api/v1/users/{id}/lifecycle/{op}",
    "/api/v1/users/{id}/lifecycle/reset_factors",
    "/api/v1/users/{id}/factors/{factor}",
];

/// Proof that the caller may change things (not a read-only admin). Handlers that
/// write take this instead of [`ApiCaller`].
#[derive(Debug, Clone)]
pub struct ApiWriter(pub ApiCaller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let org = CurrentOrg::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found("org"))?.0;
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(ApiError::invalid_token)?;
        let secret = ssws_token(header).ok_or_else(ApiError::invalid_token)?;
        let TokenCaller { token, owner } = state.store.token_by_secret(&org.id, secret).await?.ok_or_else(ApiError::invalid_token)?;
        if token.expires.map(|e| e <= state.now()).unwrap_or(false) {
            return Err(ApiError::invalid_token());
        }
        let role = match owner {
            OwnerState::None => Some(token.role),
            // A deleted, deactivated or suspended owner's tokens stop working, as Okta's do.
            OwnerState::Gone | OwnerState::User { status: UserStatus::Deprovisioned | UserStatus::Suspended, .. } => {
                return Err(ApiError::invalid_token());
            }
            OwnerState::User { role, .. } => role,
        };
        // An owner who lost every administrator role keeps a valid token that may do nothing.
        let role = role.ok_or_else(|| ApiError::denied(Denied::NotAdmin))?;
        if let Err(e) = state.store.touch_token(&token, state.now()).await {
            tracing::warn!("could not record token use: {e}");
        }
        Ok(ApiCaller { org, token, role })
    }
}

impl FromRequestParts<AppState> for ApiWriter {
    type Rejection = ApiError;

    /// Org-wide writers pass; a scoped administrator passes only toward what its role can
    /// change: the user routes (the handler then checks the user) for group-scoped roles,
    /// the routes of one of its target apps for app administrators.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        if permissions::can_write(Some(caller.role)) {
            return Ok(ApiWriter(caller));
        }
        let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
        let allowed = match (caller.role.target_kind(), &caller.token.user_id) {
            (Some(RoleTargetKind::Group), Some(_)) => USER_TARGET_ROUTES.contains(&route.as_str()) && route_user(parts) != Some("me"),
            (Some(RoleTargetKind::App), Some(admin)) if route.starts_with("/api/v1/apps/{id}") => {
                let app = route_param(parts, "id").await.unwrap_or_default();
                let in_scope = state.store.role_covers_app(&caller.org.id, admin, caller.role, &app).await?;
                return permissions::check_app(Some(caller.role), in_scope).map(|()| ApiWriter(caller)).map_err(ApiError::denied);
            }
            _ => false,
        };
        if allowed {
            Ok(ApiWriter(caller))
        } else {
            Err(ApiError::denied(permissions::check_org(Some(caller.role), OrgAction::ManageDirectory).err().unwrap_or(Denied::NotAdmin)))
        }
    }
}

/// The `{id}` of a `/api/v1/users/{id}…` route, read from the URI.
fn route_user(parts: &Parts) -> Option<&str> {
    parts.uri.path().strip_prefix("/api/v1/users/").and_then(|rest| rest.split('/').next())
}

/// A path parameter of the matched route.
async fn route_param(parts: &mut Parts, name: &str) -> Option<String> {
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
}

/// A JSON body: content type checked, size capped, malformed JSON refused as E0000003.
/// An empty body is `Value::Null` (bodiless POSTs are normal for lifecycle calls).
#[derive(Debug)]
pub struct OktaJson(pub Value);

impl FromRequest<AppState> for OktaJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        let limit = state.settings.max_body_bytes;
        let body = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "E0000003",
                format!("The request body was not well-formed: larger than {limit} bytes."),
            )
        })?;
        parse_json(content_type.as_deref(), &body).map(OktaJson)
    }
}

/// A request body parsed once into the endpoint's own type `T` (the wire shape). What
/// does not fit is refused in Okta's terms, naming the field: a required field missing
/// is E0000001 (validation), a field of the wrong type or an unknown value E0000003 (the
/// body is not well-formed). No body at all is E0000003 too.
#[derive(Debug)]
pub struct OktaBody<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for OktaBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let OktaJson(value) = OktaJson::from_request(req, state).await?;
        if value.is_null() {
            return Err(ApiError::bad_body("The request needs a JSON body."));
        }
        parse_body(value).map(OktaBody)
    }
}

/// `value` as the wire type `T`, or Okta's error naming the field that does not fit.
pub fn parse_body<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if let Some(rest) = inner.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or_default();
            let full = if path == "." { field.to_string() } else { format!("{path}.{field}") };
            ApiError::validation(full.clone(), vec![format!("{full}: The field cannot be left blank")])
        } else {
            let at = if path == "." { String::new() } else { format!("{path}: ") };
            ApiError::bad_body(format!("{at}{inner}"))
        }
    })
}

fn parse_json(content_type: Option<&str>, body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let is_json = content_type.map(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        essence == "application/json" || essence.ends_with("+json")
    });
    if is_json != Some(true) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "E0000021",
            "Bad request. Accept and/or Content-Type headers likely do not match supported values.",
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_body(format!("Invalid JSON at line {} column {}", e.line(), e.column())))
}

/// Query parameters, decoded; repeated keys keep the last value.
#[derive(Debug, Default, Clone)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut map = HashMap::new();
        if let Some(q) = parts.uri.query() {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                map.insert(decode(k)?, decode(v)?);
            }
        }
        Ok(Params(map))
    }
}

fn decode(s: &str) -> Result<String, ApiError> {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ApiError::validation("query", vec!["query: parameters must be UTF-8".into()]))
}

impl Params {
    /// A parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A boolean parameter (`true`/`false`), with a default.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::validation(key, vec![format!("{key}: must be true or false")])),
        }
    }

    /// `limit`, clamped to `max`; a non-number or a value below 1 is refused.
    pub fn limit(&self, default: i64, max: i64) -> Result<i64, ApiError> {
        match self.get("limit") {
            None | Some("") => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(n.min(max)),
                _ => Err(ApiError::validation("limit", vec!["limit: must be a positive integer".into()])),
            },
        }
    }
}
