//! A real Chromium driven over WebDriver: Debian's `chromium` and `chromium-driver` (override the
//! paths with `CHROMIUM` and `CHROMEDRIVER`). Headless, one fresh profile per session.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// A browser session and the chromedriver behind it, ended when dropped.
pub struct Chrome {
    pub client: Client,
    driver: Child,
    name: String,
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("screenshots")
}

impl Chrome {
    /// Starts chromedriver and a headless Chromium session; `name` prefixes its screenshots.
    pub async fn start(name: &str) -> Self {
        let port = crate::free_port();
        let driver_path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        // A process group of its own, so that a failed test can end Chromium with it.
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("{driver_path} must be installed (Debian: chromium-driver): {error}")
            });
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": binary,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--window-size=1100,900", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic",
                ],
                // Third-party cookies blocked, as more and more browsers do: a framed page on
                // another site keeps a session only with a partitioned cookie.
                "prefs": {
                    "profile.cookie_controls_mode": 1,
                    "profile.block_third_party_cookies": true,
                },
            }),
        );
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session (is the chromium package installed?)");
        Self {
            client,
            driver,
            name: name.to_owned(),
        }
    }

    /// The WCAG 2.1 A and AA violations axe-core finds in the current page, one line each
    /// (rule, then the elements).
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let script = format!(
            "{}\nconst done = arguments[arguments.length - 1];\n\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: \
             ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }} }})\n\
             .then(r => done(r.violations.map(v => v.id + ': ' + \
             v.nodes.map(n => n.target.join(' ')).join(', '))))\n\
             .catch(e => done(['axe-core failed: ' + e]));",
            axe_source()
        );
        let found = self
            .client
            .execute_async(&script, Vec::new())
            .await
            .unwrap();
        serde_json::from_value(found).unwrap()
    }

    /// Fails the test when the current page (named `page` in the message) has a WCAG 2.1 AA
    /// violation.
    pub async fn assert_accessible(&self, page: &str) {
        let violations = self.accessibility_violations().await;
        assert!(violations.is_empty(), "{page}: {violations:#?}");
    }

    /// Saves a screenshot as `target/screenshots/{name}-{step}.png`.
    pub async fn shot(&self, step: &str) {
        self.try_shot(step)
            .await
            .unwrap_or_else(|error| panic!("screenshot {step}: {error}"));
    }

    /// Waits (up to 10 s) for an element matching `css`. When none comes, saves a screenshot
    /// (`{name}-failed.png`) and fails with the page's address and text.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => {
                let _ = self.try_shot("failed").await;
                let at = self.client.current_url().await.map(|url| url.to_string());
                let text = match self.client.find(Locator::Css("body")).await {
                    Ok(body) => body.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("no {css} ({error}) at {at:?}; the page says:\n{text}")
            }
        }
    }

    async fn try_shot(&self, step: &str) -> Result<(), Box<dyn std::error::Error>> {
        let png = self.client.screenshot().await?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}-{step}.png", self.name)), png)?;
        Ok(())
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    pub async fn fill(&self, css: &str, text: &str) {
        self.wait_for(css).await.send_keys(text).await.unwrap();
    }

    /// Switches to the window opened last, waiting for it to appear.
    pub async fn switch_to_new_window(&self, known: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let windows = self.client.windows().await.unwrap();
            if windows.len() > known {
                let newest = windows.last().unwrap().clone();
                self.client.switch_to_window(newest).await.unwrap();
                return;
            }
            assert!(Instant::now() < deadline, "no new window opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Enters the frame matching `css`, once it appears.
    pub async fn enter(&self, css: &str) {
        self.wait_for(css).await.enter_frame().await.unwrap();
    }

    /// Leaves every frame: commands go to the window's page again.
    pub async fn to_top(&self) {
        let window = self.client.window().await.unwrap();
        self.client.switch_to_window(window).await.unwrap();
    }

    /// The text of the first element matching `css`, once it appears.
    pub async fn text_of(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Waits (up to 10 s) until the first element matching `css` reads `expected`. After a
    /// click that navigates, the page before may still show for a moment, and its element can
    /// go stale while it is read.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.ok(),
                Err(_) => None,
            };
            if text.as_deref() == Some(expected) {
                return;
            }
            if Instant::now() > deadline {
                let _ = self.try_shot("failed").await;
                panic!("{css} reads {text:?}, not {expected:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ends the session, then chromedriver.
    pub async fn end(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Chrome {
    /// Ends chromedriver and every Chromium process it started, even when the test failed
    /// before [`Chrome::end`].
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// axe-core's script: `INSTALLGATE_TEST_AXE`, which `cargo xtask test` sets after installing it
/// (`npm install --prefix target/xtask/node axe-core@4`).
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = std::env::var_os("INSTALLGATE_TEST_AXE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../target/xtask/node/node_modules/axe-core/axe.min.js")
            });
        std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "axe-core is needed at {} (run `cargo xtask test`, which installs it): {error}",
                path.display()
            )
        })
    })
}
