//! The throwaway PostgreSQL of `cargo xtask test`: initdb into a temporary directory,
//! a loopback port, a watchdog that removes it even if xtask is killed.

use super::*;

/// The directory holding `initdb` and `pg_ctl`: on PATH, else Debian's newest
/// `/usr/lib/postgresql/<version>/bin`.
pub(crate) fn pg_bin() -> Option<PathBuf> {
    let usable = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(initdb) = which("initdb") {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(d) = real.parent().filter(|d| usable(d)) {
            return Some(d.to_path_buf());
        }
    }
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().split('.').next()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, d)| usable(d))
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, d)| d)
}

/// How server-side PostgreSQL commands run: PostgreSQL refuses to run as root.
#[derive(Clone, Copy)]
pub(crate) enum RunAs {
    Me,
    Runuser,
    Su,
}

/// A PostgreSQL server in a temporary directory; stopped and removed on drop, or by its
/// watchdog if this process dies first (Ctrl-C, kill).
pub(crate) struct Postgres {
    dir: PathBuf,
    pub(crate) bin: PathBuf,
    pub(crate) url: String,
    run_as: RunAs,
    watchdog: Option<Child>,
}

const PG_DIR_PREFIX: &str = "idhub-xtask-pg-";
const PG_DATABASE: &str = "idhub_test";

impl Postgres {
    pub(crate) fn start() -> Result<Postgres, String> {
        let bin = pg_bin().ok_or("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)")?;
        let run_as = if !is_root() {
            RunAs::Me
        } else if !probe("id", &["-u", "postgres"]) {
            return Err("running as root, and PostgreSQL refuses root, but there is no `postgres` user to run it as".into());
        } else if which("runuser").is_some() {
            RunAs::Runuser
        } else {
            RunAs::Su
        };
        sweep_stale(&bin, run_as);
        let dir = std::env::temp_dir().join(format!("{PG_DIR_PREFIX}{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut pg = Postgres { dir: dir.clone(), bin, url: String::new(), run_as, watchdog: None };
        if !matches!(run_as, RunAs::Me) {
            run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))
                .map_err(|e| format!("chown postgres {}: {e}", dir.display()))?;
        }
        pg.watchdog = pg.spawn_watchdog();
        let data = dir.join("data");
        let out = pg
            .command("initdb", &["-D", &data.to_string_lossy(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed ({}): {}", describe(out.status), String::from_utf8_lossy(&out.stderr).trim()));
        }
        // The port is free when we look; someone may take it before the server binds, so try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| format!("no free port: {e}"))?.port();
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                dir.display()
            );
            let log = dir.join("server.log");
            let status = pg
                .command("pg_ctl", &["-D", &data.to_string_lossy(), "-o", &opts, "-l", &log.to_string_lossy(), "-w", "-t", "60", "start"])
                .stdout(Stdio::null())
                .status()
                .map_err(|e| format!("pg_ctl: {e}"))?;
            if !status.success() {
                last = format!("pg_ctl start failed: {}", std::fs::read_to_string(&log).unwrap_or_default().trim());
                continue;
            }
            let created = Command::new(pg.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", PG_DATABASE])
                .current_dir(&dir)
                .output()
                .map_err(|e| format!("createdb: {e}"))?;
            if !created.status.success() {
                return Err(format!("createdb {PG_DATABASE} failed: {}", String::from_utf8_lossy(&created.stderr).trim()));
            }
            pg.url = format!("postgres://postgres@127.0.0.1:{port}/{PG_DATABASE}");
            eprintln!("PostgreSQL ({}) on 127.0.0.1:{port}, data in {}", pg.bin.display(), dir.display());
            return Ok(pg);
        }
        Err(last)
    }

    /// `tool` from the server's bin directory, as the user PostgreSQL runs as.
    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let path = self.bin.join(tool);
        let mut c = match self.run_as {
            RunAs::Me => {
                let mut c = Command::new(path);
                c.args(args);
                c
            }
            RunAs::Runuser => {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(path).args(args);
                c
            }
            RunAs::Su => {
                let mut c = Command::new("su");
                c.args(["postgres", "-s", "/bin/sh", "-c", &self.shell_line(tool, args)]);
                c
            }
        };
        // The postgres user may not be able to enter our working directory.
        c.current_dir(&self.dir);
        c
    }

    /// The same as [`Self::command`], as one `sh` command line.
    fn shell_line(&self, tool: &str, args: &[&str]) -> String {
        pg_shell_line(&self.bin, self.run_as, tool, args)
    }

    /// A detached `sh` that waits for this process to end, then stops the server and
    /// removes its directory. It ignores SIGINT/SIGTERM/SIGHUP and sits in its own session,
    /// so Ctrl-C or a killed process group reaches us but not it.
    fn spawn_watchdog(&self) -> Option<Child> {
        let data = self.dir.join("data");
        let stop = self.shell_line("pg_ctl", &["-D", &data.to_string_lossy(), "-m", "immediate", "-w", "stop"]);
        let script = format!(
            "trap '' INT TERM HUP; while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             if [ -f {pidfile} ]; then {stop}; fi; rm -rf {dir}",
            pid = std::process::id(),
            pidfile = sh_quote(&data.join("postmaster.pid").to_string_lossy()),
            dir = sh_quote(&self.dir.to_string_lossy()),
        );
        let mut cmd = match which("setsid") {
            Some(setsid) => {
                let mut c = Command::new(setsid);
                c.arg("sh");
                c
            }
            None => Command::new("sh"),
        };
        cmd.args(["-c", &script]).current_dir("/").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        match cmd.spawn() {
            Ok(child) => Some(child),
            Err(e) => {
                eprintln!("xtask: no cleanup watchdog for PostgreSQL ({e}); an interrupted run leaves {}", self.dir.display());
                None
            }
        }
    }
}

pub(crate) fn pg_shell_line(bin: &Path, run_as: RunAs, tool: &str, args: &[&str]) -> String {
    let mut words = vec![sh_quote(&bin.join(tool).to_string_lossy())];
    words.extend(args.iter().map(|a| sh_quote(a)));
    let line = words.join(" ");
    match run_as {
        RunAs::Me => line,
        RunAs::Runuser => format!("runuser -u postgres -- {line}"),
        RunAs::Su => format!("su postgres -s /bin/sh -c {}", sh_quote(&line)),
    }
}

/// Stops and removes servers left by runs that died without their watchdog.
fn sweep_stale(bin: &Path, run_as: RunAs) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(PG_DIR_PREFIX) else { continue };
        if pid.parse::<u32>().is_err() || Path::new("/proc").join(pid).exists() {
            continue;
        }
        let data = e.path().join("data");
        if data.join("postmaster.pid").exists() {
            let line = pg_shell_line(bin, run_as, "pg_ctl", &["-D", &data.to_string_lossy(), "-m", "immediate", "-w", "stop"]);
            let _ = Command::new("sh").args(["-c", &line]).current_dir("/").stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        eprintln!("removing a stale PostgreSQL directory: {}", e.path().display());
        let _ = std::fs::remove_dir_all(e.path());
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            let _ = self
                .command("pg_ctl", &["-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}
