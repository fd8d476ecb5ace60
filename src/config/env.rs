//! Where variables come from: the process environment first, then `.env`.

use std::collections::HashMap;
use std::path::Path;

use super::ConfigError;

/// The variables as mtgate sees them.
///
/// `.env` is read into a map instead of into the process environment, so nothing global is
/// mutated and "the real environment wins" holds by construction.
#[derive(Debug, Default, Clone)]
pub struct Environment {
    dotenv: HashMap<String, String>,
}

impl Environment {
    /// Reads `./.env` when it exists. A malformed file is an error naming `.env`.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(Path::new(".env"))
    }

    /// Reads the given dotenv file when it exists.
    pub fn load_from(path: &Path) -> Result<Self, ConfigError> {
        let mut dotenv = HashMap::new();
        if path.exists() {
            let iter = dotenvy::from_path_iter(path)
                .map_err(|e| ConfigError::new(".env", format!("cannot read the file: {e}")))?;
            for item in iter {
                let (key, value) = item
                    .map_err(|e| ConfigError::new(".env", format!("cannot parse the file: {e}")))?;
                dotenv.insert(key, value);
            }
        }
        Ok(Self { dotenv })
    }

    /// The value of `name`: the real environment wins over `.env`.
    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .or_else(|| self.dotenv.get(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_file_is_read_without_touching_the_process_environment() {
        let dir = std::env::temp_dir().join(format!("mtgate-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(&path, "MTGATE_TEST_ONLY_VAR_7F3A=from-file\n").unwrap();
        let env = Environment::load_from(&path).unwrap();
        assert_eq!(
            env.get("MTGATE_TEST_ONLY_VAR_7F3A").as_deref(),
            Some("from-file")
        );
        assert!(std::env::var("MTGATE_TEST_ONLY_VAR_7F3A").is_err());
        std::fs::write(&path, "this is not = = a valid line\n'unterminated").unwrap();
        assert_eq!(Environment::load_from(&path).unwrap_err().var, ".env");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
