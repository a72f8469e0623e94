//! `idhub-bench`: loads users into one org through the store in bulk, then measures a
//! real `idhub serve` process over HTTP on loopback: list-page latency at 10k and at the
//! full size (and their ratio), `GET /users/{login}` latency, API create-user rates with
//! concurrent clients, and the server's memory. Same on PostgreSQL. See BENCHMARKS.md.

use clap::Parser;
use idhub_benchmarks::{cli, client, fresh_db, machine, Res, Server};
use idhub_domain::ids::{OrgId, UserId};
use idhub_domain::lifecycle::UserStatus;
use idhub_domain::user::{ProviderType, User};
use idhub_store::Store;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(about = "idhub benchmarks")]
struct Args {
    /// Users in the org at the large measurement point.
    #[arg(long, default_value_t = 1_000_000)]
    users: usize,
    /// The small measurement point.
    #[arg(long, default_value_t = 10_000)]
    small: usize,
    /// Concurrent clients for the create-user rate.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Users created over HTTP without a password.
    #[arg(long, default_value_t = 5_000)]
    creates: usize,
    /// Users created over HTTP with a password (argon2id).
    #[arg(long, default_value_t = 400)]
    creates_with_password: usize,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// PostgreSQL server to create a fresh database on (default: IDHUB_TEST_PG_URL).
    #[arg(long)]
    pg_url: Option<String>,
    /// The idhub binary (built with --release).
    #[arg(long, default_value = "target/release/idhub")]
    bin: PathBuf,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Lat {
    p50: f64,
    p99: f64,
}

fn summarize(mut v: Vec<f64>) -> Lat {
    v.sort_by(|a, b| a.total_cmp(b));
    Lat { p50: pct(&v, 0.5), p99: pct(&v, 0.99) }
}

fn users_for(org: &OrgId, type_id: &str, from: usize, to: usize, now: i64) -> Vec<User> {
    (from..to)
        .map(|i| {
            let login = format!("user{i:07}@bench.example");
            let profile = json!({ "login": login, "email": login, "firstName": format!("First{i}"), "lastName": format!("Last{}", i % 1000), "department": "Engineering" });
            User {
                id: UserId::generate(),
                org_id: org.clone(),
                status: UserStatus::Staged,
                transitioning_to: None,
                profile: profile.as_object().cloned().unwrap_or_default(),
                type_id: type_id.to_string(),
                provider: ProviderType::Okta,
                provider_name: "OKTA".into(),
                password_hash: None,
                recovery_question: None,
                created: now,
                activated: None,
                status_changed: None,
                last_login: None,
                last_updated: now,
                password_changed: None,
                admin_role: None,
                failed_logins: 0,
            }
        })
        .collect()
}

/// Load users `[from, to)`; returns users per second.
async fn bulk(store: &Store, org: &OrgId, type_id: &str, from: usize, to: usize) -> Res<f64> {
    let start = Instant::now();
    let now = 1_700_000_000_000;
    let mut i = from;
    while i < to {
        let end = (i + 20_000).min(to);
        store.bulk_insert_users(&users_for(org, type_id, i, end, now)).await?;
        i = end;
    }
    Ok((to - from) as f64 / start.elapsed().as_secs_f64())
}

async fn timed_gets(http: &reqwest::Client, urls: &[String], token: &str) -> Res<Vec<f64>> {
    let mut v = Vec::with_capacity(urls.len());
    for u in urls {
        let t = Instant::now();
        let r = http.get(u).header("Authorization", format!("SSWS {token}")).send().await?;
        let status = r.status();
        let _ = r.bytes().await?;
        if !status.is_success() {
            return Err(format!("GET {u}: {status}").into());
        }
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(v)
}

struct ListFigures {
    first: Lat,
    deep: Lat,
}

async fn list_latency(http: &reqwest::Client, base: &str, token: &str, n_users: usize) -> Res<ListFigures> {
    // Warm up, then 100 requests each for the first page and for a page near the end.
    let first: Vec<String> = (0..110).map(|_| format!("{base}/api/v1/users?limit=200")).collect();
    let cursor = idhub_store::encode_cursor(n_users.saturating_sub(400) as i64);
    let deep: Vec<String> = (0..110).map(|_| format!("{base}/api/v1/users?limit=200&after={cursor}")).collect();
    let f = timed_gets(http, &first, token).await?;
    let d = timed_gets(http, &deep, token).await?;
    Ok(ListFigures { first: summarize(f[10..].to_vec()), deep: summarize(d[10..].to_vec()) })
}

async fn get_latency(http: &reqwest::Client, base: &str, token: &str, n_users: usize, count: usize) -> Res<Lat> {
    let step = (n_users / count).max(1);
    let urls: Vec<String> = (0..count).map(|k| format!("{base}/api/v1/users/user{:07}@bench.example", (k * step + 7) % n_users)).collect();
    Ok(summarize(timed_gets(http, &urls, token).await?))
}

async fn create_rate(base: &str, token: &str, clients: usize, total: usize, password: bool, tag: &str) -> Res<f64> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (base, token, tag) = (base.to_string(), token.to_string(), tag.to_string());
        let n = total / clients + usize::from(c < total % clients);
        tasks.push(tokio::spawn(async move {
            let http = client();
            for i in 0..n {
                let login = format!("{tag}-{c}-{i}@create.example");
                let mut body = json!({ "profile": { "login": login, "email": login, "firstName": "New", "lastName": "User" } });
                if password {
                    body["credentials"] = json!({ "password": { "value": "Bench-Passw0rd" } });
                }
                let r = http
                    .post(format!("{base}/api/v1/users?activate={password}"))
                    .header("Authorization", format!("SSWS {token}"))
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !r.status().is_success() {
                    return Err(format!("create: {}", r.status()));
                }
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

async fn run_backend(args: &Args, backend: &str) -> Res<()> {
    println!("\n## {backend}\n");
    let pg = args.pg_url.clone().or_else(|| std::env::var("IDHUB_TEST_PG_URL").ok());
    let db = fresh_db(backend, pg.as_deref()).await?;
    let listen = format!("127.0.0.1:{}", idhub_benchmarks::free_port("127.0.0.1")?);
    let base = format!("http://{listen}");
    cli(&args.bin, &["org", "create", "--name", "bench", "--base-url", &base], &db)?;
    let token = cli(&args.bin, &["token", "create", "--org", "bench", "--name", "bench"], &db)?;
    let store = Store::open_url(&db.url).await?;
    let org = store.org_by_name("bench").await?;
    let small_rate = bulk(&store, &org.id, &org.user_type_id, 0, args.small).await?;
    let http = client();
    let server = Server::start(&args.bin, &db, &listen, &[]).await?;
    let small = list_latency(&http, &base, &token, args.small).await?;
    let small_get = get_latency(&http, &base, &token, args.small, 1000).await?;
    server.stop();
    let big_rate = bulk(&store, &org.id, &org.user_type_id, args.small, args.users).await?;
    store.close().await;
    let server = Server::start(&args.bin, &db, &listen, &[]).await?;
    let big = list_latency(&http, &base, &token, args.users).await?;
    let big_get = get_latency(&http, &base, &token, args.users, 2000).await?;
    let (rss_after_reads, _) = server.memory_mb();
    let create = create_rate(&base, &token, args.clients, args.creates, false, "np").await?;
    let (rss_after_creates, _) = server.memory_mb();
    let create_pw = create_rate(&base, &token, args.clients, args.creates_with_password, true, "pw").await?;
    let (rss, hwm) = server.memory_mb();
    server.stop();
    let ratio_first = big.first.p50 / small.first.p50;
    let ratio_deep = big.deep.p50 / small.deep.p50;
    let ok = |b: bool| if b { "PASS" } else { "FAIL" };
    println!("| measurement | {} users | {} users | ratio | goal |", args.small, args.users);
    println!("|---|---|---|---|---|");
    println!("| bulk load through the store (users/s) | {small_rate:.0} | {big_rate:.0} | | |");
    println!(
        "| list `limit=200`, first page p50 / p99 (ms) | {:.2} / {:.2} | {:.2} / {:.2} | {ratio_first:.2} | ≤ 1.5 {} |",
        small.first.p50,
        small.first.p99,
        big.first.p50,
        big.first.p99,
        ok(ratio_first <= 1.5)
    );
    println!(
        "| list `limit=200`, page at the end via `after` p50 / p99 (ms) | {:.2} / {:.2} | {:.2} / {:.2} | {ratio_deep:.2} | ≤ 1.5 {} |",
        small.deep.p50,
        small.deep.p99,
        big.deep.p50,
        big.deep.p99,
        ok(ratio_deep <= 1.5)
    );
    println!(
        "| `GET /users/{{login}}` p50 / p99 (ms) | {:.2} / {:.2} | {:.2} / {:.2} | | |",
        small_get.p50, small_get.p99, big_get.p50, big_get.p99
    );
    println!("| API create user, no password, {} clients (users/s) | | {create:.0} | | |", args.clients);
    println!("| API create user with password (argon2id), {} clients (users/s) | | {create_pw:.1} | | |", args.clients);
    println!("| server RSS after reads / after creates without password / after creates with password / peak (MB) | | {rss_after_reads:.0} / {rss_after_creates:.0} / {rss:.0} / {hwm:.0} | | ≤ 300 {} |", ok(hwm <= 300.0));
    Ok(())
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!(
        "# idhub benchmark\n\nmachine: {}\nusers: {}, small point: {}, clients: {}; rate limits lifted for the run",
        machine(),
        args.users,
        args.small,
        args.clients
    );
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        b => vec![b],
    };
    let mut failed = false;
    for b in backends {
        if let Err(e) = run_backend(&args, b).await {
            eprintln!("{b}: {e}");
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
