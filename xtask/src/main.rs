//! `cargo xtask test`: every test suite on a fresh Debian machine, in one command.
//!
//! 1. Prerequisites: probes what each part needs (build headers, `xmlsec1`, PostgreSQL,
//!    Python's venv, Debian's chromium and chromium-driver); as root it installs the missing Debian packages (one `apt-get
//!    update`, one `apt-get install -y`), otherwise it names what it skips, loudly.
//! 2. `interop/.venv` from `interop/requirements.txt`, reused while the file's hash holds.
//! 3. A throwaway PostgreSQL (initdb into a temp dir, loopback port), whose URL reaches the
//!    test processes as `IDHUB_TEST_PG_URL`; a watchdog removes it even if we are killed.
//! 4. `cargo fmt --check` and `cargo clippy --workspace --all-targets -- -D warnings`,
//!    `cargo test --workspace`, then `cargo build -p idhub` and the interop suites (real
//!    peers against a real idhub), each on SQLite and on PostgreSQL.
//! 5. A summary ending in `N passed, N failed[, N skipped]` (suites); non-zero exit on any
//!    failure, and with `CI=true` on any skip too.
//!
//! `cargo xtask fuzz [--seconds N]` runs the fuzz target for a set time (not part of `test`).
//!
//! Standard library only: this must build before anything else can.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod fuzz;
mod postgres;

use fuzz::fuzz;
use postgres::{pg_bin, Postgres};
#[cfg(test)]
use postgres::{pg_shell_line, RunAs};

/// The lints the test command runs before the Rust tests: a name and cargo's arguments.
const LINTS: &[(&str, &[&str])] = &[
    ("lint: cargo fmt --check", &["fmt", "--all", "--check"]),
    ("lint: cargo clippy --workspace --all-targets -- -D warnings", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
];

/// One interop suite can never take longer than this (a hung server must not hang CI).
const INTEROP_TIMEOUT: Duration = Duration::from_secs(10 * 60);

const USAGE: &str = "usage: cargo xtask test [--no-rust] [--no-interop] [--only TEXT]

  Runs every test suite: installs missing Debian packages when root, creates interop/.venv,
  starts a throwaway PostgreSQL, runs the lints (fmt, clippy), `cargo test --workspace` and the interop suites on
  SQLite and PostgreSQL. With CI=true a skipped part is a failure.

  --no-rust      skip the lints and `cargo test --workspace` (counted as skipped)
  --no-interop   skip the interop suites (counted as skipped)
  --only TEXT    run only the interop suites whose label or path contains TEXT
                 (e.g. `--no-rust --only browser`); the others are not listed

usage: cargo xtask fuzz [--seconds N] [--target NAME] [--no-detect-leaks]

  Runs a cargo-fuzz (libFuzzer) target for N seconds (default 60; target default acs_verify)
  from its committed seeds (the SAML vectors and attack corpus under crates/saml/tests/vectors)
  into a working corpus (fuzz/corpus/NAME, not committed) and prints executions per second. Needs cargo-fuzz (`cargo install cargo-fuzz`)
  and nightly-only compiler flags, which the stable toolchain accepts with RUSTC_BOOTSTRAP=1
  (set here). LeakSanitizer runs too (a leak is a finding) unless --no-detect-leaks.
  Not part of `cargo xtask test`.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, rest)) if cmd == "test" => {
            let mut opts = Options::default();
            let mut rest = rest.iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--only" => match rest.next() {
                        Some(t) => opts.only = Some(t.clone()),
                        None => {
                            eprintln!("xtask: --only needs a suite name\n\n{USAGE}");
                            return ExitCode::from(2);
                        }
                    },
                    "--no-rust" => opts.no_rust = true,
                    "--no-interop" => opts.no_interop = true,
                    "-h" | "--help" => {
                        println!("{USAGE}");
                        return ExitCode::SUCCESS;
                    }
                    other => {
                        eprintln!("xtask: unknown option {other}\n\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            test(&opts)
        }
        Some((cmd, rest)) if cmd == "fuzz" => {
            let mut seconds: u64 = 60;
            let mut target = "acs_verify".to_string();
            let mut detect_leaks = true;
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                if a == "--no-detect-leaks" {
                    detect_leaks = false;
                    continue;
                }
                match (a.as_str(), it.next()) {
                    ("--seconds", Some(n)) if n.parse::<u64>().is_ok_and(|n| n > 0) => seconds = n.parse().unwrap_or(60),
                    ("--target", Some(t)) if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                        target = t.clone()
                    }
                    _ => {
                        eprintln!("xtask: bad fuzz option {a}\n\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            fuzz(seconds, &target, detect_leaks)
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[derive(Default)]
struct Options {
    no_rust: bool,
    no_interop: bool,
    only: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Small helpers

fn root_dir() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

fn is_root() -> bool {
    // The effective uid is the second field of /proc/self/status's `Uid:` line.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn banner(lines: &[String]) {
    let bar = "!".repeat(88);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{bar}");
    for l in lines {
        let _ = writeln!(err, "!!! {l}");
    }
    let _ = writeln!(err, "{bar}\n");
}

fn step(msg: &str) {
    eprintln!("\n==> {msg}");
}

/// Runs a command to completion with inherited output; `Err` says why it did not succeed.
fn run(cmd: &mut Command) -> Result<(), String> {
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(describe(s)),
        Err(e) => Err(format!("cannot run {:?}: {e}", cmd.get_program())),
    }
}

/// Runs quietly; true when it exits 0. For probes.
fn probe(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn describe(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "abnormal exit".into(),
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Runs with a time limit. On timeout the child gets SIGINT (pytest then tears its
/// fixtures down, stopping the servers it started), then SIGKILL 20 s later.
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Result<ExitStatus, String> {
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
                let grace = Instant::now() + Duration::from_secs(20);
                while Instant::now() < grace {
                    if let Ok(Some(_)) = child.try_wait() {
                        return Err(format!("timed out after {} s", limit.as_secs()));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s (killed)", limit.as_secs()));
            }
            Err(e) => return Err(format!("waiting for {:?}: {e}", cmd.get_program())),
        }
    }
}

/// Quotes a word for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// FNV-1a, 64 bits: a stable fingerprint (std's `DefaultHasher` is not promised stable).
fn fnv1a(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0xff)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

// ---------------------------------------------------------------------------------------
// Prerequisites

/// What a Debian package gives the suites, and how to tell it is there without dpkg
/// (a probe of the capability, so non-Debian machines that have it are not bothered).
struct Package {
    name: &'static str,
    present: fn() -> bool,
    /// The part of the run that cannot happen without it.
    needed_for: Need,
}

#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// Compiling idhub; nothing is skipped (the build is tried and fails loudly).
    Build,
    /// The PostgreSQL halves of every suite.
    Postgres,
    /// The Python venv, hence every interop suite.
    Venv,
    /// The pysaml2 suite (it verifies signatures by running the xmlsec1 binary).
    Xmlsec1,
    /// The browser suite (headless Debian chromium driven through chromium-driver).
    Chromium,
}

impl Need {
    fn describe(self) -> &'static str {
        match self {
            Need::Build => "building idhub (the SAML crate links libxmlsec1 via bindgen); the build is tried anyway and will fail",
            Need::Postgres => "SKIPPING the PostgreSQL half: the Rust suites on PostgreSQL and the interop suites on PostgreSQL",
            Need::Venv => "SKIPPING every interop suite (they run in a Python venv)",
            Need::Xmlsec1 => "SKIPPING the pysaml2 interop suite (pysaml2 verifies signatures with the xmlsec1 binary)",
            Need::Chromium => "SKIPPING the browser suite (headless /usr/bin/chromium driven by /usr/bin/chromedriver; never downloaded)",
        }
    }
}

const PACKAGES: &[Package] = &[
    Package { name: "pkg-config", present: || probe("pkg-config", &["--version"]), needed_for: Need::Build },
    Package { name: "libxmlsec1-dev", present: || probe("pkg-config", &["--exists", "xmlsec1"]), needed_for: Need::Build },
    Package { name: "libclang-dev", present: has_libclang, needed_for: Need::Build },
    Package { name: "xmlsec1", present: || probe("xmlsec1", &["--version"]), needed_for: Need::Xmlsec1 },
    Package { name: "postgresql", present: || pg_bin().is_some(), needed_for: Need::Postgres },
    // Only when Python's venv module cannot bootstrap pip (Debian splits ensurepip out).
    Package { name: "python3-venv", present: || probe("python3", &["-c", "import ensurepip, venv"]), needed_for: Need::Venv },
    // Debian's browser and its WebDriver, at the paths the browser suite uses (interop/browser/webdriver.py).
    Package { name: "chromium", present: || probe("/usr/bin/chromium", &["--version"]), needed_for: Need::Chromium },
    Package { name: "chromium-driver", present: || probe("/usr/bin/chromedriver", &["--version"]), needed_for: Need::Chromium },
];

fn dpkg_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn has_libclang() -> bool {
    if dpkg_installed("libclang-dev") || std::env::var_os("LIBCLANG_PATH").is_some() {
        return true;
    }
    let mut dirs: Vec<PathBuf> = vec!["/usr/lib/x86_64-linux-gnu".into(), "/usr/lib/aarch64-linux-gnu".into(), "/usr/lib64".into()];
    if let Ok(rd) = std::fs::read_dir("/usr/lib") {
        dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().contains("llvm")).map(|p| p.join("lib")));
    }
    dirs.iter().any(|d| {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("libclang") && e.file_name().to_string_lossy().contains(".so"))
            })
            .unwrap_or(false)
    })
}

/// Installs what is missing when it can; returns the needs still unmet, each with why.
fn prerequisites() -> Vec<(Need, String)> {
    let missing: Vec<&Package> = PACKAGES.iter().filter(|p| !(p.present)()).collect();
    if missing.is_empty() {
        eprintln!("all present: {}", PACKAGES.iter().map(|p| p.name).collect::<Vec<_>>().join(" "));
        return Vec::new();
    }
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    let hint = format!("sudo apt-get install -y {}", names.join(" "));
    let why = if !is_root() {
        format!("not root, so not installed; to install: {hint}")
    } else if which("apt-get").is_none() {
        "no apt-get here, so not installed".to_string()
    } else {
        eprintln!("missing: {}; installing them with apt-get", names.join(" "));
        let apt = |args: &[&str]| run(Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").stdin(Stdio::null()));
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(&names);
        match apt(&["update", "-q"]).and_then(|()| apt(&install)) {
            Ok(()) => "installed by apt-get but still not usable".to_string(),
            Err(e) => format!("apt-get failed: {e}"),
        }
    };
    let still: Vec<&Package> = missing.into_iter().filter(|p| !(p.present)()).collect();
    if still.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!("MISSING PREREQUISITES: {} — {why}", still.iter().map(|p| p.name).collect::<Vec<_>>().join(" "))];
    lines.extend(still.iter().map(|p| format!("  {}: {}", p.name, p.needed_for.describe())));
    if ci() {
        lines.push("CI=true: a missing prerequisite fails the run".into());
    }
    banner(&lines);
    let short = why.split(';').next().unwrap_or(&why).to_string();
    still.iter().map(|p| (p.needed_for, format!("{} missing ({short})", p.name))).collect()
}

// ---------------------------------------------------------------------------------------
// Suites and the summary

#[derive(Clone)]
enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

struct Suite {
    name: String,
    outcome: Outcome,
    took: Duration,
}

struct Report {
    suites: Vec<Suite>,
    /// Prerequisites still missing after the install attempt (a failure under `CI=true`).
    missing: Vec<String>,
}

impl Report {
    fn add(&mut self, name: impl Into<String>, outcome: Outcome, took: Duration) {
        let name = name.into();
        match &outcome {
            Outcome::Passed => eprintln!("--> {name}: passed ({:.0?})", took),
            Outcome::Failed(why) => eprintln!("--> {name}: FAILED: {why}"),
            Outcome::Skipped(why) => eprintln!("--> {name}: SKIPPED: {why}"),
        }
        self.suites.push(Suite { name, outcome, took });
    }

    fn finish(&self, started: Instant) -> ExitCode {
        let count = |f: fn(&Outcome) -> bool| self.suites.iter().filter(|s| f(&s.outcome)).count();
        let passed = count(|o| matches!(o, Outcome::Passed));
        let failed = count(|o| matches!(o, Outcome::Failed(_)));
        let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
        eprintln!("\n==> summary ({:.0?} in all)", started.elapsed());
        for s in &self.suites {
            let mark = match &s.outcome {
                Outcome::Passed => format!("ok ({:.0?})", s.took),
                Outcome::Failed(why) => format!("FAILED: {why}"),
                Outcome::Skipped(why) => format!("SKIPPED: {why}"),
            };
            eprintln!("  {:<44} {mark}", s.name);
        }
        if skipped > 0 {
            let mut lines: Vec<String> = self
                .suites
                .iter()
                .filter_map(|s| match &s.outcome {
                    Outcome::Skipped(why) => Some(format!("SKIPPED {}: {why}", s.name)),
                    _ => None,
                })
                .collect();
            if ci() {
                lines.push("CI=true: nothing may be skipped, so this run FAILS".into());
            }
            banner(&lines);
        }
        let _ = std::io::stderr().flush();
        if skipped > 0 {
            println!("{passed} passed, {failed} failed, {skipped} skipped");
        } else {
            println!("{passed} passed, {failed} failed");
        }
        if ci() && !self.missing.is_empty() {
            banner(&[format!("CI=true and prerequisites are missing: {}", self.missing.join("; "))]);
        }
        if failed > 0 || (ci() && (skipped > 0 || !self.missing.is_empty())) {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// An interop suite: a pytest path under `interop/`, run once per backend.
struct Interop {
    label: &'static str,
    path: &'static str,
    /// A prerequisite beyond the venv (a binary the peer runs).
    needs: Option<Need>,
}

const INTEROP: &[Interop] = &[
    Interop { label: "okta SDK 3.4.6", path: "interop/okta_sdk", needs: None },
    Interop { label: "python3-saml SP", path: "interop/saml_sp/test_python3_saml.py", needs: None },
    Interop { label: "pysaml2 SP", path: "interop/saml_sp/test_pysaml2.py", needs: Some(Need::Xmlsec1) },
    Interop { label: "seeds walkthrough (two processes, python3-saml as Dropbox)", path: "interop/walkthrough", needs: None },
    // The hub as SP of outside IdPs (pysaml2 IdP, xmlsec1 CLI, negative corpus).
    Interop { label: "inbound SAML IdPs", path: "interop/saml_idp", needs: Some(Need::Xmlsec1) },
    // The security issue's classes from outside: roles and tokens through the okta SDK,
    // redirect targets, the egress rule.
    Interop { label: "security (okta SDK, HTTP)", path: "interop/security", needs: None },
    Interop { label: "browser Chromium", path: "interop/browser", needs: Some(Need::Chromium) },
];

const BACKENDS: &[&str] = &["sqlite", "postgres"];

fn test(opts: &Options) -> ExitCode {
    let started = Instant::now();
    let root = root_dir();
    if ci() {
        eprintln!("CI=true: every missing prerequisite or skipped part is a failure");
    }

    step("prerequisites");
    let unmet = prerequisites();
    let mut report = Report { suites: Vec::new(), missing: unmet.iter().map(|(_, why)| why.clone()).collect() };
    let unmet_reason = |need: Need| unmet.iter().find(|(n, _)| *n == need).map(|(_, why)| why.clone());

    let wanted = |s: &Interop| opts.only.as_ref().is_none_or(|t| s.label.contains(t.as_str()) || s.path.contains(t.as_str()));
    let interop: Vec<&Interop> = INTEROP.iter().filter(|s| root.join(s.path).exists() && wanted(s)).collect();
    // Err((reason, skipped)): skipped when a prerequisite is missing, failed when making the venv failed.
    let py = if opts.no_interop || interop.is_empty() {
        Err((if opts.no_interop { "--no-interop".to_string() } else { "no interop suites found".to_string() }, true))
    } else if let Some(why) = unmet_reason(Need::Venv) {
        Err((why, true))
    } else {
        step("Python venv for the interop peers (interop/.venv)");
        venv(&root.join("interop")).map_err(|e| (e, false))
    };

    step("a throwaway PostgreSQL");
    let pg = match unmet_reason(Need::Postgres) {
        Some(why) => Err(why),
        None => Postgres::start().map_err(|e| {
            banner(&[format!("PostgreSQL could not be started: {e}")]);
            format!("PostgreSQL could not be started: {e}")
        }),
    };
    if let Ok(pg) = &pg {
        eprintln!("IDHUB_TEST_PG_URL={}", pg.url);
    }
    let pg_url = pg.as_ref().ok().map(|p| p.url.clone());

    // 1. The Rust suites, after the lints (formatting, then clippy with warnings as errors).
    if opts.no_rust {
        for name in LINTS.iter().map(|(name, _)| name) {
            report.add(*name, Outcome::Skipped("--no-rust".into()), Duration::ZERO);
        }
        report.add("rust: cargo test --workspace", Outcome::Skipped("--no-rust".into()), Duration::ZERO);
    } else {
        for (name, args) in LINTS {
            step(name);
            let t = Instant::now();
            let outcome = match run(cargo().current_dir(&root).args(*args)) {
                Ok(()) => Outcome::Passed,
                Err(e) => Outcome::Failed(e),
            };
            report.add(*name, outcome, t.elapsed());
        }
        step("cargo test --workspace");
        let t = Instant::now();
        let mut cmd = cargo();
        cmd.current_dir(&root).args(["test", "--workspace"]);
        match &pg_url {
            Some(url) => cmd.env("IDHUB_TEST_PG_URL", url),
            None => cmd.env_remove("IDHUB_TEST_PG_URL"),
        };
        let outcome = match run(&mut cmd) {
            Ok(()) => Outcome::Passed,
            Err(e) => Outcome::Failed(e),
        };
        report.add("rust: cargo test --workspace", outcome, t.elapsed());
        if let Err(why) = &pg {
            report.add("rust: PostgreSQL half", Outcome::Skipped(why.clone()), Duration::ZERO);
        }
    }

    // 2. The interop suites, against the idhub binary.
    match &py {
        Err((why, skipped)) => {
            for s in &interop {
                for backend in BACKENDS {
                    let outcome = if *skipped { Outcome::Skipped(why.clone()) } else { Outcome::Failed(why.clone()) };
                    report.add(format!("interop {} ({backend})", s.label), outcome, Duration::ZERO);
                }
            }
            if interop.is_empty() && !opts.no_interop {
                report.add("interop", Outcome::Failed("no interop suites found under interop/".into()), Duration::ZERO);
            }
        }
        Ok(py) => {
            step("cargo build -p idhub");
            let built = run(cargo().current_dir(&root).args(["build", "-p", "idhub"]));
            let bin = target_dir(&root).join("debug/idhub");
            for s in &interop {
                for backend in BACKENDS {
                    let name = format!("interop {} ({backend})", s.label);
                    let skip = s.needs.and_then(unmet_reason);
                    let skip = skip.or_else(|| if *backend == "postgres" { pg.as_ref().err().cloned() } else { None });
                    if let Some(why) = skip {
                        report.add(name, Outcome::Skipped(why), Duration::ZERO);
                        continue;
                    }
                    if let Err(e) = &built {
                        report.add(name, Outcome::Failed(format!("cargo build -p idhub failed ({e})")), Duration::ZERO);
                        continue;
                    }
                    step(&name);
                    let t = Instant::now();
                    let mut cmd = Command::new(py);
                    cmd.current_dir(&root)
                        .args(["-m", "pytest", "-q", "-rfEsxX", "-p", "no:cacheprovider"])
                        .arg(root.join(s.path))
                        .env("IDHUB_BIN", &bin)
                        .env("IDHUB_INTEROP_BACKEND", backend)
                        .env("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
                        .stdin(Stdio::null());
                    match &pg {
                        Ok(pg) => {
                            cmd.env("IDHUB_TEST_PG_URL", &pg.url).env("IDHUB_TEST_PG_BIN", &pg.bin);
                        }
                        Err(_) => {
                            cmd.env_remove("IDHUB_TEST_PG_URL");
                        }
                    }
                    let outcome = match run_with_timeout(&mut cmd, INTEROP_TIMEOUT) {
                        Ok(s) if s.success() => Outcome::Passed,
                        // pytest's exit code 5: no tests were collected. A suite that tests nothing fails.
                        Ok(s) if s.code() == Some(5) => Outcome::Failed("pytest collected no tests (exit code 5)".into()),
                        Ok(s) if s.code() == Some(1) => Outcome::Failed("tests failed (pytest exit code 1)".into()),
                        Ok(s) => Outcome::Failed(format!("pytest {}", describe(s))),
                        Err(e) => Outcome::Failed(e),
                    };
                    report.add(name, outcome, t.elapsed());
                }
            }
        }
    }

    drop(pg);
    report.finish(started)
}

fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => root.join(d),
        None => root.join("target"),
    }
}

// ---------------------------------------------------------------------------------------
// The Python venv

/// Creates `interop/.venv` from `interop/requirements.txt`, or reuses it while the hash of
/// that file and of the Python version it was made with still match. Returns its python.
fn venv(interop: &Path) -> Result<PathBuf, String> {
    let req = interop.join("requirements.txt");
    let text = std::fs::read(&req).map_err(|e| format!("{}: {e}", req.display()))?;
    let version =
        Command::new("python3").arg("--version").output().map_err(|e| format!("python3: {e}")).map(|o| [o.stdout, o.stderr].concat())?;
    let hash = fnv1a(&[&text, &version]);
    let dir = interop.join(".venv");
    let py = dir.join("bin/python");
    let stamp = dir.join(".requirements-hash");
    if py.is_file() && std::fs::read_to_string(&stamp).map(|s| s.trim() == hash).unwrap_or(false) {
        eprintln!("reusing {} (requirements.txt unchanged, hash {hash})", dir.display());
        return Ok(py);
    }
    eprintln!("creating {} from {}", dir.display(), req.display());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir))
        .map_err(|e| format!("python3 -m venv failed ({e}); is python3-venv installed?"))?;
    run(Command::new(&py).args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r"]).arg(&req))
        .map_err(|e| format!("pip install -r interop/requirements.txt failed ({e})"))?;
    // Written last: a half-made venv is never reused.
    std::fs::write(&stamp, format!("{hash}\n")).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(py)
}

// ---------------------------------------------------------------------------------------
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_stable_and_separates_parts() {
        assert_eq!(fnv1a(&[]), "cbf29ce484222325");
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
        assert_eq!(fnv1a(&[b"okta==3.4.6\n"]), fnv1a(&[b"okta==3.4.6\n"]));
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        let line = pg_shell_line(Path::new("/usr/lib/postgresql/15/bin"), RunAs::Su, "pg_ctl", &["-D", "/tmp/x y", "stop"]);
        assert_eq!(line, r"su postgres -s /bin/sh -c ''\''/usr/lib/postgresql/15/bin/pg_ctl'\'' '\''-D'\'' '\''/tmp/x y'\'' '\''stop'\'''");
    }
}
