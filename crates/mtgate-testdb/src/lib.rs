//! A PostgreSQL server for tests, started by the test process itself from the distribution's
//! packages (Debian: `apt-get install postgresql`), so the suite never depends on a server
//! being there already.
//!
//! One server per test process ([`shared`]), fast rather than durable (no fsync), listening on
//! a free loopback port with trust authentication; each test takes its own empty database
//! ([`Postgres::create_database`]). The server dies with the process: it is stopped at exit,
//! and killed by the kernel if the process is killed first.
//!
//! The server binaries are found in `MTGATE_PG_BIN`, else the newest
//! `/usr/lib/postgresql/*/bin`, else `PATH`. As root, the server runs as the `postgres` user
//! (PostgreSQL refuses to run as root).

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// How long the server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running test server.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    next_database: AtomicU32,
}

/// The server's process, killed and its directory removed at exit.
static CHILD: Mutex<Option<(Child, PathBuf)>> = Mutex::new(None);

/// The test process's server, started on first use. An `Err` says what is missing.
pub fn shared() -> Result<&'static Postgres, String> {
    static SERVER: OnceLock<Result<Postgres, String>> = OnceLock::new();
    SERVER
        .get_or_init(Postgres::start)
        .as_ref()
        .map_err(Clone::clone)
}

impl Postgres {
    fn start() -> Result<Self, String> {
        let bin = find_bin()?;
        let dir = std::env::temp_dir().join(format!(
            "mtgate-pg-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let owner = server_user()?;
        if let Some((uid, gid)) = owner {
            for path in [&dir, &data] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {}: {e}", path.display()))?;
            }
        }
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("chmod {}: {e}", data.display()))?;

        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args([
                "--auth=trust",
                "--username=postgres",
                "--no-sync",
                "--encoding=UTF8",
            ])
            .args(["--locale=C", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        as_owner(&mut initdb, owner);
        let out = initdb
            .output()
            .map_err(|e| format!("running initdb from {}: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }

        let port = free_port()?;
        let mut server = Command::new(bin.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=300", "-c", "logging_collector=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        as_owner(&mut server, owner);
        spawn_for_life(server, dir.clone())?;

        let pg = Self {
            bin,
            port,
            dir,
            next_database: AtomicU32::new(1),
        };
        pg.wait_ready()?;
        Ok(pg)
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database; its `postgres://` URL.
    pub fn create_database(&self) -> Result<String, String> {
        let name = format!(
            "t{}_{}",
            self.next_database.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let out = self
            .client("createdb")
            .arg(&name)
            .output()
            .map_err(|e| format!("running createdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "createdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }

    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .stdin(Stdio::null());
        command
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ready = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
                && self
                    .client("pg_isready")
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "PostgreSQL did not start within {START_TIMEOUT:?} (directory {})",
                    self.dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Where `initdb` and `postgres` are.
fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("MTGATE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| dir.join("initdb").exists() && dir.join("postgres").exists());
    on_path.ok_or_else(|| {
        "no PostgreSQL server found: install it (Debian: apt-get install postgresql) or set \
         MTGATE_PG_BIN to the directory holding initdb and postgres"
            .to_string()
    })
}

/// As root, the `postgres` user's uid and gid (the server refuses root); otherwise `None`.
fn server_user() -> Result<Option<(u32, u32)>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"postgres") && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .map(Some)
        .ok_or_else(|| {
            "running as root, but there is no `postgres` user to run the server as".into()
        })
}

fn as_owner(command: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Starts the server from a thread that lives as long as the process, with the kernel told
/// to kill it when that thread (so the process) dies; registers its stop at normal exit.
fn spawn_for_life(mut command: Command, dir: PathBuf) -> Result<(), String> {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (started, result) = mpsc::channel();
    std::thread::Builder::new()
        .name("test-postgres".into())
        .spawn(move || {
            let spawned = match command.spawn() {
                Ok(child) => {
                    *CHILD.lock().unwrap_or_else(|p| p.into_inner()) = Some((child, dir));
                    // SAFETY: registering a plain extern "C" function.
                    unsafe { libc::atexit(stop_at_exit) };
                    Ok(())
                }
                Err(e) => Err(format!("starting postgres: {e}")),
            };
            let ok = spawned.is_ok();
            let _ = started.send(spawned);
            if ok {
                // The death signal follows this thread: it must outlive every test.
                loop {
                    std::thread::park();
                }
            }
        })
        .map_err(|e| e.to_string())?;
    result.recv().map_err(|e| e.to_string())?
}

extern "C" fn stop_at_exit() {
    let taken = CHILD.lock().ok().and_then(|mut child| child.take());
    if let Some((mut child, dir)) = taken {
        // SIGQUIT: PostgreSQL's immediate shutdown (its backends go too).
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGQUIT) };
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(Path::new(&dir));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_starts_and_hands_out_distinct_databases() {
        let pg = shared().expect("a PostgreSQL server for the tests");
        let a = pg.create_database().unwrap();
        let b = pg.create_database().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("postgres://postgres@127.0.0.1:{}/", pg.port())));
    }
}
