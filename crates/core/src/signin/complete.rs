//! Finishing a sign-in: the one function every way of signing in ends with (the hosted
//! sign-in page and its factor step, ForceAuthn re-authentication, `/api/v1/authn`,
//! `sessionCookieRedirect`, the inbound IdP ACS for SSO and as a factor). It applies the
//! org's sign-on policy (a factor, enrolled first if the user has none, when the policy
//! requires one and the sign-in has not proven one), ends the browser's previous
//! session, starts the new one, writes the events, and says where to go. The web crate
//! turns the answer into cookies and a redirect, or the authn API's JSON.

use super::{mfa, sessions};
use crate::Core;
use idhub_domain::event::{ClientInfo, NewEvent};
use idhub_store::factors::AuthnTransaction;
use idhub_store::orgs::Org;
use idhub_store::rows::StoredUser;
use idhub_store::sessions::Session;
use idhub_store::StoreError;

/// Lifetime of an `/api/v1/authn` session token.
pub const SESSION_TOKEN_TTL_MS: i64 = 5 * 60 * 1000;

/// Authentication methods (`amr`) that prove a second factor: a code here, or an IdP's
/// multifactor claim this org trusts (or an IdP used as a factor).
pub fn has_second_factor(amr: &[String]) -> bool {
    amr.iter().any(|m| m == "otp" || m == "mfa")
}

/// Where the sign-in happens: a browser (which may hold a previous session's secret) or
/// an API client (a one-time session token to trade at `sessionCookieRedirect`).
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    Browser { previous: Option<&'a str> },
    Api,
}

/// A user who has proven who they are.
#[derive(Debug)]
pub struct SignIn<'a> {
    pub user: &'a StoredUser,
    /// How (`pwd`, `otp`, `fed`, `mfa`, `idp`).
    pub amr: Vec<String>,
    /// A same-org place to continue to (already checked); the dashboard otherwise.
    pub target: Option<String>,
    /// Events of the proof itself (e.g. `user.authentication.auth_via_IDP`), written
    /// whatever comes next.
    pub events: Vec<NewEvent>,
}

/// What a finished sign-in leads to.
#[derive(Debug)]
pub enum Completed {
    /// The org's policy wants a factor first: the transaction (its secret is the browser's
    /// transaction cookie or the API's `stateToken`).
    Factor { secret: String, tx: AuthnTransaction },
    /// Signed in (browser): the new session, its secret, and where to go.
    Session { session: Session, secret: String, to: String },
    /// Signed in (API): a one-time session token and when it expires.
    Token { token: String, expires: i64 },
}

/// Finish a sign-in: the org's policy, then the session (or token) and the events.
pub async fn complete(core: &Core, org: &Org, via: Via<'_>, client: &ClientInfo, sign_in: SignIn<'_>) -> Result<Completed, StoreError> {
    let SignIn { user, amr, target, events } = sign_in;
    let now = core.now();
    if !events.is_empty() {
        core.store.create_events(&org.id, &events, now).await?;
    }
    if !has_second_factor(&amr) && mfa::mfa_required(core, org, &user.user).await? {
        let (secret, tx) = mfa::begin(core, org, &user.user, amr, target).await?;
        return Ok(Completed::Factor { secret, tx });
    }
    match via {
        Via::Browser { previous } => {
            if let Some(previous) = previous {
                // the old session must not live on beside the new one, whoever signed in
                if let Err(e) = sessions::end(core, org, previous, client).await {
                    tracing::warn!("ending the previous session: {e}");
                }
            }
            let (session, secret) = sessions::start(core, org, user, amr, client).await?;
            Ok(Completed::Session { session, secret, to: target.unwrap_or_else(|| "/app/UserHome".into()) })
        }
        Via::Api => {
            let token = format!("20111{}", idhub_domain::ids::random_base62(40));
            let expires = now + SESSION_TOKEN_TTL_MS;
            core.store.create_session_token(&org.id, &user.user.id, &amr, &token, expires).await?;
            let ev = NewEvent::success(
                "user.authentication.authenticate",
                "User authentication",
                crate::directory::user_party(&user.user),
                vec![],
                client.clone(),
            );
            core.store.create_events(&org.id, &[ev], now).await?;
            Ok(Completed::Token { token, expires })
        }
    }
}
