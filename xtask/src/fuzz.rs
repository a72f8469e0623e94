//! `cargo xtask fuzz`: a cargo-fuzz target for a set time (not part of `test`).

use super::*;

/// `cargo fuzz run` for a set time; prints libFuzzer's output and then execs/s.
pub(crate) fn fuzz(seconds: u64, target: &str, detect_leaks: bool) -> ExitCode {
    use std::io::BufRead;
    let root = root_dir();
    if !cargo().args(["fuzz", "--version"]).stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| s.success()).unwrap_or(false) {
        eprintln!("xtask: cargo-fuzz is not installed: cargo install cargo-fuzz");
        return ExitCode::FAILURE;
    }
    // Every target so far reads SAML Responses: seeded from the vectors and the attack corpus.
    let seeds = [root.join("crates/saml/tests/vectors"), root.join("crates/saml/tests/vectors/corpus")];
    let corpus = root.join("fuzz/corpus").join(target);
    if let Err(e) = std::fs::create_dir_all(&corpus) {
        eprintln!("xtask: {}: {e}", corpus.display());
        return ExitCode::FAILURE;
    }
    step(&format!("cargo fuzz run {target} for {seconds} s (RUSTC_BOOTSTRAP=1: nightly flags on the stable toolchain)"));
    let mut cmd = cargo();
    cmd.current_dir(&root)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", target])
        .arg(&corpus)
        .args(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .args(["-timeout=10", "-rss_limit_mb=2048", "-max_len=65536", "-print_final_stats=1"])
        .arg(format!("-detect_leaks={}", u8::from(detect_leaks)))
        // LeakSanitizer also runs once at exit, outside libFuzzer's flag.
        .env("ASAN_OPTIONS", format!("detect_leaks={}", u8::from(detect_leaks)))
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("xtask: cargo fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    // libFuzzer reports on stderr; echo it and keep the final counters.
    let (mut runs, mut took) = (None, None);
    if let Some(err) = child.stderr.take() {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
                runs = rest.trim().parse::<u64>().ok();
            }
            if let Some(rest) = line.strip_prefix("Done ") {
                let words: Vec<&str> = rest.split_whitespace().collect();
                if let [n, "runs", "in", s, ..] = words.as_slice() {
                    runs = runs.or(n.parse().ok());
                    took = s.parse::<f64>().ok();
                }
            }
        }
    }
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xtask: cargo fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let (Some(runs), Some(took)) = (runs, took) {
        let rate = runs as f64 / took.max(1.0);
        println!(
            "fuzz {target}: {runs} executions in {took:.0} s = {rate:.0} execs/s, {}",
            if status.success() { "clean" } else { "FAILED" }
        );
    }
    if status.success() {
        ExitCode::SUCCESS
    } else {
        eprintln!("xtask: the fuzz run failed ({}); a crashing input is saved under fuzz/artifacts/{target}/", describe(status));
        ExitCode::FAILURE
    }
}
