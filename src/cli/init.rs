//! `loa init`: creates the data dir, `loa.toml` with documented defaults, the audio store and
//! the database (migrated). Running it again keeps an existing config and brings the
//! database up to date.

use std::path::Path;

use clap::Args;

use crate::config::{Config, CONFIG_FILE, DEFAULT_CONFIG_TOML};

use super::Failure;

/// Arguments of `loa init`.
#[derive(Debug, Args)]
pub struct InitArgs {}

/// Runs `loa init`.
pub async fn run(data_dir: &Path, _args: InitArgs) -> Result<(), Failure> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        Failure::work(format!(
            "{}: cannot create the data dir: {e}",
            data_dir.display()
        ))
    })?;
    let config_path = data_dir.join(CONFIG_FILE);
    let fresh = !config_path.exists();
    if fresh {
        crate::library::audio_store::write_durably(&config_path, DEFAULT_CONFIG_TOML.as_bytes())
            .map_err(|e| Failure::work(format!("{}: cannot write: {e}", config_path.display())))?;
    }
    let config = Config::load(data_dir)?;
    std::fs::create_dir_all(config.audio_dir()).map_err(|e| {
        Failure::work(format!(
            "{}: cannot create the audio store: {e}",
            config.audio_dir().display()
        ))
    })?;
    let store = crate::store::open(&config.database).await?;
    store.close().await;
    eprintln!(
        "loa: {} {} (database: {:?})",
        if fresh {
            "initialised"
        } else {
            "already initialised, database up to date:"
        },
        data_dir.display(),
        config.database
    );
    Ok(())
}
