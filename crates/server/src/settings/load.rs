//! Layering: embedded defaults, then `config/{environment}.toml`, then `--config FILE`, then
//! `INSTALLGATE__SECTION__KEY` environment variables. Unknown keys are collected, not ignored.

use std::collections::HashMap;
use std::path::PathBuf;

use config::{Config, Environment, File, FileFormat};

use super::raw::RawSettings;
use super::{Problem, Problems};

/// The embedded defaults; the binary runs on these alone.
pub const DEFAULTS: &str = include_str!("../../../../config/default.toml");

/// Where configuration comes from. Tests build one by hand; the binary uses [`Sources::from_process`].
#[derive(Clone, Default)]
pub struct Sources {
    /// Directory of the `{environment}.toml` files.
    pub config_dir: PathBuf,
    /// The environment whose file is layered over the defaults (`INSTALLGATE_ENVIRONMENT`).
    pub environment: Option<String>,
    /// The file named by `--config`.
    pub file: Option<PathBuf>,
    /// The variables to read `INSTALLGATE__…` keys from; `None` reads the process environment.
    pub env_vars: Option<HashMap<String, String>>,
}

/// Names the variables, never their values: they hold secrets.
impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Option<Vec<&String>> = self.env_vars.as_ref().map(|vars| vars.keys().collect());
        f.debug_struct("Sources")
            .field("config_dir", &self.config_dir)
            .field("environment", &self.environment)
            .field("file", &self.file)
            .field("env_var_names", &names)
            .finish()
    }
}

impl Sources {
    pub fn from_process(file: Option<PathBuf>) -> Self {
        let config_dir = std::env::var_os("INSTALLGATE_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        let environment = std::env::var("INSTALLGATE_ENVIRONMENT")
            .ok()
            .filter(|name| !name.is_empty());
        Self {
            config_dir,
            environment,
            file,
            env_vars: None,
        }
    }

    /// Only the embedded defaults and the given variables: what tests start from.
    pub fn defaults_only() -> Self {
        Self {
            env_vars: Some(HashMap::new()),
            ..Self::default()
        }
    }
}

pub(super) fn load_raw(sources: &Sources) -> Result<(RawSettings, Vec<Problem>), Problems> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
    if let Some(environment) = &sources.environment {
        let path = sources.config_dir.join(format!("{environment}.toml"));
        builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
    }
    if let Some(file) = &sources.file {
        builder = builder.add_source(
            File::from(file.clone())
                .format(FileFormat::Toml)
                .required(true),
        );
    }
    let environment = Environment::with_prefix("INSTALLGATE")
        .prefix_separator("__")
        .separator("__")
        .source(sources.env_vars.clone());
    let config = builder
        .add_source(environment)
        .build()
        .map_err(|error| Problems(vec![Problem::new("(sources)", error.to_string())]))?;

    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let deserializer = serde_path_to_error::Deserializer::new(config, &mut track);
    let result: Result<RawSettings, _> =
        serde_ignored::deserialize(deserializer, |path| unknown.push(path.to_string()));
    let unknown_problems = unknown
        .into_iter()
        .map(|path| Problem::new(path, "unknown key"));
    match result {
        Ok(raw) => Ok((raw, unknown_problems.collect())),
        Err(error) => {
            let path = track.path().to_string();
            let mut problems: Vec<Problem> = unknown_problems.collect();
            problems.push(Problem::new(path, describe_type_error(&error)));
            Err(Problems(problems))
        }
    }
}

/// The config crate appends the key to its messages; the path is already printed.
fn describe_type_error(error: &config::ConfigError) -> String {
    let message = error.to_string();
    match message.split_once(" for key ") {
        Some((head, _)) => head.to_owned(),
        None => message,
    }
}
