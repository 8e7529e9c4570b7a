//! `loa init`: creates the data dir, `loa.toml` with documented defaults, the audio store and
//! the database (migrated), and the district's airlog signing key (`loa.toml` and the key
//! are 0600). Running it again keeps an existing config and key and brings the database up
//! to date.

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
        // A fresh random token for the control API, so it is never open by default.
        let text = DEFAULT_CONFIG_TOML.replacen(
            "token = \"\"",
            &format!("token = \"{}\"", random_token()),
            1,
        );
        // It holds the API token: only its owner may read it.
        crate::airlog::key::write_private(&config_path, text.as_bytes())
            .map_err(|e| Failure::work(format!("{}: cannot write: {e}", config_path.display())))?;
    }
    let config = Config::load(data_dir)?;
    let (key, _) = crate::airlog::key::DistrictKey::load_or_create(&config.signing_key)
        .map_err(|e| Failure::work(e.to_string()))?;
    std::fs::create_dir_all(config.audio_dir()).map_err(|e| {
        Failure::work(format!(
            "{}: cannot create the audio store: {e}",
            config.audio_dir().display()
        ))
    })?;
    let store = crate::store::open(&config.database).await?;
    store.close().await;
    eprintln!(
        "loa: {} {} (database: {:?}; airlog signing key {}, fingerprint {})",
        if fresh {
            "initialised"
        } else {
            "already initialised, database up to date:"
        },
        data_dir.display(),
        config.database,
        config.signing_key.display(),
        key.public().fingerprint()
    );
    Ok(())
}

/// 32 random bytes as hex, from the kernel's generator.
fn random_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => hex::encode(bytes),
        // Without /dev/urandom the API stays disabled (empty token) rather than guessable.
        Err(_) => String::new(),
    }
}
