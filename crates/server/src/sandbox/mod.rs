//! `installgate sandbox`: the gateway on the embedded defaults, a simulated HubSpot and a
//! simulated Pipedrive, wired together by a generated configuration, and a portal page that
//! lists the demo apps, the connections made and the events the vendor's webhook received.

pub mod config;
pub mod portal;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use installgate_core::SystemClock;
use installgate_sandbox::{
    HubSpotSimulator, PipedriveSimulator, PipedriveUser, ShopifySimulator, SimulatedApp,
};
use installgate_store::{Database, SqlVault};

use crate::settings::{self, Sources};
use crate::startup::Application;
use crate::webhooks::Signer;
use config::{Backends, DemoApp, Ports, Secrets};

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// The portal's port; the gateway and the simulators take the next four.
    pub port: u16,
    /// Where to keep the database and the generated configuration (a temporary directory
    /// when not given).
    pub data_dir: Option<PathBuf>,
    /// Use this Redis for state instead of memory.
    pub redis_url: Option<String>,
    /// Use this database (`postgres://…`) instead of SQLite in the data directory.
    pub database_url: Option<String>,
    /// Settings over the generated file, as `INSTALLGATE__…` variables would give them (an
    /// app's install policy, say); the process's own environment is never read.
    pub settings: Vec<(String, String)>,
}

fn simulated(app: &DemoApp, ports: &Ports) -> SimulatedApp {
    SimulatedApp {
        name: app.name.to_owned(),
        client_id: app.client_id.clone(),
        client_secret: app.client_secret.clone(),
        redirect_uri: app.install_url(ports),
        scopes: app.scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        partner_sign_in: app.partner_sign_in,
    }
}

fn demo_users() -> Vec<PipedriveUser> {
    [
        (1001, 11, "Northwind Traders", "Nora North"),
        (1001, 12, "Northwind Traders", "Sam South"),
        (2002, 21, "Globex", "Gina Globe"),
    ]
    .into_iter()
    .map(|(company_id, user_id, company, name)| PipedriveUser {
        company_id,
        user_id,
        company_name: company.to_owned(),
        name: name.to_owned(),
    })
    .collect()
}

/// The sandbox's data directory: `given`, made if missing, or a temporary directory (removed
/// when the returned guard is dropped).
pub fn data_dir(
    given: Option<&std::path::Path>,
) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    match given {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            Ok((dir.to_owned(), None))
        }
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("installgate-sandbox-")
                .tempdir()?;
            Ok((temporary.path().to_owned(), Some(temporary)))
        }
    }
}

/// A running sandbox.
pub struct Sandbox {
    pub ports: Ports,
    pub config_path: PathBuf,
    pub api_key: String,
    pub hubspot: HubSpotSimulator,
    pub pipedrive: PipedriveSimulator,
    pub shopify: ShopifySimulator,
    gateway: actix_web::dev::ServerHandle,
    portal: actix_web::dev::ServerHandle,
    _data_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts every part and returns once all listen.
    pub async fn start(options: SandboxOptions) -> anyhow::Result<Self> {
        let ports = Ports::from_base(options.port);
        ports.ensure_free()?;
        let (data_dir, temporary) = data_dir(options.data_dir.as_deref())?;
        let apps = config::demo_apps()?;
        let secrets = Secrets::generate()?;
        let backends = Backends {
            redis_url: options.redis_url.clone(),
            database_url: options
                .database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}/installgate.db", data_dir.display())),
        };
        let config_path = data_dir.join("sandbox.toml");
        config::write(
            &config_path,
            &config::render(&ports, &backends, &secrets, &apps),
        )?;
        // The embedded defaults and the generated file only: the sandbox ignores the process's
        // configuration, so it behaves the same on every machine.
        let settings = settings::load(&Sources {
            file: Some(config_path.clone()),
            env_vars: Some(options.settings.iter().cloned().collect()),
            ..Sources::defaults_only()
        })
        .map_err(|problems| {
            anyhow::anyhow!("the generated configuration is not valid:\n{problems}")
        })?;

        let on = |provider: &str| -> Vec<SimulatedApp> {
            apps.iter()
                .filter(|app| app.provider == provider)
                .map(|app| simulated(app, &ports))
                .collect()
        };
        let hubspot =
            HubSpotSimulator::start_with_pages_on(on("hubspot"), ports.hubspot, "localhost")
                .await
                .with_context(|| {
                    format!("starting the HubSpot simulator on port {}", ports.hubspot)
                })?;
        let pipedrive = PipedriveSimulator::start(on("pipedrive"), demo_users(), ports.pipedrive)
            .await
            .with_context(|| {
                format!(
                    "starting the Pipedrive simulator on port {}",
                    ports.pipedrive
                )
            })?;
        let shops = config::DEMO_SHOPS
            .iter()
            .map(|shop| (*shop).to_owned())
            .collect();
        let shopify = ShopifySimulator::start(on("shopify"), shops, ports.shopify)
            .await
            .with_context(|| format!("starting the Shopify simulator on port {}", ports.shopify))?;

        let database = Database::connect(&settings.database).await?;
        let keys = crate::vault_keys::keyring(&settings)?;
        let vault = SqlVault::new(database, Arc::new(keys), Arc::new(SystemClock));
        let webhook_key = settings
            .webhook
            .target
            .as_ref()
            .map(|target| target.secret.clone())
            .context("the sandbox configures a webhook")?;
        let application = Application::build(settings)
            .await
            .context("starting the gateway")?;
        let gateway = application.handle();
        tokio::spawn(application.run_until_stopped());

        let portal = web_portal(portal::Portal {
            ports,
            apps,
            vault,
            signer: Signer::new(webhook_key),
            api_key: secrets.api_key.clone(),
            events: Mutex::new(Vec::new()),
        })?;
        Ok(Self {
            ports,
            config_path,
            api_key: secrets.api_key,
            hubspot,
            pipedrive,
            shopify,
            gateway,
            portal,
            _data_dir: temporary,
        })
    }

    pub fn portal_url(&self) -> String {
        config::url(self.ports.portal)
    }

    pub async fn stop(&self) {
        self.portal.stop(true).await;
        self.gateway.stop(true).await;
        self.hubspot.stop().await;
        self.pipedrive.stop().await;
        self.shopify.stop().await;
    }
}

fn web_portal(portal: portal::Portal) -> anyhow::Result<actix_web::dev::ServerHandle> {
    let port = portal.ports.portal;
    let data = actix_web::web::Data::new(portal);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .configure(portal::routes)
    })
    .workers(1)
    .shutdown_timeout(2)
    .bind(("127.0.0.1", port))
    .with_context(|| format!("binding the sandbox portal to port {port}"))?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(handle)
}

/// Runs the sandbox until Ctrl-C or SIGTERM; `log` is where its whole log goes.
pub async fn run(options: SandboxOptions, log: &std::path::Path) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(options).await?;
    let ports = sandbox.ports;
    println!(
        "\nInstallgate sandbox is running.\n\n  Open {portal} to try the installs.\n\n  \
         gateway            {gateway}\n  simulated HubSpot  {hubspot}\n  simulated Pipedrive {pipedrive}\n  \
         simulated Shopify  {shopify}/shops/{shop}/admin\n  \
         configuration      {config}\n  log                {log}\n  API key            {key}\n\nCtrl-C stops it.",
        portal = sandbox.portal_url(),
        gateway = config::url(ports.gateway),
        hubspot = config::hubspot_pages_url(&ports),
        pipedrive = config::url(ports.pipedrive),
        shopify = config::url(ports.shopify),
        shop = config::DEMO_SHOPS[0],
        config = sandbox.config_path.display(),
        log = log.display(),
        key = sandbox.api_key,
    );
    crate::startup::stop_signal().await?;
    sandbox.stop().await;
    Ok(())
}
