//! The end-user surface: the hosted sign-in page, sign-out, session-cookie redirect for
//! API-authenticated clients, the dashboard and the end user's settings.

pub mod complete;
pub mod mfa_pages;
pub mod pages;
pub mod session;
pub mod settings;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

/// Routes of the sign-in surface (mounted per org).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::root))
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/login/default", get(pages::login_form))
        .route("/login/mfa", get(mfa_pages::mfa_form).post(mfa_pages::mfa_submit))
        .route("/login/signout", get(pages::signout).post(pages::signout_form))
        .route("/login/sessionCookieRedirect", get(pages::session_cookie_redirect))
        .route("/app/UserHome", get(pages::dashboard))
        .route("/enduser/settings", get(settings::settings))
        .route("/enduser/settings/password", post(settings::change_password))
        .route("/enduser/settings/mfa/setup", post(settings::start_setup))
        .route("/enduser/settings/mfa/activate", post(settings::activate))
        .route("/enduser/settings/mfa/remove", post(settings::remove))
        .route("/static/idhub.css", get(pages::stylesheet))
}
