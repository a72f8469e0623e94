//! `idhub-bench-push` (P4): a spoke pushes N assigned users (create + activate + one group
//! membership) into a hub over loopback, two `idhub serve` processes with their own
//! databases (spoke on 127.0.0.2, hub on 127.0.0.3). Printed side by side from one run:
//! users per second end to end (group assigned → every user pushed, then the group pushed
//! with its N members), the hub's raw rate for the same work by an optimal client
//! (concurrent `POST /users?activate=true` with `groupIds`) just before, their ratio (goal
//! ≥ 0.8), CPU seconds per pushed user on each side, and each process's peak RSS.

use clap::Parser;
use idhub_benchmarks::{call, cli, client, fresh_db, machine, Res, Server};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "P4: Org2Org push throughput spoke → hub")]
struct Args {
    /// Users assigned and pushed.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Users the optimal client creates in the hub to measure its raw rate.
    #[arg(long, default_value_t = 3_000)]
    raw: usize,
    /// Concurrent clients of the optimal client (and of the spoke's loading).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// PostgreSQL server for fresh databases (default: IDHUB_TEST_PG_URL).
    #[arg(long)]
    pg_url: Option<String>,
    /// Provisioning jobs the spoke runs at once (`provisioning.batch`).
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// The idhub binary (built with --release).
    #[arg(long, default_value = "target/release/idhub")]
    bin: PathBuf,
}

/// Create `n` users at `base` with `clients` concurrent clients; users per second.
async fn create_users(base: &str, token: &str, clients: usize, n: usize, tag: &str, group: Option<&str>) -> Res<f64> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (base, token, tag, group) = (base.to_string(), token.to_string(), tag.to_string(), group.map(str::to_string));
        let count = n / clients + usize::from(c < n % clients);
        tasks.push(tokio::spawn(async move {
            let http = client();
            for i in 0..count {
                let login = format!("{tag}{c:02}x{i:06}@bench.example");
                let mut body = json!({ "profile": { "login": login, "email": login, "firstName": "Push", "lastName": format!("U{i}") } });
                if let Some(g) = &group {
                    body["groupIds"] = json!([g]);
                }
                call(&http, reqwest::Method::POST, format!("{base}/api/v1/users?activate=true"), &token, Some(body))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> Res<()> {
    let args = Args::parse();
    let pg = args.pg_url.clone().or_else(|| std::env::var("IDHUB_TEST_PG_URL").ok());
    let (hub_db, spoke_db) = (fresh_db(&args.backend, pg.as_deref()).await?, fresh_db(&args.backend, pg.as_deref()).await?);
    let hub_listen = format!("127.0.0.3:{}", idhub_benchmarks::free_port("127.0.0.3")?);
    let spoke_listen = format!("127.0.0.2:{}", idhub_benchmarks::free_port("127.0.0.2")?);
    let (hub_url, spoke_url) = (format!("http://{hub_listen}"), format!("http://{spoke_listen}"));
    cli(&args.bin, &["org", "create", "--name", "hub", "--base-url", &hub_url], &hub_db)?;
    cli(&args.bin, &["org", "create", "--name", "spoke", "--base-url", &spoke_url], &spoke_db)?;
    let hub_token = cli(&args.bin, &["token", "create", "--org", "hub", "--name", "bench"], &hub_db)?;
    let connector_token = cli(&args.bin, &["token", "create", "--org", "hub", "--name", "connector"], &hub_db)?;
    let spoke_token = cli(&args.bin, &["token", "create", "--org", "spoke", "--name", "bench"], &spoke_db)?;
    let hub = Server::start(&args.bin, &hub_db, &hub_listen, &[]).await?;
    let batch = args.batch.to_string();
    let spoke = Server::start(&args.bin, &spoke_db, &spoke_listen, &[("IDHUB_PROVISIONING__BATCH", batch.as_str())]).await?;
    let http = client();
    let get = |url: String, token: String| {
        let http = http.clone();
        async move { call(&http, reqwest::Method::GET, url, &token, None).await }
    };

    // The hub's raw rate for the same work (create + activate + one membership), by an optimal client.
    let rg =
        call(&http, reqwest::Method::POST, format!("{hub_url}/api/v1/groups"), &hub_token, Some(json!({ "profile": { "name": "Raw" } })))
            .await?;
    let raw = create_users(&hub_url, &hub_token, args.clients, args.raw, "raw", rg["id"].as_str()).await?;

    // The spoke: N users in a group, the Org2Org app with provisioning to the hub.
    let g = call(
        &http,
        reqwest::Method::POST,
        format!("{spoke_url}/api/v1/groups"),
        &spoke_token,
        Some(json!({ "profile": { "name": "Contractors" } })),
    )
    .await?;
    let gid = g["id"].as_str().unwrap_or_default().to_string();
    create_users(&spoke_url, &spoke_token, args.clients, args.users, "push", Some(&gid)).await?;
    let app_id = idhub_benchmarks::org2org_app(&http, &spoke_url, &spoke_token, &hub_url, &connector_token).await?;
    call(
        &http,
        reqwest::Method::PUT,
        format!("{spoke_url}/api/v1/apps/{app_id}/features/USER_PROVISIONING"),
        &spoke_token,
        Some(json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } }, "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } })),
    )
    .await?;

    // Assign the group and time until every push is done.
    let (hub_cpu0, spoke_cpu0) = (hub.cpu_seconds(), spoke.cpu_seconds());
    let start = Instant::now();
    call(
        &http,
        reqwest::Method::PUT,
        format!("{spoke_url}/api/v1/apps/{app_id}/groups/{gid}"),
        &spoke_token,
        Some(json!({ "profile": { "initialStatus": "active" } })),
    )
    .await?;
    let deadline = start + Duration::from_secs(3600);
    loop {
        let p = get(format!("{spoke_url}/api/v1/apps/{app_id}/idhub/provisioning/progress"), spoke_token.clone()).await?;
        let done = p["done"].as_u64().unwrap_or(0) as usize;
        let failed = p["failed"].as_u64().unwrap_or(0);
        if failed > 0 {
            return Err(format!("{failed} pushes failed").into());
        }
        if done >= args.users {
            break;
        }
        if Instant::now() > deadline {
            return Err("the push did not finish within an hour".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let users_done = start.elapsed().as_secs_f64();
    // Then Push Groups: the Contractors group with its N members.
    call(
        &http,
        reqwest::Method::POST,
        format!("{spoke_url}/api/v1/apps/{app_id}/idhub/group-push"),
        &spoke_token,
        Some(json!({ "groupId": gid })),
    )
    .await?;
    loop {
        let pushes = get(format!("{spoke_url}/api/v1/apps/{app_id}/idhub/group-push"), spoke_token.clone()).await?;
        let first = pushes.as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null);
        if first["status"] == "ERROR" {
            return Err(format!("the group push failed: {first}").into());
        }
        if first["status"] == "ACTIVE" {
            break;
        }
        if Instant::now() > deadline {
            return Err("the group push did not finish within an hour".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (hub_cpu, spoke_cpu) = (hub.cpu_seconds() - hub_cpu0, spoke.cpu_seconds() - spoke_cpu0);
    let (_, hub_peak) = hub.memory_mb();
    let (_, spoke_peak) = spoke.memory_mb();
    // Check: the hub's Contractors group holds every pushed user.
    let groups = get(format!("{hub_url}/api/v1/groups?q=Contractors"), hub_token.clone()).await?;
    let hub_gid = groups[0]["id"].as_str().unwrap_or_default().to_string();
    let (mut members, mut url) = (0usize, Some(format!("{hub_url}/api/v1/groups/{hub_gid}/users?limit=200")));
    while let Some(u) = url.take() {
        let r = http.get(&u).header("Authorization", format!("SSWS {hub_token}")).send().await?;
        url = r
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.contains("rel=\"next\""))
            .map(|l| l.trim_start_matches('<').split('>').next().unwrap_or_default().to_string());
        members += r.json::<Value>().await?.as_array().map(Vec::len).unwrap_or(0);
    }
    if members != args.users {
        return Err(format!("the hub group has {members} members, not {}", args.users).into());
    }
    let e2e = args.users as f64 / elapsed;
    let ratio = e2e / raw;
    println!("# P4: Org2Org push, spoke → hub ({})\n", args.backend);
    println!("machine: {}", machine());
    println!(
        "users pushed: {} (create + activate), raw-rate sample: {} users, {} concurrent clients\n",
        args.users, args.raw, args.clients
    );
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| end to end, group assigned → users pushed → group pushed with its members (users/s) | {e2e:.0} ({elapsed:.1} s; users {users_done:.1} s) |");
    println!("| hub raw API rate for the same work, optimal client (users/s) | {raw:.0} |");
    println!("| **P4 ratio** (goal ≥ 0.8) | **{ratio:.2}** {} |", if ratio >= 0.8 { "PASS" } else { "FAIL" });
    println!(
        "| CPU per pushed user, spoke / hub (ms) | {:.2} / {:.2} |",
        spoke_cpu * 1000.0 / args.users as f64,
        hub_cpu * 1000.0 / args.users as f64
    );
    println!("| peak RSS, spoke / hub (MB) | {spoke_peak:.0} / {hub_peak:.0} |");
    hub.stop();
    spoke.stop();
    Ok(())
}
