//! The sandbox's generated configuration: the gateway wired to the simulated marketplaces, with
//! fresh secrets. Written to the data directory as a TOML file, so it can be read and reused.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Where each part of the sandbox listens.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub portal: u16,
    pub gateway: u16,
    pub hubspot: u16,
    pub pipedrive: u16,
    pub shopify: u16,
}

impl Ports {
    /// The portal on `base`, the others on the ports after it.
    pub fn from_base(base: u16) -> Self {
        Self {
            portal: base,
            gateway: base.saturating_add(1),
            hubspot: base.saturating_add(2),
            pipedrive: base.saturating_add(3),
            shopify: base.saturating_add(4),
        }
    }

    /// Fails, naming every port that is taken, before any part starts: a part that found its
    /// port taken after the others started would name that one only.
    pub fn ensure_free(&self) -> anyhow::Result<()> {
        let parts = [
            ("the portal", self.portal),
            ("the gateway", self.gateway),
            ("the HubSpot simulator", self.hubspot),
            ("the Pipedrive simulator", self.pipedrive),
            ("the Shopify simulator", self.shopify),
        ];
        let taken: Vec<String> = parts
            .into_iter()
            .filter(|(_, port)| std::net::TcpListener::bind(("127.0.0.1", *port)).is_err())
            .map(|(part, port)| format!("{port} ({part})"))
            .collect();
        if taken.is_empty() {
            Ok(())
        } else {
            anyhow::bail!(
                "ports in use: {}; choose another first port with --port",
                taken.join(", ")
            )
        }
    }
}

pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The simulated HubSpot's pages are named `localhost`, so that a browser treats them as another
/// site than the gateway on `127.0.0.1`, as `app.hubspot.com` is another site than a vendor's:
/// framing and third-party cookies then behave as they do in production.
pub fn hubspot_pages_url(ports: &Ports) -> String {
    format!("http://localhost:{}", ports.hubspot)
}

/// The shops of the simulated Shopify.
pub const DEMO_SHOPS: [&str; 2] = ["acme.myshopify.com", "globex.myshopify.com"];

/// One demo app.
#[derive(Debug, Clone)]
pub struct DemoApp {
    pub id: &'static str,
    pub name: &'static str,
    pub provider: &'static str,
    pub partner_sign_in: bool,
    pub scopes: &'static [&'static str],
    pub client_id: String,
    pub client_secret: String,
}

impl DemoApp {
    pub fn install_url(&self, ports: &Ports) -> String {
        format!(
            "{}/install/{}/{}",
            url(ports.gateway),
            self.provider,
            self.id
        )
    }
}

/// Secrets made for one sandbox run.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub vault_key: String,
    pub session_key: String,
    pub webhook_secret: String,
    pub api_key: String,
    pub api_key_sha256: String,
}

fn random_base64(bytes: usize) -> anyhow::Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(STANDARD.encode(buffer))
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

impl Secrets {
    pub fn generate() -> anyhow::Result<Self> {
        let (api_key, api_key_sha256) =
            crate::api::new_key().map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
        Ok(Self {
            vault_key: random_base64(32)?,
            session_key: random_base64(64)?,
            webhook_secret: format!("whsec_{}", random_base64(32)?),
            api_key,
            api_key_sha256,
        })
    }
}

/// The demo apps: two per marketplace, HubSpot's with and without partner sign-in.
pub fn demo_apps() -> anyhow::Result<Vec<DemoApp>> {
    let app = |id, name, provider, partner_sign_in, scopes| -> anyhow::Result<DemoApp> {
        Ok(DemoApp {
            id,
            name,
            provider,
            partner_sign_in,
            scopes,
            client_id: format!("sandbox-{id}"),
            client_secret: random_hex(16)?,
        })
    };
    Ok(vec![
        app(
            "hubspot_signin",
            "Acme CRM Sync (partner sign-in)",
            "hubspot",
            true,
            &["oauth", "crm.objects.contacts.read"],
        )?,
        app(
            "hubspot_oauth",
            "Acme Forms (OAuth only)",
            "hubspot",
            false,
            &["oauth", "forms"],
        )?,
        app(
            "pipedrive_crm",
            "Acme Deals Sync",
            "pipedrive",
            false,
            &["deals:full", "users:read"],
        )?,
        app(
            "pipedrive_leads",
            "Acme Leads",
            "pipedrive",
            false,
            &["leads:read", "users:read"],
        )?,
        app(
            "shopify_store",
            "Acme Store Sync",
            "shopify",
            false,
            &["read_orders", "write_products"],
        )?,
    ])
}

/// Where the gateway keeps its state.
#[derive(Debug, Clone)]
pub struct Backends {
    pub redis_url: Option<String>,
    pub database_url: String,
}

fn quoted(value: &str) -> String {
    // TOML basic strings: escape backslashes and quotes.
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn list(values: &[&str]) -> String {
    let items: Vec<String> = values.iter().map(|value| quoted(value)).collect();
    format!("[{}]", items.join(", "))
}

/// The configuration file's text.
pub fn render(ports: &Ports, backends: &Backends, secrets: &Secrets, apps: &[DemoApp]) -> String {
    let gateway = url(ports.gateway);
    let portal = url(ports.portal);
    let mut text = String::from(
        "# Generated by `installgate sandbox`: the gateway wired to the simulated marketplaces.\n",
    );
    let _ = writeln!(
        text,
        // Ctrl-C stops a sandbox within a few seconds, whatever is still connected.
        "\n[server]\npublic_url = {}\nbind = {}\nworkers = 2\nshutdown_timeout_seconds = 3",
        quoted(&gateway),
        quoted(&format!("127.0.0.1:{}", ports.gateway))
    );
    // The sandbox is for trying installs; the operator console stays off here.
    text.push_str("\n[admin]\nbind = \"\"\n");
    match &backends.redis_url {
        Some(redis) => {
            let _ = writeln!(
                text,
                "\n[state]\nbackend = \"redis\"\nredis_url = {}\nkey_prefix = \"installgate-sandbox:\"",
                quoted(redis)
            );
        }
        None => text.push_str("\n[state]\nbackend = \"memory\"\n"),
    }
    let _ = writeln!(
        text,
        "\n[database]\nurl = {}\n\n[vault]\nactive_key = \"sandbox\"\n\n[vault.keys]\nsandbox = {}",
        quoted(&backends.database_url),
        quoted(&secrets.vault_key)
    );
    let _ = writeln!(
        text,
        "\n[session]\nkey = {}\n\n[webhook]\nurl = {}\nsecret = {}\ninitial_backoff_ms = 500\npoll_interval_ms = 200",
        quoted(&secrets.session_key),
        quoted(&format!("{portal}/webhook")),
        quoted(&secrets.webhook_secret)
    );
    let _ = writeln!(
        text,
        "\n[api.keys.sandbox]\nsha256 = {}",
        quoted(&secrets.api_key_sha256)
    );
    for app in apps {
        let (marketplace, authorize, token) = match app.provider {
            "hubspot" => {
                let at = url(ports.hubspot);
                (
                    at.clone(),
                    format!("{at}/oauth/authorize"),
                    format!("{at}/oauth/v3/token"),
                )
            }
            // Every shop is its own host at Shopify; the simulator serves each under a path.
            "shopify" => {
                let shop = format!("{}/shops/{{tenant}}", url(ports.shopify));
                (
                    format!("{shop}/"),
                    format!("{shop}/admin/oauth/authorize"),
                    format!("{shop}/admin/oauth/access_token"),
                )
            }
            _ => {
                let at = url(ports.pipedrive);
                (
                    at.clone(),
                    format!("{at}/oauth/authorize"),
                    format!("{at}/oauth/token"),
                )
            }
        };
        let _ = writeln!(
            text,
            "\n[apps.{id}]\nprovider = {provider}\nclient_id = {client_id}\nclient_secret = {secret}\n\
             scopes = {scopes}\npartner_sign_in = {partner}\nauthorize_url = {authorize}\n\
             token_url = {token}\napi_base_url = {api}\nsetup_url = {setup}\n\
             display_name = {name}\naccent_color = \"#0b6e4f\"\nsupport_url = {help}",
            id = app.id,
            provider = quoted(app.provider),
            client_id = quoted(&app.client_id),
            secret = quoted(&app.client_secret),
            scopes = list(app.scopes),
            partner = app.partner_sign_in,
            authorize = quoted(&authorize),
            token = quoted(&token),
            api = quoted(&marketplace),
            setup = quoted(&format!("{portal}/setup/{}", app.id)),
            name = quoted(app.name),
            help = quoted(&format!("{portal}/")),
        );
        if app.provider == "hubspot" {
            // The simulated HubSpot's pages live on a loopback origin: return URLs and framing
            // go there.
            let _ = writeln!(
                text,
                "allow_loopback_return_urls = true\nframe_ancestors = {}",
                list(&[&hubspot_pages_url(ports)])
            );
        }
    }
    text
}

/// Writes the configuration where the sandbox keeps its data, readable by the owner only.
pub fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Sources, load};

    #[test]
    fn the_generated_configuration_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let ports = Ports::from_base(18080);
        let backends = Backends {
            redis_url: None,
            database_url: format!("sqlite://{}/installgate.db", dir.path().display()),
        };
        let text = render(
            &ports,
            &backends,
            &Secrets::generate().unwrap(),
            &demo_apps().unwrap(),
        );
        let path = dir.path().join("sandbox.toml");
        write(&path, &text).unwrap();
        let settings = load(&Sources {
            file: Some(path),
            ..Sources::defaults_only()
        })
        .unwrap_or_else(|problems| panic!("{problems}"));
        assert_eq!(settings.apps.len(), 5);
        assert_eq!(
            settings.server.public_url.as_str(),
            "http://127.0.0.1:18081/"
        );
    }
}
