//! The `idhub` binary: `serve` runs the server; `org` and `token` manage orgs and API
//! tokens directly in the database (they work while `serve` runs).

mod cli;
mod config;
mod demo;
mod demo_sp;
mod serve;

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idhub: {e}");
            ExitCode::FAILURE
        }
    }
}
