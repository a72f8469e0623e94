//! The command line (a contract other tooling relies on: keep these forms).

use crate::config::{self, Config, LogFormat};
use clap::{Args, Parser, Subcommand};
use idhub_core::passwords::PasswordHasher;
use idhub_domain::event::{ClientInfo, NewEvent, Party};
use idhub_domain::ids::UserId;
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::password::PasswordPolicy;
use idhub_domain::schema::{Completeness, UserSchema};
use idhub_domain::time::{Clock, SystemClock};
use idhub_domain::user::{AdminRole, ProviderType, User};
use idhub_store::Store;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "idhub", version, about = "idhub: a self-hosted identity hub with an Okta-compatible API")]
pub struct Cli {
    /// A TOML configuration file (also IDHUB_CONFIG).
    #[arg(long, global = true, env = "IDHUB_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage orgs.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Provisioning progress and Tasks (failed pushes).
    #[command(subcommand)]
    Provisioning(ProvisioningCommand),
    /// The seeds' Org2Org setup on the embedded database, ready to click through: a spoke
    /// org and a hub org on two loopback addresses and a demo SAML SP standing in for
    /// Dropbox Business on a third, all wired through the orgs' API.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Where the demo keeps its database (reused across runs).
    #[arg(long, default_value = "idhub-demo")]
    data_dir: PathBuf,
    /// The spoke org's address (its base URL is http://ADDR).
    #[arg(long, default_value = "127.0.0.2:8080")]
    spoke: String,
    /// The hub org's address.
    #[arg(long, default_value = "127.0.0.3:8080")]
    hub: String,
    /// The demo SAML service provider's address (the Dropbox Business stand-in).
    #[arg(long, default_value = "127.0.0.4:8080")]
    sp: String,
}

/// Where the database is: a data directory (SQLite) or a URL.
#[derive(Debug, Args, Clone)]
struct DbArgs {
    /// Directory for the embedded SQLite database (created if missing).
    #[arg(long, conflicts_with = "database_url")]
    data_dir: Option<PathBuf>,
    /// postgres://user@host:port/db (or sqlite://path).
    #[arg(long, env = "IDHUB_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on; repeat for several.
    #[arg(long = "listen")]
    listen: Vec<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an org; prints its id.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        /// The org's origin, e.g. http://127.0.0.2:8080 (requests are routed by it).
        #[arg(long)]
        base_url: String,
        /// Create a super administrator with this login (an email address).
        #[arg(long, requires = "admin_password")]
        admin_login: Option<String>,
        #[arg(long, requires = "admin_login", env = "IDHUB_ADMIN_PASSWORD")]
        admin_password: Option<String>,
    },
    /// List orgs.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum ProvisioningCommand {
    /// Per Org2Org app: pushes pending, running, done and failed.
    Status {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
    /// The open Tasks (pushes that failed for good), with what the hub answered.
    Tasks {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token of an org; prints only the token. It acts as its owner: the
    /// first super administrator, or the administrator named by --user.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The org's name (or id).
        #[arg(long)]
        org: String,
        /// A label for the token.
        #[arg(long)]
        name: String,
        /// The login (or id) of the administrator the token acts as (default: the first super administrator).
        #[arg(long)]
        user: Option<String>,
    },
    /// List an org's tokens (never the secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: String,
    },
}

/// An error for the user of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Store(#[from] idhub_store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn base_config(cli_config: Option<&std::path::Path>) -> Result<Config, CliError> {
    Ok(config::load(cli_config, std::env::vars())?)
}

async fn open(cfg: &Config, db: &DbArgs) -> Result<Store, CliError> {
    let url = db.database_url.clone().or_else(|| cfg.database_url.clone());
    let dir = db.data_dir.clone().or_else(|| cfg.data_dir.clone());
    match (dir, url) {
        (Some(dir), _) => Ok(Store::open_data_dir(&dir).await?),
        (None, Some(url)) => Ok(Store::open_url(&url).await?),
        (None, None) => Err(CliError::Usage("say where the database is: --data-dir DIR or --database-url URL".into())),
    }
}

fn cli_client() -> ClientInfo {
    ClientInfo { ip_address: None, user_agent: Some("idhub-cli".into()), request_id: None, request_uri: None }
}

/// Create a super administrator of `org`.
pub(crate) async fn create_admin(
    store: &Store,
    cfg: &Config,
    org: &idhub_store::orgs::Org,
    login: &str,
    password: &str,
    now: i64,
) -> Result<(), CliError> {
    let mut profile = serde_json::Map::new();
    profile.insert("login".into(), login.into());
    profile.insert("email".into(), login.into());
    profile.insert("firstName".into(), "Super".into());
    profile.insert("lastName".into(), "Admin".into());
    idhub_domain::user::normalize_login(&mut profile);
    UserSchema::with_custom(vec![]).validate(&profile, Completeness::Full).map_err(|e| CliError::Usage(format!("--admin-login: {e}")))?;
    PasswordPolicy::default().check(password, login).map_err(|e| CliError::Usage(format!("--admin-password: {e}")))?;
    let hash = PasswordHasher::new(cfg.password_hashing.clone()).hash_blocking(password).map_err(|e| CliError::Usage(e.to_string()))?;
    let user = User {
        id: UserId::generate(),
        org_id: org.id.clone(),
        status: UserStatus::Active,
        transitioning_to: None,
        profile,
        type_id: org.user_type_id.clone(),
        provider: ProviderType::Okta,
        provider_name: "OKTA".into(),
        password_hash: Some(hash),
        recovery_question: None,
        created: now,
        activated: Some(now),
        status_changed: Some(now),
        last_login: None,
        last_updated: now,
        password_changed: Some(now),
        admin_role: Some(AdminRole::SuperAdmin),
        failed_logins: 0,
    };
    let target = Party::new(user.id.0.clone(), "User", login, "Super Admin");
    let events = [
        NewEvent::success("user.lifecycle.create", "Create okta user", Party::system(), vec![target.clone()], cli_client()),
        NewEvent::success("user.account.privilege.grant", "Grant user privilege SUPER_ADMIN", Party::system(), vec![target], cli_client()),
    ];
    store.create_user(&user, &[], &events).await?;
    Ok(())
}

/// Create a token of `org` acting as `user` (a login or id of an administrator), or as the
/// first super administrator; returns the secret.
pub(crate) async fn create_token(
    store: &Store,
    org: &idhub_store::orgs::Org,
    name: &str,
    user: Option<&str>,
    now: i64,
) -> Result<String, CliError> {
    let name = idhub_core::tokens::check_name(name).map_err(|_| CliError::Usage("--name must be 1 to 100 characters".into()))?;
    let name = name.as_str();
    let (owner, role) = match user {
        None => (store.first_admin(&org.id, AdminRole::SuperAdmin).await?, AdminRole::SuperAdmin),
        Some(login) => {
            let u = store.get_user(&org.id, login).await.map_err(|e| match e {
                idhub_store::StoreError::NotFound => CliError::Usage(format!("no user {login} in this org")),
                e => e.into(),
            })?;
            let role = u.user.admin_role.ok_or_else(|| CliError::Usage(format!("{login} holds no administrator role")))?;
            (Some(u), role)
        }
    };
    let secret = idhub_store::tokens::new_token_secret();
    let ev = NewEvent::success(
        "system.api_token.create",
        format!("Create API token {name}"),
        Party::system(),
        vec![Party::new("", "Token", name, name)],
        cli_client(),
    );
    store.create_token(&org.id, name, &secret, owner.as_ref().map(|u| u.user.id.as_str()), role, now, &[ev]).await?;
    Ok(secret)
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let mut cfg = base_config(cli.config.as_deref())?;
    let clock = SystemClock;
    match cli.command {
        Command::Serve(args) => {
            if !args.listen.is_empty() {
                cfg.listen = args.listen;
            }
            if args.db.data_dir.is_some() {
                cfg.data_dir = args.db.data_dir.clone();
                cfg.database_url = None;
            } else if args.db.database_url.is_some() {
                cfg.database_url = args.db.database_url.clone();
                cfg.data_dir = None;
            }
            if args.log_json {
                cfg.log_format = LogFormat::Json;
            }
            crate::serve::serve(cfg).await
        }
        Command::Org(OrgCommand::Create { db, name, base_url, admin_login, admin_password }) => {
            let store = open(&cfg, &db).await?;
            let now = clock.now_millis();
            let ev = NewEvent::success("system.org.create", format!("Create org {name}"), Party::system(), vec![], cli_client());
            let org = store.create_org(&name, &base_url, now, &[ev]).await.map_err(|e| match e {
                idhub_store::StoreError::Conflict(_) => {
                    CliError::Usage(format!("an org named {name} or with base URL {base_url} already exists"))
                }
                other => other.into(),
            })?;
            if let (Some(login), Some(password)) = (admin_login, admin_password) {
                create_admin(&store, &cfg, &org, &login, &password, now).await?;
            }
            println!("{}", org.id);
            store.close().await;
            Ok(())
        }
        Command::Demo(args) => {
            let addrs = crate::demo::DemoAddrs { data_dir: args.data_dir, spoke: args.spoke, hub: args.hub, sp: args.sp };
            crate::demo::run(cfg, addrs).await
        }
        Command::Org(OrgCommand::List { db }) => {
            let store = open(&cfg, &db).await?;
            for org in store.list_orgs().await? {
                println!("{}\t{}\t{}", org.id, org.name, org.base_url);
            }
            store.close().await;
            Ok(())
        }
        Command::Token(TokenCommand::Create { db, org, name, user }) => {
            let store = open(&cfg, &db).await?;
            let org = store.org_by_name(&org).await.map_err(|_| CliError::Usage(format!("no org named {org}")))?;
            let secret = create_token(&store, &org, &name, user.as_deref(), clock.now_millis()).await?;
            println!("{secret}");
            store.close().await;
            Ok(())
        }
        Command::Provisioning(ProvisioningCommand::Status { db, org }) => {
            let store = open(&cfg, &db).await?;
            let org = store.org_by_name(&org).await.map_err(|_| CliError::Usage(format!("no org named {org}")))?;
            let query = idhub_store::apps::AppQuery { name: Some("okta_org2org"), limit: 1000, ..Default::default() };
            println!("app\tlabel\tpending\trunning\tdone\tfailed");
            for app in store.list_apps(&org.id, &query).await? {
                let p = store.batch_progress(&org.id, &app.id).await?;
                println!("{}\t{}\t{}\t{}\t{}\t{}", app.id, app.label, p.pending, p.running, p.done, p.failed);
            }
            store.close().await;
            Ok(())
        }
        Command::Provisioning(ProvisioningCommand::Tasks { db, org }) => {
            let store = open(&cfg, &db).await?;
            let org = store.org_by_name(&org).await.map_err(|_| CliError::Usage(format!("no org named {org}")))?;
            for j in store.list_jobs(&org.id, "FAILED", 1000).await? {
                let field = |k: &str| j.payload.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
                println!(
                    "{}\tapp {}\tuser {}\t{} attempts\t{}",
                    j.id,
                    field("appId"),
                    field("userId"),
                    j.attempts,
                    j.last_error.unwrap_or_default()
                );
            }
            store.close().await;
            Ok(())
        }
        Command::Token(TokenCommand::List { db, org }) => {
            let store = open(&cfg, &db).await?;
            let org = store.org_by_name(&org).await.map_err(|_| CliError::Usage(format!("no org named {org}")))?;
            for t in store.list_tokens(&org.id).await? {
                let used = t.last_used.map(idhub_domain::time::format_millis).unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}\t{}…\tcreated {}\tlast used {}",
                    t.id,
                    t.name,
                    t.token_window,
                    idhub_domain::time::format_millis(t.created),
                    used
                );
            }
            store.close().await;
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { db, org, id }) => {
            let store = open(&cfg, &db).await?;
            let org = store.org_by_name(&org).await.map_err(|_| CliError::Usage(format!("no org named {org}")))?;
            let ev = NewEvent::success(
                "system.api_token.revoke",
                "Revoke API token",
                Party::system(),
                vec![Party::new(id.clone(), "Token", id.clone(), id.clone())],
                cli_client(),
            );
            store.revoke_token(&org.id, &id, clock.now_millis(), &[ev]).await.map_err(|e| match e {
                idhub_store::StoreError::NotFound => CliError::Usage(format!("no token {id} in this org")),
                other => other.into(),
            })?;
            store.close().await;
            Ok(())
        }
    }
}
