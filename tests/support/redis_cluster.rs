use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How many masters the cluster has; no replicas.
const NODES: usize = 3;
/// Redis listens for the cluster bus on the client port plus this.
const BUS_OFFSET: u16 = 10_000;

/// A Redis Cluster of the test's own: three `redis-server` masters in cluster mode on loopback,
/// their files in a temporary directory, killed when dropped.
///
/// Client ports are drawn from 15000–21999, so that they and their bus ports (plus 10000) stay
/// below the kernel's ephemeral range, where `free_port` and outgoing connections take theirs.
pub struct RedisCluster {
    ports: [u16; NODES],
    dir: tempfile::TempDir,
    children: Vec<Child>,
}

impl RedisCluster {
    /// Starts the cluster and waits until every node reports `cluster_state:ok`.
    pub async fn start() -> Self {
        let mut last_failure = String::new();
        for _ in 0..5 {
            let mut cluster = Self::not_started();
            match cluster.try_start().await {
                Ok(()) => return cluster,
                // Another process may have taken a port in the meantime: draw new ones.
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the Redis Cluster did not come up: {last_failure}");
    }

    /// Ports and a directory for a cluster that is not running yet, so that a test can point a
    /// client at it before it exists; [`RedisCluster::start_now`] starts it.
    pub fn not_started() -> Self {
        Self {
            ports: free_ports(),
            dir: tempfile::tempdir().expect("a temporary directory for the cluster"),
            children: Vec::new(),
        }
    }

    /// Starts a cluster made by [`RedisCluster::not_started`] on its ports.
    pub async fn start_now(&mut self) {
        if let Err(failure) = self.try_start().await {
            panic!("the Redis Cluster did not come up: {failure}");
        }
    }

    /// The seed URLs, `redis://127.0.0.1:PORT`, one per node.
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect()
    }

    /// The seed URLs as one comma-separated string, as an environment variable gives them.
    pub fn urls_joined(&self) -> String {
        self.urls().join(",")
    }

    /// How many keys starting with `prefix` each node holds (one count per node).
    pub async fn keys_per_node(&self, prefix: &str) -> Vec<usize> {
        let mut counts = Vec::new();
        for port in self.ports {
            let mut connection = node_connection(port).await.expect("a cluster node answers");
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut connection)
                .await
                .unwrap();
            counts.push(keys.len());
        }
        counts
    }

    /// Kills every node; clients see refused connections. The slot assignment stays in the
    /// nodes' files, so [`RedisCluster::restart`] brings the same cluster back (without data).
    pub fn stop(&mut self) {
        for mut child in self.children.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the stopped nodes again on their ports and waits until the cluster is whole.
    pub async fn restart(&mut self) {
        let started = async {
            self.spawn_nodes().await?;
            self.wait_until_ok().await
        };
        if let Err(failure) = started.await {
            self.stop();
            panic!("the Redis Cluster did not come back: {failure}");
        }
    }

    async fn try_start(&mut self) -> Result<(), String> {
        let started = async {
            self.spawn_nodes().await?;
            self.create()?;
            self.wait_until_ok().await
        };
        let result = started.await;
        if result.is_err() {
            self.stop();
        }
        result
    }

    /// Starts the three servers and waits until each answers.
    async fn spawn_nodes(&mut self) -> Result<(), String> {
        assert!(self.children.is_empty(), "the cluster is already running");
        for port in self.ports {
            let child = spawn_node(self.dir.path(), port)?;
            self.children.push(child);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in self.ports {
            while node_connection(port).await.is_err() {
                if self.any_exited() || Instant::now() > deadline {
                    return Err(format!("the node on port {port} did not come up"));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// Waits until every node reports `cluster_state:ok`.
    async fn wait_until_ok(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        for port in self.ports {
            while !cluster_ok(port).await {
                if Instant::now() > deadline {
                    return Err(format!(
                        "the node on port {port} never reported cluster_state:ok"
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// `redis-cli --cluster create`: the slots split between the three masters.
    fn create(&self) -> Result<(), String> {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|error| format!("redis-cli must be installed for these tests: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "redis-cli --cluster create failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn any_exited(&mut self) -> bool {
        self.children
            .iter_mut()
            .any(|child| !matches!(child.try_wait(), Ok(None)))
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn_node(dir: &Path, port: u16) -> Result<Child, String> {
    let config_file = dir.join(format!("nodes-{port}.conf"));
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--cluster-enabled", "yes"])
        .arg("--cluster-config-file")
        .arg(&config_file)
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("redis-server must be installed for these tests: {error}"))
}

async fn node_connection(port: u16) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING")
        .query_async::<String>(&mut connection)
        .await?;
    Ok(connection)
}

async fn cluster_ok(port: u16) -> bool {
    let Ok(mut connection) = node_connection(port).await else {
        return false;
    };
    redis::cmd("CLUSTER")
        .arg("INFO")
        .query_async::<String>(&mut connection)
        .await
        .is_ok_and(|info| info.lines().any(|line| line.trim() == "cluster_state:ok"))
}

/// Three distinct client ports that, with their bus ports, were free a moment ago.
fn free_ports() -> [u16; NODES] {
    let mut ports = [0; NODES];
    let mut found = 0;
    for _ in 0..10_000 {
        let candidate = 15_000 + (uuid::Uuid::new_v4().as_u128() % 7_000) as u16;
        if ports[..found].contains(&candidate) || !free(candidate) || !free(candidate + BUS_OFFSET)
        {
            continue;
        }
        ports[found] = candidate;
        found += 1;
        if found == NODES {
            return ports;
        }
    }
    panic!("no free ports for a Redis Cluster");
}

fn free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}
