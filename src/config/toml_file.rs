//! Reading the TOML configuration files (accounts, keys) into tables, with errors that name
//! the variable, the file, the entry and the field — and never a value, since these files
//! hold sessions and keys.
//!
//! Values are read from a generic table rather than through serde derive: serde's type errors
//! quote the offending value, which here may be a secret.

use std::path::Path;

use super::ConfigError;

/// One parsed file.
pub struct TomlFile {
    /// The variable that named the file (`MTGATE_ACCOUNTS_FILE`, `MTGATE_KEYS_FILE`).
    pub var: &'static str,
    /// The path as given, for messages.
    pub label: String,
    pub table: toml::Table,
}

impl TomlFile {
    /// Reads and parses `path`. Runs at startup, before the async runtime serves anything.
    pub fn read(var: &'static str, path: &Path) -> Result<Self, ConfigError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(var, format!("cannot read {label}: {e}")))?;
        Self::parse(var, label, &text)
    }

    /// Parses `text`; a syntax error names the line, not the text around it.
    pub fn parse(var: &'static str, label: String, text: &str) -> Result<Self, ConfigError> {
        match text.parse::<toml::Table>() {
            Ok(table) => Ok(Self { var, label, table }),
            Err(e) => {
                let line = e
                    .span()
                    .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
                let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
                let message = e.message().trim_end_matches('.');
                Err(ConfigError::new(
                    var,
                    format!("{label}:{at} not valid TOML: {message}"),
                ))
            }
        }
    }

    /// An error about the file as a whole.
    pub fn error(&self, reason: impl std::fmt::Display) -> ConfigError {
        ConfigError::new(self.var, format!("{}: {reason}", self.label))
    }

    /// The `[section.NAME]` tables of `section`, in file order (TOML tables keep it sorted,
    /// which is as good: messages are stable). Everything else at the top level is an error.
    pub fn entries(&self, section: &str, errors: &mut Vec<ConfigError>) -> Vec<Entry<'_>> {
        let mut entries = Vec::new();
        for (key, value) in &self.table {
            if key != section {
                errors.push(self.error(format_args!(
                    "unknown top-level key `{}` (expected [{section}.NAME] tables)",
                    key.escape_default()
                )));
                continue;
            }
            let Some(names) = value.as_table() else {
                errors.push(self.error(format_args!("`{section}` must be a table")));
                continue;
            };
            for (name, value) in names {
                let entry = Entry {
                    file: self,
                    section: format!("{section}.{}", name.escape_default()),
                    name,
                    table: None,
                };
                match value.as_table() {
                    Some(table) => entries.push(Entry {
                        table: Some(table),
                        ..entry
                    }),
                    None => errors.push(entry.error(None, "must be a table")),
                }
            }
        }
        entries
    }
}

/// One `[section.NAME]` table.
pub struct Entry<'a> {
    file: &'a TomlFile,
    /// `accounts.alice`, for messages.
    section: String,
    pub name: &'a str,
    table: Option<&'a toml::Table>,
}

impl Entry<'_> {
    /// An error about this entry, or one of its fields.
    pub fn error(&self, field: Option<&str>, reason: impl std::fmt::Display) -> ConfigError {
        let field = field.map(|f| format!(" {f}")).unwrap_or_default();
        self.file
            .error(format_args!("[{}]{field}: {reason}", self.section))
    }

    fn value(&self, field: &str) -> Option<&toml::Value> {
        self.table.and_then(|t| t.get(field))
    }

    /// Errors for every field not in `known`.
    pub fn unknown_fields(&self, known: &[&str]) -> Vec<ConfigError> {
        self.table
            .into_iter()
            .flat_map(|t| t.keys())
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| {
                self.error(
                    Some(&k.escape_default().to_string()),
                    format_args!("unknown field (expected one of: {})", known.join(", ")),
                )
            })
            .collect()
    }

    pub fn string(&self, field: &str) -> Result<Option<&str>, ConfigError> {
        match self.value(field) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.error(Some(field), "must be a string")),
        }
    }

    pub fn bool(&self, field: &str) -> Result<Option<bool>, ConfigError> {
        match self.value(field) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.error(Some(field), "must be true or false")),
        }
    }

    pub fn strings(&self, field: &str) -> Result<Option<Vec<&str>>, ConfigError> {
        let not_list = || self.error(Some(field), "must be a list of strings");
        match self.value(field) {
            None => Ok(None),
            Some(v) => v
                .as_array()
                .ok_or_else(not_list)?
                .iter()
                .map(|item| item.as_str().ok_or_else(not_list))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_names_the_file_and_line_but_not_the_text() {
        let text = "[accounts.a]\nsession = \"1secret-session\"\nbroken line here\n";
        let error = TomlFile::parse("MTGATE_ACCOUNTS_FILE", "acc.toml".into(), text)
            .err()
            .unwrap();
        assert_eq!(error.var, "MTGATE_ACCOUNTS_FILE");
        assert!(error.reason.starts_with("acc.toml: line 3: "), "{error}");
        assert!(!error.reason.contains("secret-session"), "{error}");
    }

    #[test]
    fn entries_errors_name_section_and_field() {
        let text = "stray = 1\n[things.one]\nx = 1\nflag = \"yes\"\n[things]\ntwo = 5\n";
        let file = TomlFile::parse("V", "f.toml".into(), text).unwrap();
        let mut errors = Vec::new();
        let entries = file.entries("things", &mut errors);
        assert_eq!(entries.len(), 1);
        errors.extend(entries[0].unknown_fields(&["flag"]));
        errors.extend(entries[0].bool("flag").err());
        let lines: Vec<String> = errors.iter().map(|e| e.reason.clone()).collect();
        assert!(
            lines.contains(
                &"f.toml: unknown top-level key `stray` (expected [things.NAME] tables)"
                    .to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"f.toml: [things.two]: must be a table".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(
                &"f.toml: [things.one] x: unknown field (expected one of: flag)".to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"f.toml: [things.one] flag: must be true or false".to_string()),
            "{lines:?}"
        );
    }
}
