//! The Redis and PostgreSQL the tests talk to: the ones the environment names when they answer,
//! or private ones started under `target/` on free loopback ports and stopped when dropped.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::prerequisites::Machine;

const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The first address of `url`'s host and port.
fn address(url: &str, default_port: u16) -> Option<SocketAddr> {
    let url = url::Url::parse(url).ok()?;
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    (host, url.port().unwrap_or(default_port))
        .to_socket_addrs()
        .ok()?
        .next()
}

/// Sends `request` and reads the first bytes of the answer, within a second each way.
fn ask(address: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&address, ANSWER_TIMEOUT).ok()?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(ANSWER_TIMEOUT)).ok()?;
    stream.write_all(request).ok()?;
    let mut answer = [0_u8; 16];
    let read = stream.read(&mut answer).ok()?;
    Some(answer[..read].to_vec())
}

/// Whether a Redis server answers at `url` (`+PONG`, or an error asking for credentials).
pub fn redis_answers(url: &str) -> bool {
    address(url, 6379)
        .and_then(|address| ask(address, b"PING\r\n"))
        .is_some_and(|answer| answer.starts_with(b"+PONG") || answer.starts_with(b"-NOAUTH"))
}

/// Whether the tests can use the PostgreSQL at `url`: something answers as PostgreSQL does,
/// and, when `psql` is at hand, signing in with the URL's credentials works (a fresh Debian
/// cluster answers on 5432 but wants a password the default URL does not have).
pub fn postgres_usable(url: &str, psql: Option<&Path>) -> bool {
    if !postgres_answers(url) {
        return false;
    }
    let Some(psql) = psql else {
        return true;
    };
    Command::new(psql)
        .args([url, "-qtAc", "SELECT 1"])
        .env("PGCONNECT_TIMEOUT", "3")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether a PostgreSQL server answers at `url`: its answer to an `SSLRequest` is `S` or `N`.
pub fn postgres_answers(url: &str) -> bool {
    // Length 8, then the SSLRequest code 80877103.
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 210, 22, 47];
    address(url, 5432)
        .and_then(|address| ask(address, &SSL_REQUEST))
        .is_some_and(|answer| matches!(answer.first(), Some(b'S' | b'N')))
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| format!("no free loopback port: {error}"))
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    while !ready() {
        if Instant::now() > deadline {
            return Err(format!("{what} did not come up within {START_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Sends `signal` (`TERM`, `INT`, `KILL`) to `pid`.
fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A server started for this run: stopped (gracefully, then forcibly) and its directory removed
/// when dropped, whatever the run's outcome.
#[derive(Debug)]
pub struct Private {
    pub url: String,
    child: Child,
    /// The process to signal, when it is not `child` itself (PostgreSQL under `runuser`).
    pid_file: Option<PathBuf>,
    stop_signal: &'static str,
    dir: PathBuf,
}

impl Private {
    fn server_pid(&self) -> u32 {
        self.pid_file
            .as_ref()
            .and_then(|file| std::fs::read_to_string(file).ok())
            .and_then(|text| text.lines().next()?.trim().parse().ok())
            .unwrap_or_else(|| self.child.id())
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        signal(self.server_pid(), self.stop_signal);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    signal(self.server_pid(), "KILL");
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `redis-server` with no persistence on a free loopback port, its files under `dir`.
pub fn start_redis(machine: &Machine, dir: &Path) -> Result<Private, String> {
    let server = machine
        .find("redis-server")
        .ok_or_else(|| "redis-server is missing".to_owned())?;
    let port = free_port()?;
    let dir = dir.join(format!("redis-{port}"));
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let child = Command::new(server)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(&dir)
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .arg("--pidfile")
        .arg(dir.join("redis.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("starting redis-server: {error}"))?;
    let private = Private {
        url: format!("redis://127.0.0.1:{port}"),
        child,
        pid_file: None,
        stop_signal: "TERM",
        dir,
    };
    wait_until("the private Redis", || redis_answers(&private.url))?;
    Ok(private)
}

/// Runs PostgreSQL's binaries as an unprivileged user when this process is root (they refuse
/// to run as root): `postgres`, which Debian's package creates.
fn as_postgres_user(root: bool, program: &Path) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL cluster made with `initdb` (trust on loopback) under `dir`, on a free port.
pub fn start_postgres(machine: &Machine, dir: &Path, root: bool) -> Result<Private, String> {
    let bin = machine
        .postgres_bin()
        .ok_or_else(|| "PostgreSQL's server binaries are missing".to_owned())?;
    let port = free_port()?;
    // Under the system's temporary directory rather than `target/`: PostgreSQL runs as the
    // `postgres` user when the xtask is root, and the project may sit where that user cannot
    // go (under `/root`, say). `dir` only names the run.
    let run = dir
        .file_name()
        .map_or_else(|| "run".into(), |name| name.to_string_lossy().into_owned());
    let dir = std::env::temp_dir().join(format!("installgate-xtask-{run}-postgres-{port}"));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    if root {
        let owned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|status| status.success());
        if !owned {
            return Err("cannot hand the PostgreSQL directory to the postgres user".into());
        }
    }
    let initdb = as_postgres_user(root, &bin.join("initdb"))
        .arg("--pgdata")
        .arg(&data)
        .args([
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
        ])
        .args(["--no-sync", "--no-instructions"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|error| format!("initdb: {error}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr).trim()
        ));
    }
    let log_path = dir.join("postgres.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|error| format!("{}: {error}", log_path.display()))?;
    let child = as_postgres_user(root, &bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(&dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(["-c", "max_connections=200"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|error| format!("starting postgres: {error}"))?;
    let private = Private {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        child,
        pid_file: Some(data.join("postmaster.pid")),
        // Fast shutdown: sessions left open are ended.
        stop_signal: "INT",
        dir,
    };
    let pg_isready = bin.join("pg_isready");
    wait_until("the private PostgreSQL", || {
        Command::new(&pg_isready)
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|status| status.success())
    })
    .map_err(|error| {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("{error}; its log ends:\n{}", tail.join("\n"))
    })?;
    Ok(private)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_listening_is_no_answer() {
        let port = free_port().unwrap();
        assert!(!redis_answers(&format!("redis://127.0.0.1:{port}")));
        assert!(!postgres_answers(&format!(
            "postgres://postgres@127.0.0.1:{port}/postgres"
        )));
        assert!(!redis_answers("not a url"));
    }

    #[test]
    fn a_listener_that_says_something_else_is_no_answer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let mut stream = stream.unwrap();
                let mut buffer = [0_u8; 16];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            }
        });
        assert!(!redis_answers(&format!("redis://127.0.0.1:{port}")));
        assert!(!postgres_answers(&format!(
            "postgres://127.0.0.1:{port}/postgres"
        )));
    }
}
