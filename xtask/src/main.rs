//! `cargo xtask test`: the whole test suite on a fresh Debian machine. It installs what
//! it needs (Debian packages when run as root, a Python venv for the interop peers),
//! starts a throwaway PostgreSQL, runs the Rust suites with `IDHUB_TEST_PG_URL` set, then
//! the interop suites against a real idhub on each database. What it cannot run it says
//! loudly; with `CI=true` a skip is a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Debian packages the suites need.
const DEBIAN_PACKAGES: &[&str] = &["pkg-config", "libxmlsec1-dev", "libclang-dev", "xmlsec1", "postgresql", "python3-venv"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(),
        _ => {
            eprintln!("usage: cargo xtask test");
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn banner(msg: &str) {
    let line = "*".repeat(78);
    eprintln!("\n{line}\n*** {msg}\n{line}\n");
}

fn step(msg: &str) {
    eprintln!("\n==> {msg}");
}

fn run(cmd: &mut Command) -> bool {
    match cmd.status() {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("xtask: cannot run {cmd:?}: {e}");
            false
        }
    }
}

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// The outcome of one suite.
struct Suite {
    name: String,
    passed: bool,
    skipped: Option<String>,
}

fn test() -> ExitCode {
    let started = Instant::now();
    let root = root();
    let mut suites: Vec<Suite> = Vec::new();
    let mut skips: Vec<String> = Vec::new();

    step("checking Debian packages");
    let missing: Vec<&str> = DEBIAN_PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        if is_root() {
            eprintln!("installing: {}", missing.join(" "));
            let ok = run(Command::new("apt-get").arg("update").arg("-qq"))
                && run(Command::new("apt-get")
                    .args(["install", "-y", "-qq", "--no-install-recommends"])
                    .args(&missing)
                    .env("DEBIAN_FRONTEND", "noninteractive"));
            if !ok {
                skips.push(format!("could not install Debian packages: {}", missing.join(" ")));
            }
        } else {
            skips.push(format!(
                "Debian packages missing and not root to install them: {} (run: sudo apt-get install -y {})",
                missing.join(" "),
                missing.join(" ")
            ));
        }
    }

    step("starting a throwaway PostgreSQL");
    let pg = match Postgres::start(&root) {
        Ok(pg) => Some(pg),
        Err(e) => {
            skips.push(format!("PostgreSQL half of the suites: {e}"));
            None
        }
    };
    let pg_url = pg.as_ref().map(|p| p.url.clone());

    step("cargo test --workspace");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(&root).args(["test", "--workspace"]);
    match &pg_url {
        Some(url) => {
            cargo.env("IDHUB_TEST_PG_URL", url);
        }
        None => {
            cargo.env_remove("IDHUB_TEST_PG_URL");
        }
    }
    suites.push(Suite { name: "rust (cargo test --workspace)".into(), passed: run(&mut cargo), skipped: None });

    let interop = root.join("interop");
    let suites_dirs: Vec<(&str, &str)> =
        [("okta_sdk", "okta SDK"), ("saml_sp", "python3-saml SP")].into_iter().filter(|(d, _)| interop.join(d).is_dir()).collect();
    if !suites_dirs.is_empty() {
        step("Python venv for the interop peers");
        match venv(&interop) {
            Ok(py) => {
                step("building the idhub binary");
                let built = run(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                    .current_dir(&root)
                    .args(["build", "-p", "idhub"]));
                let bin = root.join("target/debug/idhub");
                for (dir, label) in &suites_dirs {
                    for backend in ["sqlite", "postgres"] {
                        let name = format!("interop {label} ({backend})");
                        if backend == "postgres" && pg_url.is_none() {
                            suites.push(Suite { name, passed: false, skipped: Some("no PostgreSQL".into()) });
                            continue;
                        }
                        step(&name);
                        let mut cmd = Command::new(&py);
                        cmd.current_dir(&root).args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]).arg(interop.join(dir));
                        cmd.env("IDHUB_BIN", &bin)
                            .env("IDHUB_INTEROP_BACKEND", backend)
                            .env("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true");
                        if let Some(url) = &pg_url {
                            cmd.env("IDHUB_TEST_PG_URL", url);
                        }
                        // pytest's exit code 5 (no tests collected) is a failure too.
                        let passed = built && run(&mut cmd);
                        suites.push(Suite { name, passed, skipped: None });
                    }
                }
            }
            Err(e) => {
                skips.push(format!("interop suites (Python venv): {e}"));
                suites.push(Suite { name: "interop".into(), passed: false, skipped: Some(e) });
            }
        }
    }

    drop(pg);
    let passed = suites.iter().filter(|s| s.passed).count();
    let failed = suites.iter().filter(|s| !s.passed && s.skipped.is_none()).count();
    let skipped = suites.iter().filter(|s| s.skipped.is_some()).count() + skips.len();
    eprintln!("\n==> summary ({:.0?})", started.elapsed());
    for s in &suites {
        let mark = match (&s.skipped, s.passed) {
            (Some(why), _) => format!("SKIPPED ({why})"),
            (None, true) => "ok".into(),
            (None, false) => "FAILED".into(),
        };
        eprintln!("  {:<40} {mark}", s.name);
    }
    if !skips.is_empty() {
        banner(&format!("SKIPPED: {}", skips.join("; ")));
    }
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if failed > 0 || (ci() && skipped > 0) {
        if ci() && skipped > 0 {
            eprintln!("CI=true: nothing may be skipped");
        }
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Create or reuse `interop/.venv` from `interop/requirements.txt`; returns its python.
fn venv(interop: &Path) -> Result<PathBuf, String> {
    let req = interop.join("requirements.txt");
    let text = std::fs::read_to_string(&req).map_err(|e| format!("{}: {e}", req.display()))?;
    let dir = interop.join(".venv");
    let py = dir.join("bin/python");
    let stamp = dir.join(".requirements");
    if py.exists() && std::fs::read_to_string(&stamp).map(|s| s == text).unwrap_or(false) {
        return Ok(py);
    }
    let _ = std::fs::remove_dir_all(&dir);
    if !run(Command::new("python3").args(["-m", "venv"]).arg(&dir)) {
        return Err("python3 -m venv failed (install python3-venv)".into());
    }
    if !run(Command::new(&py).args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r"]).arg(&req)) {
        return Err("pip install -r interop/requirements.txt failed".into());
    }
    std::fs::write(&stamp, text).map_err(|e| e.to_string())?;
    Ok(py)
}

/// A PostgreSQL server in a temporary directory, stopped and removed on drop.
struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    url: String,
    as_postgres: bool,
}

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn free_port() -> Option<u16> {
    TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok().map(|a| a.port())
}

impl Postgres {
    fn start(root: &Path) -> Result<Postgres, String> {
        let bin = pg_bin().ok_or("no PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)")?;
        let as_postgres = is_root();
        let dir = root.join("target").join(format!("xtask-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if as_postgres && !run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir)) {
            return Err("cannot chown the PostgreSQL directory to postgres".into());
        }
        // The target dir's parents must be traversable by the postgres user.
        let port = free_port().ok_or("no free port")?;
        let data = dir.join("data");
        let pg =
            Postgres { dir: dir.clone(), bin: bin.clone(), url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), as_postgres };
        let initdb = pg
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .status();
        if !initdb.map(|s| s.success()).unwrap_or(false) {
            return Err("initdb failed".into());
        }
        let opts = format!("-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", dir.display());
        let started = pg
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(opts)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-t", "60", "start"])
            .stdout(Stdio::null())
            .status();
        if !started.map(|s| s.success()).unwrap_or(false) {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {log}"));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("PostgreSQL did not start listening".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("PostgreSQL {} on 127.0.0.1:{port}", bin.display());
        Ok(pg)
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
