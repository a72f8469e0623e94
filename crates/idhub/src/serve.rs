//! `idhub serve`: open the database, build the application, listen on every address.

use crate::cli::CliError;
use crate::config::{Config, LogFormat};
use idhub_domain::sealed::SealingKey;
use idhub_domain::time::SystemClock;
use idhub_store::Store;
use idhub_web::{AppState, WebSettings};
use std::net::SocketAddr;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

fn init_tracing(cfg: &Config) {
    let filter = EnvFilter::try_new(&cfg.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match cfg.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Run the server until SIGINT/SIGTERM.
pub async fn serve(cfg: Config) -> Result<(), CliError> {
    init_tracing(&cfg);
    let store = match (&cfg.data_dir, &cfg.database_url) {
        (Some(dir), _) => Store::open_data_dir(dir).await?,
        (None, Some(url)) => Store::open_url(url).await?,
        (None, None) => return Err(CliError::Usage("say where the database is: --data-dir DIR or --database-url URL".into())),
    };
    let sealing_key = sealing_key(&cfg)?;
    let settings = WebSettings {
        max_body_bytes: cfg.max_body_bytes,
        rate_limit: cfg.rate_limit.clone(),
        password_hashing: cfg.password_hashing.clone(),
        sealing_key,
        egress: idhub_connectors::egress::Egress::new(cfg.egress_policy()?),
    };
    let clock: Arc<dyn idhub_domain::time::Clock> = Arc::new(SystemClock);
    let handler = Arc::new(idhub_core::provisioning::Org2OrgHandler {
        store: store.clone(),
        sealing_key: settings.sealing_key.clone(),
        clock: clock.clone(),
        egress: settings.egress.clone(),
    });
    let (_stop_workers, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(idhub_jobs::run_worker(
        store.clone(),
        clock.clone(),
        {
            let mut w = idhub_jobs::WorkerConfig::new(idhub_core::provisioning::QUEUE);
            let p = &cfg.provisioning;
            (w.lease_ms, w.base_backoff_ms, w.max_backoff_ms, w.max_attempts) =
                (p.lease_ms, p.base_backoff_ms, p.max_backoff_ms, p.max_attempts);
            w
        },
        handler,
        idhub_jobs::Wakeup::for_store(&store),
        stop_rx,
    ));
    let state = AppState::new(store.clone(), settings, clock);
    let app = idhub_web::router(state);
    if cfg.listen.is_empty() {
        return Err(CliError::Usage("nothing to listen on: give --listen ADDR".into()));
    }
    let mut servers = tokio::task::JoinSet::new();
    let housekeeping_store = store.clone();
    tokio::spawn(async move {
        // Expired sessions, sign-in transactions and old finished jobs go away.
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = chrono::Utc::now().timestamp_millis();
            if let Err(e) = housekeeping_store.purge_expired_sessions(now).await {
                tracing::warn!("housekeeping: {e}");
            }
            if let Err(e) = housekeeping_store.purge_done_jobs(now - 7 * 24 * 3600 * 1000).await {
                tracing::warn!("housekeeping: {e}");
            }
            if let Err(e) = housekeeping_store.purge_expired_saml_state(now).await {
                tracing::warn!("housekeeping: {e}");
            }
        }
    });
    for addr in &cfg.listen {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr()?;
        tracing::info!(%local, backend = store.backend().name(), "idhub listening");
        let app = app.clone();
        servers.spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await
        });
    }
    while let Some(res) = servers.join_next().await {
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(e) => return Err(CliError::Usage(format!("server task failed: {e}"))),
        }
    }
    store.close().await;
    Ok(())
}

/// The sealing key: from the config, or from (or newly into) the key file.
fn sealing_key(cfg: &Config) -> Result<SealingKey, CliError> {
    use base64::Engine;
    let decode = |text: &str, from: &str| -> Result<SealingKey, CliError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| CliError::Usage(format!("{from}: the secret key must be base64")))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CliError::Usage(format!("{from}: the secret key must be 32 bytes")))?;
        Ok(SealingKey::from_bytes(&arr))
    };
    if let Some(k) = &cfg.secret_key {
        return decode(k, "secret_key");
    }
    let path = match &cfg.data_dir {
        Some(dir) => dir.join("secret.key"),
        None => std::path::PathBuf::from("idhub-secret.key"),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = base64::engine::general_purpose::STANDARD.encode(SealingKey::generate_bytes());
            write_private(&path, &text)?;
            tracing::warn!(path = %path.display(), "created a new secret key; keep it safe and give every node the same one (secret_key / IDHUB_SECRET_KEY_FILE)");
            decode(&text, &path.display().to_string())
        }
        Err(e) => Err(CliError::Usage(format!("cannot read {}: {e}", path.display()))),
    }
}

fn write_private(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| CliError::Usage(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
