//! `idhub-bench-latency`: how long after an assignment the hub has the user. Two `idhub
//! serve` processes with their own databases (spoke on 127.0.0.2, hub on 127.0.0.3); one
//! user at a time is assigned to the Org2Org app directly (`POST /api/v1/apps/{id}/users`),
//! and the clock runs from the moment that call returns until the hub answers the user's
//! login with 200 (polled every 2 ms). Prints the median, 90th percentile and mean.

use clap::Parser;
use idhub_benchmarks::{call, cli, client, fresh_db, machine, Res, Server};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "Assignment to hub user latency (Org2Org)")]
struct Args {
    /// Users assigned, one after the other.
    #[arg(long, default_value_t = 40)]
    users: usize,
    /// The idhub binary.
    #[arg(long, default_value = "target/release/idhub")]
    bin: PathBuf,
}

#[tokio::main]
async fn main() -> Res<()> {
    let args = Args::parse();
    let (hub_db, spoke_db) = (fresh_db("sqlite", None).await?, fresh_db("sqlite", None).await?);
    let hub_listen = format!("127.0.0.3:{}", idhub_benchmarks::free_port("127.0.0.3")?);
    let spoke_listen = format!("127.0.0.2:{}", idhub_benchmarks::free_port("127.0.0.2")?);
    let (hub_url, spoke_url) = (format!("http://{hub_listen}"), format!("http://{spoke_listen}"));
    cli(&args.bin, &["org", "create", "--name", "hub", "--base-url", &hub_url], &hub_db)?;
    cli(&args.bin, &["org", "create", "--name", "spoke", "--base-url", &spoke_url], &spoke_db)?;
    let hub_token = cli(&args.bin, &["token", "create", "--org", "hub", "--name", "bench"], &hub_db)?;
    let spoke_token = cli(&args.bin, &["token", "create", "--org", "spoke", "--name", "bench"], &spoke_db)?;
    let hub = Server::start(&args.bin, &hub_db, &hub_listen, &[]).await?;
    let spoke = Server::start(&args.bin, &spoke_db, &spoke_listen, &[]).await?;
    let http = client();
    let post = reqwest::Method::POST;
    let app_id = idhub_benchmarks::org2org_app(&http, &spoke_url, &spoke_token, &hub_url, &hub_token).await?;
    let mut samples = Vec::with_capacity(args.users);
    for i in 0..args.users {
        let login = format!("lat{i:04}@bench.example");
        let profile = json!({ "login": login, "email": login, "firstName": "Lat", "lastName": format!("U{i}") });
        let u =
            call(&http, post.clone(), format!("{spoke_url}/api/v1/users?activate=true"), &spoke_token, Some(json!({ "profile": profile })))
                .await?;
        call(&http, post.clone(), format!("{spoke_url}/api/v1/apps/{app_id}/users"), &spoke_token, Some(json!({ "id": u["id"] }))).await?;
        let start = Instant::now();
        loop {
            let r = http.get(format!("{hub_url}/api/v1/users/{login}")).header("Authorization", format!("SSWS {hub_token}")).send().await?;
            if r.status().is_success() {
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(format!("{login} did not reach the hub within a minute").into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    println!("# Assignment to hub user latency (sqlite)\n");
    println!("machine: {}", machine());
    println!("users: {} (one at a time, direct assignment)\n", samples.len());
    println!("| measurement | ms |");
    println!("|---|---|");
    println!("| median | {:.1} |", at(0.5));
    println!("| 90th percentile | {:.1} |", at(0.9));
    println!("| mean | {mean:.1} |");
    hub.stop();
    spoke.stop();
    Ok(())
}
