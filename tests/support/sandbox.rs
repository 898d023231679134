//! `installgate sandbox` in the test process: the gateway wired to the simulated marketplaces.

use installgate_server::sandbox::{Sandbox, SandboxOptions};

/// A sandbox on five consecutive ports that were free a moment ago, on the embedded defaults.
pub async fn start_sandbox() -> Sandbox {
    start_sandbox_with(&[]).await
}

/// A sandbox with `settings` (`INSTALLGATE__…` names and values) over its generated file.
pub async fn start_sandbox_with(settings: &[(&str, &str)]) -> Sandbox {
    for _ in 0..20 {
        let base = crate::free_port();
        let all_free = (1..5).all(|offset| {
            base.checked_add(offset)
                .is_some_and(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        });
        if !all_free {
            continue;
        }
        let options = SandboxOptions {
            port: base,
            data_dir: None,
            redis_url: None,
            database_url: None,
            settings: settings
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
        };
        if let Ok(sandbox) = Sandbox::start(options).await {
            return sandbox;
        }
    }
    panic!("no five free consecutive ports");
}
