//! Configuration errors: one per problem, all of them collected before startup gives up, so a
//! fresh setup is fixed in one round instead of one variable at a time.

use std::fmt;

/// A variable that stops startup: which one, and what is wrong with it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(var: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            reason: reason.into(),
        }
    }
}

/// Every problem found in one pass, in the order the variables are read. Displayed one per
/// line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The variables named, in order (a variable may appear more than once).
    pub fn vars(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.var.as_str()).collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<&ConfigError> for ConfigErrors {
    fn from(error: &ConfigError) -> Self {
        Self(vec![error.clone()])
    }
}

impl From<&ConfigErrors> for ConfigErrors {
    fn from(errors: &ConfigErrors) -> Self {
        errors.clone()
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        Self(vec![error])
    }
}

/// Gathers errors while parsing goes on, keeping whatever parsed.
#[derive(Debug, Default)]
pub struct Collector {
    errors: Vec<ConfigError>,
}

impl Collector {
    /// The value, or `None` with the error kept.
    pub fn take<T>(&mut self, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    pub fn push(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    pub fn extend(&mut self, errors: impl IntoIterator<Item = ConfigError>) {
        self.errors.extend(errors);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Everything gathered.
    pub fn into_errors(self) -> ConfigErrors {
        ConfigErrors(self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_one_line_each_in_order() {
        let mut collector = Collector::default();
        assert_eq!(collector.take(Ok::<_, ConfigError>(1)), Some(1));
        collector.take::<()>(Err(ConfigError::new("A", "is bad")));
        collector.push(ConfigError::new("B", "is worse"));
        let errors = collector.into_errors();
        assert_eq!(errors.to_string(), "A: is bad\nB: is worse");
        assert_eq!(errors.vars(), ["A", "B"]);
    }

    #[test]
    fn nothing_gathered_is_empty() {
        assert!(Collector::default().is_empty());
    }
}
