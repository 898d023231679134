use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

fn admin_url() -> String {
    std::env::var("INSTALLGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of the test's own, dropped when the value is.
pub struct FreshPostgres {
    name: String,
    url: String,
}

impl FreshPostgres {
    pub async fn create() -> Self {
        let name = format!("installgate_test_{}", uuid::Uuid::new_v4().simple());
        let admin = admin_url();
        let mut connection = PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL must be reachable at INSTALLGATE_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .unwrap();
        let url = with_database(&admin, &name);
        Self { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The admin URL with its database replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl Drop for FreshPostgres {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = admin_url();
        // Dropping needs async I/O; a thread with its own runtime keeps Drop usable anywhere.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut connection) = PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut connection)
                        .await;
                }
            });
        })
        .join();
    }
}
