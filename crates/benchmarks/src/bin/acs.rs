//! `idhub-bench-acs`: P2, the hub ACS's validations per second on one core for one ~4 KB
//! Assertion-signed Response, divided by python3-saml's strict validations per second of
//! the same Response on the same core, measured one after the other in one run (goal ≥ 10).
//!
//! Both sides run pinned to CPU 0 (`taskset -c 0`: this process re-executes itself under
//! it, and the python3-saml child inherits the affinity). The idhub side is the saml
//! crate's `verify_response` (strict base64, DOCTYPE refusal, parse, signature with the
//! configured certificate only, conditions) followed by the ACS's store steps, which are
//! the ACS's store steps ([`StoreSteps`]) on SQLite: the replay check (insert the assertion
//! id until `remember_until`) and the lookup of the linked user by (IdP, NameID), so the
//! figure covers the whole validation.

use chrono::Utc;
use idhub_saml::keys::{generate, SigningKey};
use idhub_saml::response::{sign_response, Attribute, ResponseSpec, AC_PASSWORD};
use idhub_saml::{verify_response, SignatureScope, TrustPolicy, VerifiedAssertion};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const ISSUER: &str = "http://www.okta.com/exkBENCHSPOKE";
const ACS: &str = "https://hub.example/sso/saml2/0oaBENCH";
const AUDIENCE: &str = "https://hub.example/saml2/service-provider/spBENCH";
const PINNED: &str = "IDHUB_BENCH_ACS_PINNED";

/// What the ACS does after `verify` for one accepted assertion (replay check, user match).
/// The store is async: plug it in as `Box::new(|a| rt.block_on(steps(&store, a)))` with a
/// current-thread tokio runtime `rt`, so the measurement stays on the one pinned core. The
/// replay step must accept the same Response again here (e.g. key it by a counter, or
/// delete the row after the check), since the loop validates one Response many times.
pub type StoreSteps<'a> = Box<dyn FnMut(&VerifiedAssertion) -> Result<(), String> + 'a>;

struct Options {
    seconds: u64,
    rounds: u32,
    python: Option<PathBuf>,
}

fn usage() -> String {
    "usage: idhub-bench-acs [--seconds N] [--rounds R] [--python PATH]\n\n  \
     N seconds per side (default 20), in R alternating slices per side (default 10), so that a change in\n  \
     machine load hits both sides. PATH: a python with python3-saml (default interop/.venv/bin/python).\n  \
     Runs itself under `taskset -c 0`."
        .into()
}

fn options() -> Res<Options> {
    let mut o = Options { seconds: 20, rounds: 10, python: None };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--seconds", Some(n)) => o.seconds = n.parse().map_err(|_| usage())?,
            ("--rounds", Some(n)) => o.rounds = n.parse().ok().filter(|r| *r > 0).ok_or_else(usage)?,
            ("--python", Some(p)) => o.python = Some(PathBuf::from(p)),
            _ => return Err(usage().into()),
        }
    }
    Ok(o)
}

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or(here)
}

/// The CPUs this process may run on, as the kernel says.
fn cpus_allowed() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Cpus_allowed_list:")).map(|l| l.split_whitespace().last().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| "?".into())
}

fn vm_rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// A Response of about 4 KB with the attributes an Org2Org spoke sends, the Assertion
/// signed (RSA-SHA256, exclusive C14N), issued now and valid for 10 minutes.
fn response(key: &SigningKey) -> Res<(usize, String)> {
    let attr = |name: &str, values: &[&str]| Attribute {
        name: name.into(),
        name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified".into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let spec = ResponseSpec {
        issuer: ISSUER.into(),
        acs_url: ACS.into(),
        audience: AUDIENCE.into(),
        name_id: "sarah.lee@spoke.example".into(),
        name_id_format: idhub_saml::NAMEID_UNSPECIFIED.into(),
        in_response_to: None,
        session_index: "id_bench_session".into(),
        authn_context: AC_PASSWORD.into(),
        attributes: vec![attr("firstName", &["Sarah"]), attr("lastName", &["Lee"]), attr("email", &["sarah.lee@spoke.example"])],
        now_ms: Utc::now().timestamp_millis(),
        validity_ms: 10 * 60 * 1000,
        sign_response: false,
        sign_assertion: true,
    };
    let signed = sign_response(&spec, key)?;
    Ok((signed.xml.len(), signed.base64()))
}

fn policy(key: &SigningKey) -> TrustPolicy {
    let mut p = TrustPolicy::new(ISSUER, vec![key.certificate().clone()], ACS, AUDIENCE);
    p.signature_scope = SignatureScope::Assertion;
    p.allow_idp_initiated = true;
    p
}

/// A fresh SQLite store with an org, the IdP's linked user `sarah.lee@spoke.example`.
async fn linked_user_store(dir: &Path) -> Res<(idhub_store::Store, idhub_domain::ids::OrgId)> {
    use idhub_domain::ids::UserId;
    use idhub_domain::lifecycle::UserStatus;
    use idhub_domain::user::{ProviderType, User};
    let store = idhub_store::Store::open_data_dir(dir).await?;
    let now = Utc::now().timestamp_millis();
    let org = store.create_org("hub", "https://hub.example", now, &[]).await?;
    let login = "sarah.lee@spoke.example";
    let profile = json!({ "login": login, "email": login, "firstName": "Sarah", "lastName": "Lee" });
    let user = User {
        id: UserId::generate(),
        org_id: org.id.clone(),
        status: UserStatus::Active,
        transitioning_to: None,
        profile: profile.as_object().cloned().unwrap_or_default(),
        type_id: org.user_type_id.clone(),
        provider: ProviderType::Federation,
        provider_name: "spoke".into(),
        password_hash: None,
        recovery_question: None,
        created: now,
        activated: Some(now),
        status_changed: Some(now),
        last_login: None,
        last_updated: now,
        password_changed: None,
        admin_role: None,
        failed_logins: 0,
    };
    let link = idhub_store::idps::IdpLink {
        idp_id: "0oaBENCH".into(),
        user_id: user.id.0.clone(),
        external_id: login.into(),
        created: now,
        last_updated: now,
    };
    store.create_linked_user(&user, &[], &link, &[]).await?;
    Ok((store, org.id))
}

/// The ACS's store steps: replay check, then the linked user.
async fn store_steps(store: &idhub_store::Store, org: &idhub_domain::ids::OrgId, a: &VerifiedAssertion, n: u64) -> Result<(), String> {
    let now = Utc::now().timestamp_millis();
    let id = format!("{}-{n}", a.assertion_id());
    if !store.remember_assertion(org, "0oaBENCH", &id, a.remember_until().timestamp_millis(), now).await.map_err(|e| e.to_string())? {
        return Err("replay".into());
    }
    let link = store.idp_link_by_external_id(org, "0oaBENCH", &a.name_id().value).await.map_err(|e| e.to_string())?.ok_or("no link")?;
    store.get_user(org, &link.user_id).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// One ACS validation: verify, then the store steps.
fn validate(encoded: &str, policy: &TrustPolicy, store: &mut StoreSteps) -> Res<()> {
    let assertion = verify_response(encoded, policy, Utc::now()).map_err(|e| format!("idhub refused the benchmark Response: {e}"))?;
    store(&assertion)?;
    Ok(())
}

/// Validations in a slice of `seconds` on this thread: (count, seconds taken).
fn idhub_slice(encoded: &str, policy: &TrustPolicy, seconds: f64, store: &mut StoreSteps) -> Res<(u64, f64)> {
    let (mut n, start) = (0u64, Instant::now());
    loop {
        validate(encoded, policy, store)?;
        n += 1;
        if n % 16 == 0 && start.elapsed().as_secs_f64() >= seconds {
            return Ok((n, start.elapsed().as_secs_f64()));
        }
    }
}

/// The python3-saml side, a child process that validates for as long as it is told.
struct Python3Saml {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl Python3Saml {
    fn start(python: &Path, key: &SigningKey, encoded: &str) -> Res<Python3Saml> {
        let dir = std::env::temp_dir().join(format!("idhub-bench-acs-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let settings = json!({
            "strict": true,
            "debug": false,
            "sp": {"entityId": AUDIENCE, "assertionConsumerService": {"url": ACS, "binding": idhub_saml::BINDING_POST}, "NameIDFormat": idhub_saml::NAMEID_UNSPECIFIED},
            "idp": {"entityId": ISSUER, "singleSignOnService": {"url": "https://spoke.example/sso", "binding": idhub_saml::BINDING_REDIRECT}, "x509cert": key.cert_b64()},
            "security": {"wantAssertionsSigned": true, "rejectDeprecatedAlgorithm": true},
            "request_data": {"https": "on", "http_host": "hub.example", "script_name": "/sso/saml2/0oaBENCH", "get_data": {}, "post_data": {}},
        });
        let settings_path = dir.join("settings.json");
        let response_path = dir.join("response.b64");
        std::fs::write(&settings_path, serde_json::to_vec(&settings)?)?;
        std::fs::write(&response_path, encoded)?;
        let script = workspace_root().join("crates/benchmarks/python/python3_saml_acs.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(&settings_path)
            .arg(&response_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", python.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut me = Python3Saml { child, stdin, stdout, dir };
        let ready = me.line()?;
        if ready["ready"] != json!(true) {
            return Err(format!("python3-saml side did not start: {ready}").into());
        }
        Ok(me)
    }

    fn line(&mut self) -> Res<serde_json::Value> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err("the python3-saml side ended (see its error above)".into());
        }
        Ok(serde_json::from_str(&line)?)
    }

    /// Validations in a slice of `seconds`: (count, seconds taken).
    fn slice(&mut self, seconds: f64) -> Res<(u64, f64)> {
        writeln!(self.stdin, "{seconds}")?;
        self.stdin.flush()?;
        let v = self.line()?;
        Ok((v["validations"].as_u64().ok_or("no validations")?, v["seconds"].as_f64().ok_or("no seconds")?))
    }
}

impl Drop for Python3Saml {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn main() -> Res<()> {
    let opts = options()?;
    if std::env::var_os(PINNED).is_none() {
        // Re-run pinned to CPU 0; the python3-saml child inherits the affinity.
        let me = std::env::current_exe()?;
        let status = Command::new("taskset")
            .args(["-c", "0"])
            .arg(me)
            .args(std::env::args().skip(1))
            .env(PINNED, "1")
            .status()
            .map_err(|e| format!("taskset (util-linux) is needed to pin both sides to one core: {e}"))?;
        std::process::exit(status.code().unwrap_or(1));
    }
    let python = opts.python.clone().unwrap_or_else(|| workspace_root().join("interop/.venv/bin/python"));
    if !python.is_file() {
        return Err(format!("no python3-saml interpreter at {} (run `cargo xtask test` once, or pass --python)", python.display()).into());
    }
    let (key_pem, cert_pem) = generate("bench spoke", 30)?;
    let key = SigningKey::from_pem(&key_pem, &cert_pem)?;
    let (xml_len, encoded) = response(&key)?;
    let policy = policy(&key);
    println!("P2: one Assertion-signed Response of {xml_len} bytes (RSA-2048, RSA-SHA256), CPUs allowed: {}", cpus_allowed());

    // The ACS's store steps on a SQLite database (the embedded default): the replay check
    // (the assertion id remembered until it expires; a counter makes each run's id new, as
    // each real Response is) and the match of the existing linked user by (IdP, NameID).
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let dir = std::env::temp_dir().join(format!("idhub-bench-acs-{}", std::process::id()));
    let (db, org) = rt.block_on(linked_user_store(&dir))?;
    let mut counter = 0u64;
    let mut store: StoreSteps = Box::new(|a| {
        counter += 1;
        rt.block_on(store_steps(&db, &org, a, counter))
    });
    let mut python = Python3Saml::start(&python, &key, &encoded)?;
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(1) {
        validate(&encoded, &policy, &mut store)?;
    }
    let slice = opts.seconds as f64 / f64::from(opts.rounds);
    let (mut idhub, mut py) = ((0u64, 0f64), (0u64, 0f64));
    let mut ratios = Vec::new();
    let rss_before = vm_rss_kb();
    for _ in 0..opts.rounds {
        let (n, s) = idhub_slice(&encoded, &policy, slice, &mut store)?;
        let (pn, ps) = python.slice(slice)?;
        ratios.push((n as f64 / s) / (pn as f64 / ps));
        idhub = (idhub.0 + n, idhub.1 + s);
        py = (py.0 + pn, py.1 + ps);
    }
    let rss_after = vm_rss_kb();
    let idhub_rate = idhub.0 as f64 / idhub.1;
    let py_rate = py.0 as f64 / py.1;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "idhub (saml crate verify + replay insert + linked-user match on SQLite): {} validations in {:.1} s = {idhub_rate:.0}/s",
        idhub.0, idhub.1
    );
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        let per = (b.saturating_sub(a) * 1024) as f64 / (idhub.0 as f64).max(1.0);
        println!("  idhub RSS {} MB -> {} MB over the run ({per:.0} bytes per validation)", a / 1024, b / 1024);
    }
    println!("python3-saml 1.16.0 strict (OneLogin_Saml2_Response(..).is_valid): {} validations in {:.1} s = {py_rate:.0}/s", py.0, py.1);
    ratios.sort_by(f64::total_cmp);
    let ratio = idhub_rate / py_rate;
    println!(
        "P2 ratio idhub / python3-saml on one core: {ratio:.2} (per-slice min {:.2}, max {:.2}, {} slices of {slice:.1} s per side) (goal >= 10: {})",
        ratios.first().copied().unwrap_or(0.0),
        ratios.last().copied().unwrap_or(0.0),
        ratios.len(),
        if ratio >= 10.0 { "PASS" } else { "FAIL" }
    );
    Ok(())
}
