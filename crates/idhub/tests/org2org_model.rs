//! A model-based test of Org2Org provisioning "To App": for each seed, a spoke org and a
//! hub org on one server, an Org2Org app, and 30–60 random spoke changes (users created
//! with and without groups, profile and login changes, every lifecycle operation, group
//! memberships, groups created and deleted, group, Everyone and direct assignments, the
//! app deactivated and activated), some of them refused on purpose. A model of the spoke
//! says what the hub must hold once the provisioning queue has run. After every drain (at
//! random points and at the end) the spoke's API must show the model's spoke, and the
//! hub's API the model's hub: one hub user per pushed spoke user, with the current
//! username and profile and the status the worker gives, and no hub user for a spoke user
//! never pushed. A refused change must plan no job.
//!
//! By default 8 seeds run on each backend. More, or one again:
//! `IDHUB_MODEL_SEEDS=200 cargo test -p idhub --test org2org_model -- --nocapture`,
//! `IDHUB_MODEL_SEED=17 cargo test -p idhub --test org2org_model -- --nocapture`.
//! A failure names its seed and backend and lists the operations that led to it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
use common::*;
use idhub_domain::ids::OrgId;
use idhub_store::Backend;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// splitmix64: a whole run follows from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A spoke user's status (users are always created activated: STAGED is not exercised).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Provisioned,
    Active,
    Suspended,
    Deprovisioned,
}

/// What the hub holds for a spoke user once pushed.
#[derive(Debug, Clone)]
struct Hub {
    /// The hub id, learned from the spoke's push link at the first check.
    id: Option<String>,
    login: String,
    email: String,
    first: String,
    last: String,
    status: &'static str,
    /// Created with a password (`*_with_pass`): an activation makes it ACTIVE.
    has_password: bool,
}

#[derive(Debug, Clone)]
struct User {
    id: String,
    login: String,
    first: String,
    last: String,
    status: Status,
    has_password: bool,
    /// A direct assignment, with the app username it was given.
    direct: Option<String>,
    hub: Option<Hub>,
}

#[derive(Debug, Clone)]
struct Group {
    id: String,
    name: String,
    members: BTreeSet<usize>,
    assigned: bool,
}

/// The spoke as the test believes it is, and the hub as it must be after a drain.
struct Model {
    /// The assignments' `initialStatus` (the same for all of a run's assignments).
    initial: Option<&'static str>,
    /// "Update application username on: Create" instead of "Create and update".
    create_only: bool,
    users: Vec<User>,
    groups: Vec<Group>,
    /// Ids of deleted groups (for requests that must be refused).
    gone: Vec<String>,
    everyone: String,
    everyone_assigned: bool,
    counter: u32,
}

impl Model {
    fn assigned(&self, u: usize) -> bool {
        self.users[u].direct.is_some() || self.everyone_assigned || self.groups.iter().any(|g| g.assigned && g.members.contains(&u))
    }

    fn group(&self, id: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.id == id)
    }

    fn fresh(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// The assignment body's profile.
    fn assignment_profile(&self) -> Value {
        match self.initial {
            Some(s) => json!({ "initialStatus": s }),
            None => json!({}),
        }
    }

    /// What the worker does to user `u` when its sync job runs (worker.rs): create on the
    /// first push while assigned and neither suspended nor deactivated; deactivate when
    /// unassigned or deactivated; suspend an ACTIVE hub user of a suspended spoke user;
    /// otherwise reactivate or unsuspend and push the profile (the login only with "Create
    /// and update").
    fn sync(&mut self, u: usize) {
        let assigned = self.assigned(u);
        let (initial, create_only) = (self.initial.unwrap_or("active"), self.create_only);
        let user = &mut self.users[u];
        match &mut user.hub {
            None => {
                if assigned && !matches!(user.status, Status::Suspended | Status::Deprovisioned) {
                    // "Create only": the direct assignment's username, else the template's now
                    let login = match (&user.direct, create_only) {
                        (Some(name), true) => name.clone(),
                        _ => user.login.clone(),
                    };
                    let status = match initial {
                        "active_with_pass" => "ACTIVE",
                        "active" | "active_without_pass" => "PROVISIONED",
                        _ => "STAGED",
                    };
                    user.hub = Some(Hub {
                        id: None,
                        login,
                        email: user.login.clone(),
                        first: user.first.clone(),
                        last: user.last.clone(),
                        status,
                        has_password: initial.ends_with("_with_pass"),
                    });
                }
            }
            Some(h) => {
                if !assigned || user.status == Status::Deprovisioned {
                    h.status = "DEPROVISIONED";
                } else if user.status == Status::Suspended {
                    if h.status == "ACTIVE" {
                        h.status = "SUSPENDED";
                    }
                } else {
                    if h.status == "DEPROVISIONED" {
                        h.status = if h.has_password { "ACTIVE" } else { "PROVISIONED" };
                    } else if h.status == "SUSPENDED" {
                        h.status = "ACTIVE";
                    }
                    if !create_only {
                        h.login = user.login.clone();
                    }
                    h.email = user.login.clone();
                    h.first = user.first.clone();
                    h.last = user.last.clone();
                }
            }
        }
    }
}

/// One spoke change (users by their index in the model, groups by id).
#[derive(Debug, Clone)]
enum Op {
    CreateUser {
        login: String,
        password: bool,
        groups: Vec<String>,
    },
    Profile {
        user: usize,
        first: String,
        last: String,
    },
    Rename {
        user: usize,
        login: String,
    },
    Lifecycle {
        user: usize,
        op: &'static str,
    },
    AddMember {
        group: String,
        user: usize,
    },
    RemoveMember {
        group: String,
        user: usize,
    },
    CreateGroup {
        name: String,
    },
    DeleteGroup {
        group: String,
    },
    AssignGroup {
        group: String,
    },
    UnassignGroup {
        group: String,
    },
    AssignUser {
        user: usize,
    },
    UnassignUser {
        user: usize,
    },
    /// Activate or deactivate the app: its users stay assigned either way.
    App {
        activate: bool,
    },
    Drain,
}

const LIFECYCLE: [&str; 5] = ["deactivate", "activate", "reactivate", "suspend", "unsuspend"];
const FIRST: [&str; 4] = ["Ann", "Ben", "Cho", "Dev"];
const LAST: [&str; 4] = ["Lee", "Moss", "Ng", "Ortiz"];

/// Is the lifecycle operation allowed from `from`, and where does it lead
/// (`domain::lifecycle`)? `None`: refused.
fn lifecycle(from: Status, op: &str, has_password: bool) -> Option<Status> {
    match (op, from) {
        ("deactivate", _) => Some(Status::Deprovisioned),
        ("activate", Status::Deprovisioned) => Some(if has_password { Status::Active } else { Status::Provisioned }),
        ("reactivate", Status::Provisioned) => Some(Status::Provisioned),
        ("suspend", Status::Active) => Some(Status::Suspended),
        ("unsuspend", Status::Suspended) => Some(Status::Active),
        _ => None,
    }
}

/// The next operation: mostly valid ones, now and then one the API must refuse.
fn generate(rng: &mut Rng, m: &mut Model) -> Op {
    let user = |rng: &mut Rng, m: &Model| rng.below(m.users.len());
    let group = |rng: &mut Rng, m: &Model| -> String {
        match rng.below(20) {
            0 => m.everyone.clone(),
            1 if !m.gone.is_empty() => m.gone[rng.below(m.gone.len())].clone(),
            _ => m.groups[rng.below(m.groups.len())].id.clone(),
        }
    };
    if m.groups.len() < 2 {
        let n = m.fresh();
        return Op::CreateGroup { name: format!("G{n}") };
    }
    if m.users.len() < 3 || rng.chance(15) {
        let n = m.fresh();
        let mut groups = vec![];
        for _ in 0..rng.below(3) {
            groups.push(m.groups[rng.below(m.groups.len())].id.clone());
        }
        if rng.chance(5) && !m.gone.is_empty() {
            groups.push(m.gone[0].clone()); // refused: no such group
        }
        let login = if rng.chance(4) && !m.users.is_empty() { m.users[0].login.clone() } else { format!("u{n}@spoke.example") }; // refused when taken
        return Op::CreateUser { login, password: rng.chance(50), groups };
    }
    match rng.below(100) {
        0..=7 => {
            let u = user(rng, m);
            Op::Profile { user: u, first: FIRST[rng.below(4)].into(), last: format!("{}{}", LAST[rng.below(4)], m.fresh()) }
        }
        8..=14 => {
            let u = user(rng, m);
            let login = if rng.chance(10) {
                m.users[user(rng, m)].login.clone() // refused unless it is the user's own
            } else {
                format!("u{}.r{}@spoke.example", u, m.fresh())
            };
            Op::Rename { user: u, login }
        }
        15..=32 => {
            let u = user(rng, m);
            let valid: Vec<&str> =
                LIFECYCLE.iter().copied().filter(|op| lifecycle(m.users[u].status, op, m.users[u].has_password).is_some()).collect();
            let op = if rng.chance(75) { valid[rng.below(valid.len())] } else { LIFECYCLE[rng.below(LIFECYCLE.len())] };
            Op::Lifecycle { user: u, op }
        }
        33..=44 => Op::AddMember { group: group(rng, m), user: user(rng, m) },
        45..=50 => {
            let g = rng.below(m.groups.len());
            let members: Vec<usize> = m.groups[g].members.iter().copied().collect();
            let u = if members.is_empty() || rng.chance(15) { user(rng, m) } else { members[rng.below(members.len())] };
            Op::RemoveMember { group: if rng.chance(5) { m.everyone.clone() } else { m.groups[g].id.clone() }, user: u }
        }
        51..=53 => {
            let n = m.fresh();
            Op::CreateGroup { name: format!("G{n}") }
        }
        54..=56 => Op::DeleteGroup { group: group(rng, m) },
        57..=68 => {
            let g = if rng.chance(4) { m.everyone.clone() } else { group(rng, m) };
            Op::AssignGroup { group: g }
        }
        69..=74 => {
            let assigned: Vec<String> = m.groups.iter().filter(|g| g.assigned).map(|g| g.id.clone()).collect();
            let g = if m.everyone_assigned && rng.chance(30) {
                m.everyone.clone()
            } else if assigned.is_empty() || rng.chance(15) {
                group(rng, m)
            } else {
                assigned[rng.below(assigned.len())].clone()
            };
            Op::UnassignGroup { group: g }
        }
        75..=84 => Op::AssignUser { user: user(rng, m) },
        85..=90 => {
            let direct: Vec<usize> = (0..m.users.len()).filter(|&u| m.users[u].direct.is_some()).collect();
            let u = if direct.is_empty() || rng.chance(25) { user(rng, m) } else { direct[rng.below(direct.len())] };
            Op::UnassignUser { user: u }
        }
        91..=92 => Op::App { activate: rng.chance(50) },
        _ => Op::Drain,
    }
}

/// One seed's run against one server.
struct Run {
    seed: u64,
    backend: Backend,
    s: TestServer,
    org: OrgId,
    app: String,
    hub_url: String,
    hub_token: String,
    m: Model,
    log: Vec<String>,
    refused: usize,
    drains: usize,
}

impl Run {
    /// Panic with the seed, the settings and every operation so far.
    fn fail(&self, msg: &str) -> ! {
        let mut ops = String::new();
        for (i, l) in self.log.iter().enumerate() {
            let _ = writeln!(ops, "  {i:>3}. {l}");
        }
        panic!(
            "org2org model: seed {} on {:?} (initialStatus {:?}, updateOn {}): {msg}\n\
             replay: IDHUB_MODEL_SEED={} cargo test -p idhub --test org2org_model -- --nocapture\noperations:\n{ops}",
            self.seed,
            self.backend,
            self.m.initial,
            if self.m.create_only { "CREATE" } else { "CREATE_AND_UPDATE" },
            self.seed
        )
    }

    fn hub(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.s.http.request(method, format!("{}{path}", self.hub_url)).header("Authorization", format!("SSWS {}", self.hub_token))
    }

    fn who(&self, u: usize) -> String {
        format!("user#{u} ({})", self.m.users.get(u).map(|u| u.login.as_str()).unwrap_or("?"))
    }

    fn group_name(&self, id: &str) -> String {
        if id == self.m.everyone {
            return "Everyone".into();
        }
        match self.m.group(id) {
            Some(g) => self.m.groups[g].name.clone(),
            None => format!("deleted group {id}"),
        }
    }

    fn describe(&self, op: &Op) -> String {
        match op {
            Op::CreateUser { login, password, groups } => {
                let names: Vec<String> = groups.iter().map(|g| self.group_name(g)).collect();
                format!("create user#{} {login} (password: {password}) in {names:?}", self.m.users.len())
            }
            Op::Profile { user, first, last } => format!("{}: name {first} {last}", self.who(*user)),
            Op::Rename { user, login } => format!("{}: login {login}", self.who(*user)),
            Op::Lifecycle { user, op } => format!("{}: {op}", self.who(*user)),
            Op::AddMember { group, user } => format!("{} joins {}", self.who(*user), self.group_name(group)),
            Op::RemoveMember { group, user } => format!("{} leaves {}", self.who(*user), self.group_name(group)),
            Op::CreateGroup { name } => format!("create group {name}"),
            Op::DeleteGroup { group } => format!("delete group {}", self.group_name(group)),
            Op::AssignGroup { group } => format!("assign group {} to the app", self.group_name(group)),
            Op::UnassignGroup { group } => format!("unassign group {} from the app", self.group_name(group)),
            Op::AssignUser { user } => format!("assign {} directly", self.who(*user)),
            Op::UnassignUser { user } => format!("unassign {} (direct)", self.who(*user)),
            Op::App { activate } => format!("{} the app", if *activate { "activate" } else { "deactivate" }),
            Op::Drain => "drain the queue and compare the hub".into(),
        }
    }

    async fn pending_jobs(&self) -> usize {
        self.s.db.store.list_jobs(&self.org, "PENDING", 10_000).await.unwrap().len()
    }

    /// Send `op`; the model says whether it must succeed (and how the spoke changes) or be
    /// refused (and then nothing changes, no job is planned).
    async fn step(&mut self, op: Op) {
        self.log.push(self.describe(&op));
        if let Op::Drain = op {
            self.drain_and_check().await;
            return;
        }
        let jobs_before = self.pending_jobs().await;
        let app = self.app.clone();
        let (req, valid) = match &op {
            Op::CreateUser { login, password, groups } => {
                let mut body = json!({ "profile": profile(login, FIRST[0], LAST[0]), "groupIds": groups });
                if *password {
                    body["credentials"] = json!({ "password": { "value": "Aa1-model-Passw0rd" } });
                }
                let valid = groups.iter().all(|g| self.m.group(g).is_some()) && self.m.users.iter().all(|u| &u.login != login);
                (self.s.api(Method::POST, "/api/v1/users?activate=true").json(&body), valid)
            }
            Op::Profile { user, first, last } => (
                self.s
                    .api(Method::POST, &format!("/api/v1/users/{}", self.m.users[*user].id))
                    .json(&json!({ "profile": { "firstName": first, "lastName": last } })),
                true,
            ),
            Op::Rename { user, login } => (
                self.s
                    .api(Method::POST, &format!("/api/v1/users/{}", self.m.users[*user].id))
                    .json(&json!({ "profile": { "login": login, "email": login } })),
                self.m.users.iter().enumerate().all(|(i, u)| i == *user || &u.login != login),
            ),
            Op::Lifecycle { user, op } => {
                let u = &self.m.users[*user];
                let path = format!("/api/v1/users/{}/lifecycle/{op}?sendEmail=false", u.id);
                (self.s.api(Method::POST, &path), lifecycle(u.status, op, u.has_password).is_some())
            }
            Op::AddMember { group, user } | Op::RemoveMember { group, user } => {
                let method = if matches!(op, Op::AddMember { .. }) { Method::PUT } else { Method::DELETE };
                let path = format!("/api/v1/groups/{group}/users/{}", self.m.users[*user].id);
                (self.s.api(method, &path), self.m.group(group).is_some())
            }
            Op::CreateGroup { name } => (self.s.api(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": name } })), true),
            Op::DeleteGroup { group } => (self.s.api(Method::DELETE, &format!("/api/v1/groups/{group}")), self.m.group(group).is_some()),
            Op::AssignGroup { group } => (
                self.s
                    .api(Method::PUT, &format!("/api/v1/apps/{app}/groups/{group}"))
                    .json(&json!({ "profile": self.m.assignment_profile() })),
                self.m.group(group).is_some() || *group == self.m.everyone,
            ),
            Op::UnassignGroup { group } => (
                self.s.api(Method::DELETE, &format!("/api/v1/apps/{app}/groups/{group}")),
                match self.m.group(group) {
                    Some(g) => self.m.groups[g].assigned,
                    None => *group == self.m.everyone && self.m.everyone_assigned,
                },
            ),
            Op::AssignUser { user } => (
                self.s
                    .api(Method::POST, &format!("/api/v1/apps/{app}/users"))
                    .json(&json!({ "id": self.m.users[*user].id, "profile": self.m.assignment_profile() })),
                true,
            ),
            Op::UnassignUser { user } => (
                self.s.api(Method::DELETE, &format!("/api/v1/apps/{app}/users/{}", self.m.users[*user].id)),
                self.m.users[*user].direct.is_some(),
            ),
            Op::App { activate } => {
                let op = if *activate { "activate" } else { "deactivate" };
                (self.s.api(Method::POST, &format!("/api/v1/apps/{app}/lifecycle/{op}")), true)
            }
            Op::Drain => unreachable!(),
        };
        let (st, body) = call(req).await;
        if !valid {
            if !st.is_client_error() || !body["errorCode"].is_string() {
                self.fail(&format!("expected a refusal (4xx with Okta's error), got {st}: {body}"));
            }
            let after = self.pending_jobs().await;
            if after != jobs_before {
                self.fail(&format!("a refused change planned {} job(s)", after as i64 - jobs_before as i64));
            }
            self.refused += 1;
            if let Some(last) = self.log.last_mut() {
                last.push_str(&format!(" → refused ({st})"));
            }
            return;
        }
        if !st.is_success() {
            self.fail(&format!("expected success, got {st}: {body}"));
        }
        let m = &mut self.m;
        match op {
            Op::CreateUser { login, password, groups } => {
                let u = m.users.len();
                let status = if password { Status::Active } else { Status::Provisioned };
                m.users.push(User {
                    id: body["id"].as_str().unwrap().to_string(),
                    login,
                    first: FIRST[0].into(),
                    last: LAST[0].into(),
                    status,
                    has_password: password,
                    direct: None,
                    hub: None,
                });
                for g in groups {
                    let g = m.group(&g).unwrap();
                    m.groups[g].members.insert(u);
                }
            }
            Op::Profile { user, first, last } => {
                m.users[user].first = first;
                m.users[user].last = last;
            }
            Op::Rename { user, login } => m.users[user].login = login,
            Op::Lifecycle { user, op } => {
                let u = &mut m.users[user];
                u.status = lifecycle(u.status, op, u.has_password).unwrap();
            }
            Op::AddMember { group, user } => {
                let g = m.group(&group).unwrap();
                m.groups[g].members.insert(user);
            }
            Op::RemoveMember { group, user } => {
                let g = m.group(&group).unwrap();
                m.groups[g].members.remove(&user);
            }
            Op::CreateGroup { name } => {
                m.groups.push(Group { id: body["id"].as_str().unwrap().to_string(), name, members: BTreeSet::new(), assigned: false })
            }
            Op::DeleteGroup { group } => {
                let g = m.group(&group).unwrap();
                m.groups.remove(g);
                m.gone.push(group);
            }
            Op::AssignGroup { ref group } | Op::UnassignGroup { ref group } => {
                let on = matches!(op, Op::AssignGroup { .. });
                match m.group(group) {
                    Some(g) => m.groups[g].assigned = on,
                    None => m.everyone_assigned = on,
                }
            }
            Op::AssignUser { user } => {
                let u = &mut m.users[user];
                // a new direct assignment takes the template's username; an update keeps it
                if u.direct.is_none() {
                    u.direct = Some(u.login.clone());
                }
            }
            Op::UnassignUser { user } => m.users[user].direct = None,
            Op::App { .. } | Op::Drain => {}
        }
    }

    /// The spoke is as the model says (so a refused change changed nothing there either):
    /// each user's status, login and name, each group's members, the app's assignments.
    async fn check_spoke(&self) {
        let mut problems = vec![];
        for (u, user) in self.m.users.iter().enumerate() {
            let (_, got) = call(self.s.api(Method::GET, &format!("/api/v1/users/{}", user.id))).await;
            let want = (format!("{:?}", user.status).to_uppercase(), user.login.as_str(), user.first.as_str(), user.last.as_str());
            let p = &got["profile"];
            let have = (
                got["status"].as_str().unwrap_or("").to_string(),
                p["login"].as_str().unwrap_or(""),
                p["firstName"].as_str().unwrap_or(""),
                p["lastName"].as_str().unwrap_or(""),
            );
            if want != have {
                problems.push(format!("{}: the spoke has {have:?}, the model {want:?}", self.who(u)));
            }
        }
        let index: BTreeMap<&str, usize> = self.m.users.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
        let ids = |list: &Value| -> BTreeSet<usize> {
            list.as_array().unwrap().iter().filter_map(|x| index.get(x["id"].as_str().unwrap()).copied()).collect()
        };
        for g in &self.m.groups {
            let (_, members) = call(self.s.api(Method::GET, &format!("/api/v1/groups/{}/users?limit=200", g.id))).await;
            if ids(&members) != g.members {
                problems.push(format!("group {}: the spoke's members {:?}, the model's {:?}", g.name, ids(&members), g.members));
            }
        }
        let (_, groups) = call(self.s.api(Method::GET, &format!("/api/v1/apps/{}/groups", self.app))).await;
        let have: BTreeSet<&str> = groups.as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
        let mut want: BTreeSet<&str> = self.m.groups.iter().filter(|g| g.assigned).map(|g| g.id.as_str()).collect();
        if self.m.everyone_assigned {
            want.insert(&self.m.everyone);
        }
        if have != want {
            problems.push(format!("the app's groups: the spoke has {have:?}, the model {want:?}"));
        }
        let (_, users) = call(self.s.api(Method::GET, &format!("/api/v1/apps/{}/users?limit=500", self.app))).await;
        let direct: BTreeSet<usize> =
            ids(&Value::Array(users.as_array().unwrap().iter().filter(|a| a["scope"] == "USER").cloned().collect()));
        let want: BTreeSet<usize> = (0..self.m.users.len()).filter(|&u| self.m.users[u].direct.is_some()).collect();
        if direct != want {
            problems.push(format!("direct assignments: the spoke has {direct:?}, the model {want:?}"));
        }
        let all = ids(&users);
        let want: BTreeSet<usize> = (0..self.m.users.len()).filter(|&u| self.m.assigned(u)).collect();
        if all != want {
            problems.push(format!("app users: the spoke lists {all:?}, the model assigns {want:?}"));
        }
        if !problems.is_empty() {
            self.fail(&problems.join("\n"));
        }
    }

    /// Run the queue until it is empty, apply the worker's rules to the model, and compare
    /// the hub with it.
    async fn drain_and_check(&mut self) {
        self.drains += 1;
        while drain(&self.s).await > 0 {}
        for status in ["PENDING", "FAILED", "LEASED"] {
            let jobs = self.s.db.store.list_jobs(&self.org, status, 100).await.unwrap();
            if !jobs.is_empty() {
                let errors: Vec<_> = jobs.iter().map(|j| (j.kind.clone(), j.last_error.clone())).collect();
                self.fail(&format!("{} {status} job(s) left after the drain: {errors:?}", jobs.len()));
            }
        }
        self.check_spoke().await;
        for u in 0..self.m.users.len() {
            self.m.sync(u);
        }
        // every hub user, DEPROVISIONED ones included (the plain list leaves them out)
        let mut hub_users: BTreeMap<String, Value> = BTreeMap::new();
        for query in ["", "&filter=status%20eq%20%22DEPROVISIONED%22"] {
            let (st, list) = call(self.hub(Method::GET, &format!("/api/v1/users?limit=200{query}"))).await;
            if st != StatusCode::OK || list.as_array().is_none_or(|l| l.len() >= 200) {
                self.fail(&format!("hub user list{query}: {st} {list}"));
            }
            for h in list.as_array().unwrap() {
                hub_users.insert(h["id"].as_str().unwrap().to_string(), h.clone());
            }
        }
        let mut linked: BTreeMap<String, usize> = BTreeMap::new();
        let mut problems = vec![];
        for u in 0..self.m.users.len() {
            let link = self.s.db.store.push_link(&self.org, &self.app, &self.m.users[u].id).await.unwrap();
            let (who, assigned) = (self.who(u), self.m.assigned(u));
            let user = &mut self.m.users[u];
            match (&mut user.hub, link) {
                (None, None) => {
                    if let Some(h) = hub_users.values().find(|h| h["profile"]["login"] == user.login.as_str()) {
                        problems.push(format!("{who} was never pushed, yet the hub has {h}"));
                    }
                }
                (None, Some(id)) => {
                    problems.push(format!("{who} must not have been pushed, yet it is linked to hub user {:?}", hub_users.get(&id)))
                }
                (Some(h), None) => problems.push(format!("{who} must be in the hub as {h:?}, but it has no push link")),
                (Some(h), Some(id)) => {
                    if let Some(other) = linked.insert(id.clone(), u) {
                        problems.push(format!("{who} and user#{other} are linked to the same hub user {id}"));
                    }
                    if h.id.as_ref().is_some_and(|known| *known != id) {
                        problems.push(format!("{who} was pushed as {:?} and is now linked to another hub user {id}", h.id));
                    }
                    h.id = Some(id.clone());
                    match hub_users.get(&id) {
                        None => problems.push(format!("{who} is linked to hub user {id}, which is not in the hub")),
                        Some(got) => {
                            let p = &got["profile"];
                            let want = (h.login.as_str(), h.email.as_str(), h.first.as_str(), h.last.as_str(), h.status);
                            let have = (
                                p["login"].as_str().unwrap_or(""),
                                p["email"].as_str().unwrap_or(""),
                                p["firstName"].as_str().unwrap_or(""),
                                p["lastName"].as_str().unwrap_or(""),
                                got["status"].as_str().unwrap_or(""),
                            );
                            if want != have {
                                problems.push(format!(
                                    "{who} (spoke {:?}, assigned {assigned}): the hub has (login, email, first, last, status) {have:?}, the model wants {want:?}",
                                    user.status
                                ));
                            }
                        }
                    }
                }
            }
        }
        let pushed = self.m.users.iter().filter(|u| u.hub.is_some()).count();
        if hub_users.len() != pushed {
            let strays: Vec<&Value> = hub_users.iter().filter(|(id, _)| !linked.contains_key(*id)).map(|(_, h)| h).collect();
            problems.push(format!("the hub has {} users for {pushed} pushed spoke users; not linked: {strays:?}", hub_users.len()));
        }
        if !problems.is_empty() {
            self.fail(&problems.join("\n"));
        }
    }
}

/// One run: a server with the spoke and the hub, the app set up as in
/// org2org_provisioning.rs, then the random operations and a final drain and check.
async fn run(seed: u64, backend: Backend) -> (usize, usize, usize, usize) {
    let s = TestServer::start(backend).await;
    let (app, hub_url, hub_token) = provisioned_app(&s).await;
    let features = json!({ "capabilities": { "create": { "lifecycleCreate": { "status": "ENABLED" } },
        "update": { "profile": { "status": "ENABLED" }, "lifecycleDeactivate": { "status": "ENABLED" } } } });
    let (st, f) = call(s.api(Method::PUT, &format!("/api/v1/apps/{app}/features/USER_PROVISIONING")).json(&features)).await;
    assert_eq!(st, StatusCode::OK, "{f}");
    // the settings alternate by seed: initial status default / active_with_pass, and
    // "Update application username on" Create and update / Create
    let initial = (seed % 2 == 1).then_some("active_with_pass");
    let create_only = (seed / 2) % 2 == 1;
    if create_only {
        let (_, mut body) = call(s.api(Method::GET, &format!("/api/v1/apps/{app}"))).await;
        body["credentials"]["userNameTemplate"]["updateOn"] = json!("CREATE");
        let (st, v) = call(s.api(Method::PUT, &format!("/api/v1/apps/{app}")).json(&body)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (_, everyone) = call(s.api(Method::GET, "/api/v1/groups?q=Everyone")).await;
    let everyone = everyone.as_array().unwrap().iter().find(|g| g["type"] == "BUILT_IN").expect("the Everyone group")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let m = Model { initial, create_only, users: vec![], groups: vec![], gone: vec![], everyone, everyone_assigned: false, counter: 0 };
    let org = OrgId(s.org_id.clone());
    let mut r = Run { seed, backend, s, org, app, hub_url, hub_token, m, log: vec![], refused: 0, drains: 0 };
    let mut rng = Rng(seed);
    let n = 30 + rng.below(31);
    for _ in 0..n {
        let op = generate(&mut rng, &mut r.m);
        r.step(op).await;
    }
    r.step(Op::Drain).await;
    if std::env::var("IDHUB_MODEL_VERBOSE").is_ok() {
        for (i, l) in r.log.iter().enumerate() {
            eprintln!("  {i:>3}. {l}");
        }
    }
    let pushed = r.m.users.iter().filter(|u| u.hub.is_some()).count();
    let summary = (n, r.refused, r.drains, pushed);
    if backend == Backend::Postgres {
        // a passing run's database goes, so that hundreds of seeds fit on the disk (a
        // failing one's stays for a look)
        let name = r.s.db.url.rsplit('/').next().unwrap().to_string();
        drop(r);
        use sqlx::Connection;
        let mut admin = sqlx::AnyConnection::connect(&std::env::var("IDHUB_TEST_PG_URL").unwrap()).await.unwrap();
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    }
    summary
}

/// The seeds to run: `IDHUB_MODEL_SEED` (one), else the first `IDHUB_MODEL_SEEDS` (8).
fn seeds() -> Vec<u64> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| v.parse::<u64>().unwrap_or_else(|_| panic!("{k}={v}")));
    match (var("IDHUB_MODEL_SEED"), var("IDHUB_MODEL_SEEDS")) {
        (Some(one), _) => vec![one],
        (None, n) => (0..n.unwrap_or(8)).collect(),
    }
}

#[tokio::test]
async fn random_spoke_changes_leave_the_hub_as_the_model_says() {
    let backends = backends();
    let started = std::time::Instant::now();
    let mut runs = 0;
    for seed in seeds() {
        for &backend in &backends {
            let (ops, refused, drains, pushed) = run(seed, backend).await;
            runs += 1;
            eprintln!(
                "seed {seed} {backend:?}: {ops} operations ({refused} refused), {drains} drains, {pushed} users pushed: hub as modelled"
            );
        }
    }
    eprintln!("{runs} runs in {:.1} s", started.elapsed().as_secs_f64());
}
