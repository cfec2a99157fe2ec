//! The registry listener's secret: 32 random hex digits kept in the data dir, mode 0600,
//! made once and then reused, so URLs written into a shell profile or an MCP client's
//! config keep working across restarts. Every URL the listener serves starts with it: loopback
//! TCP is open to every user of the machine, the file only to this one.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const FILE: &str = "registry-secret";
const LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("the registry listener's secret ({path}): {reason}")]
pub struct SecretError {
    path: PathBuf,
    reason: String,
}

/// Reads the secret, or makes it when there is none.
pub fn load_or_create(data_dir: &Path) -> Result<String, SecretError> {
    let path = data_dir.join(FILE);
    let error = |reason: String| SecretError {
        path: path.clone(),
        reason,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim();
            let meta = std::fs::metadata(&path).map_err(|e| error(e.to_string()))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(error(format!(
                    "readable by others (mode {:o}); remove it and a new one is made",
                    meta.permissions().mode() & 0o777
                )));
            }
            if secret.len() != LEN || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(error(format!(
                    "not {LEN} hex digits; remove it and a new one is made"
                )));
            }
            Ok(secret.to_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(data_dir)
                .map_err(|e| error(e.to_string()))?;
            let secret = random_hex().map_err(|e| error(format!("no randomness: {e}")))?;
            // create_new: two daemons racing on one data dir never both write it.
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path);
            match created {
                Ok(mut file) => {
                    file.write_all(format!("{secret}\n").as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| error(e.to_string()))?;
                    Ok(secret)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(data_dir),
                Err(e) => Err(error(e.to_string())),
            }
        }
        Err(e) => Err(error(e.to_string())),
    }
}

fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; LEN / 2];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares in time that does not depend on where the strings differ.
pub fn matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = load_or_create(&data).unwrap();
        assert_eq!(first.len(), LEN);
        let mode = std::fs::metadata(data.join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(&data).unwrap(), first);
        assert_ne!(load_or_create(&dir.path().join("other")).unwrap(), first);
        std::fs::set_permissions(data.join(FILE), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            load_or_create(&data)
                .unwrap_err()
                .to_string()
                .contains("readable by others")
        );
        assert!(matches(&first, &first.clone()));
        assert!(!matches(&first, &first[1..]));
        assert!(!matches(&first, &"0".repeat(LEN)));
    }
}
