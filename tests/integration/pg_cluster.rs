//! A throwaway PostgreSQL cluster for the store tests: `initdb` into a temporary directory, the
//! server started on a free port on 127.0.0.1, stopped and removed when the test binary exits.
//! PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user
//! Debian's package creates. Missing PostgreSQL fails the tests (CI installs it with
//! `.ci/install.d/postgres.sh`): a store test that skips tests nothing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The superuser's name and password in the throwaway cluster.
pub const ADMIN: &str = "fleet_admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "adm1n-s3cret";

/// A running cluster.
pub struct Cluster {
    dir: PathBuf,
    data: String,
    bin: PathBuf,
    port: u16,
    run_as: Option<String>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let cluster = Cluster::start();
        // SAFETY: registering a plain `extern "C"` function with no arguments.
        unsafe { libc::atexit(stop_at_exit) };
        cluster
    })
}

extern "C" fn stop_at_exit() {
    if let Some(cluster) = CLUSTER.get() {
        cluster.stop();
    }
}

fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin): \
             `apt-get install postgresql`; CI installs it with .ci/install.d/postgres.sh"
        )
    })
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Cluster {
    fn start() -> Cluster {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new()
            .prefix("fleetbench-pg-")
            .tempdir()
            .unwrap()
            .keep();
        let run_as = (unsafe { libc::geteuid() } == 0).then(|| "postgres".to_string());
        std::fs::write(dir.join("pw"), ADMIN_PASSWORD).unwrap();
        if run_as.is_some() {
            chown_to_postgres(&dir);
        }
        let data = dir.join("data").to_string_lossy().into_owned();
        let cluster = Cluster {
            dir,
            data,
            bin,
            port: free_port(),
            run_as,
        };
        let initdb = cluster.initdb_args();
        cluster.tool(
            "initdb",
            &initdb.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=120",
            cluster.port,
            cluster.dir.display()
        );
        let log = cluster.dir.join("server.log");
        cluster.tool(
            "pg_ctl",
            &[
                "-D",
                cluster.data(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        cluster
    }

    fn data(&self) -> &str {
        &self.data
    }

    fn initdb_args(&self) -> Vec<String> {
        let pw = format!("--pwfile={}", self.dir.join("pw").display());
        [
            "-D",
            self.data(),
            "-U",
            ADMIN,
            &pw,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        ]
        .map(String::from)
        .to_vec()
    }

    /// Runs a PostgreSQL tool (as the `postgres` user under root), insisting it succeeds.
    fn tool(&self, name: &str, args: &[&str]) {
        let program = self.bin.join(name);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let out = cmd.args(args).current_dir(&self.dir).output().unwrap();
        assert!(
            out.status.success(),
            "{name} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        let _ = std::panic::catch_unwind(|| {
            self.tool(
                "pg_ctl",
                &["-D", self.data(), "-m", "immediate", "-w", "stop"],
            )
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// `postgres://user:password@127.0.0.1:port/db`.
    pub fn url_as(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    /// The superuser's URL of `db`.
    pub fn url(&self, db: &str) -> String {
        self.url_as(ADMIN, ADMIN_PASSWORD, db)
    }

    /// Runs SQL as the superuser in `db`.
    pub fn admin(&self, db: &str, sql: &str) {
        let mut client = postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap();
        client.batch_execute(sql).unwrap();
    }

    /// A fresh, empty database for one test (names are made by the tests, never by input).
    pub fn fresh_database(&self, name: &str) -> String {
        // One statement each: DROP and CREATE DATABASE cannot run inside a transaction.
        self.admin("postgres", &format!("DROP DATABASE IF EXISTS {name}"));
        self.admin("postgres", &format!("CREATE DATABASE {name}"));
        self.url(name)
    }
}

fn chown_to_postgres(dir: &Path) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    let (uid, gid) = (id("-u"), id("-g"));
    for path in [dir.to_path_buf(), dir.join("pw")] {
        std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
    }
}
