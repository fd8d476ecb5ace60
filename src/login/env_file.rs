//! `--write-env PATH`: sets one variable in a `.env` file, keeping every other line as it was.
//!
//! The file holds a secret, so it is written with mode 0600, and atomically (a temporary file
//! in the same directory, synced, then renamed over the old one) so an interrupted write never
//! leaves a half-written `.env` behind.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Returns `content` with `key` set to `value`: the first line assigning `key` (also
/// `export KEY=…`) is replaced in place, later ones are dropped, and if there is none the
/// assignment is appended. Comments, blank lines and other variables are kept byte for byte.
pub fn upsert(content: &str, key: &str, value: &str) -> String {
    let assignment = format!("{key}={value}");
    let mut out = String::with_capacity(content.len() + assignment.len() + 1);
    let mut replaced = false;
    for line in content.split_inclusive('\n') {
        if assigns(line, key) {
            if !replaced {
                out.push_str(&assignment);
                out.push('\n');
                replaced = true;
            }
        } else {
            out.push_str(line);
        }
    }
    if !replaced {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&assignment);
        out.push('\n');
    }
    out
}

/// Whether a `.env` line assigns `key` (`KEY=…`, `KEY =…`, `export KEY=…`).
fn assigns(line: &str, key: &str) -> bool {
    let line = line.trim_start();
    let line = line
        .strip_prefix("export")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map_or(line, str::trim_start);
    line.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('='))
}

/// Sets `key=value` in the `.env` file at `path` (created if missing), mode 0600, atomically.
/// A symlinked `.env` is updated where it points.
pub fn write_var(path: &Path, key: &str, value: &str) -> io::Result<()> {
    let target = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let old = match fs::read_to_string(&target) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let new = upsert(&old, key, value);
    let temp = temp_path_beside(&target);
    let written = write_private(&temp, new.as_bytes()).and_then(|()| fs::rename(&temp, &target));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Persist the rename itself; not every filesystem supports syncing a directory.
        let _ = fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn temp_path_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".env".into());
    let unique = format!(
        ".{name}.mtgate-{}-{}.tmp",
        std::process::id(),
        rand::random::<u32>()
    );
    target.with_file_name(unique)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A fresh directory per test (tests run in parallel).
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "mtgate-env-{name}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_existing_assignment_is_replaced_in_place() {
        let before = "# settings\nTG_API_ID=1\nTG_SESSION=old\nMTGATE_LISTEN=0.0.0.0:8000\n";
        assert_eq!(
            upsert(before, "TG_SESSION", "1new=="),
            "# settings\nTG_API_ID=1\nTG_SESSION=1new==\nMTGATE_LISTEN=0.0.0.0:8000\n"
        );
    }

    #[test]
    fn a_missing_assignment_is_appended_after_a_newline() {
        assert_eq!(upsert("A=1", "TG_SESSION", "x"), "A=1\nTG_SESSION=x\n");
        assert_eq!(upsert("", "TG_SESSION", "x"), "TG_SESSION=x\n");
    }

    #[test]
    fn export_forms_and_duplicates_are_collapsed_into_one_line() {
        let before = "export TG_SESSION=a\r\nB=2\nTG_SESSION = b\n";
        assert_eq!(upsert(before, "TG_SESSION", "c"), "TG_SESSION=c\nB=2\n");
    }

    #[test]
    fn similar_names_and_comments_are_left_alone() {
        let before = "TG_SESSION_OLD=a\n# TG_SESSION=b\nexportTG_SESSION=c\n";
        assert_eq!(
            upsert(before, "TG_SESSION", "d"),
            "TG_SESSION_OLD=a\n# TG_SESSION=b\nexportTG_SESSION=c\nTG_SESSION=d\n"
        );
    }

    #[test]
    fn writing_keeps_other_lines_and_makes_the_file_private() {
        let dir = temp_dir("keep");
        let path = dir.join(".env");
        fs::write(&path, "TG_API_ID=5\nTG_SESSION=old\n# end\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

        write_var(&path, "TG_SESSION", "1abc").unwrap();

        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "TG_API_ID=5\nTG_SESSION=1abc\n# end\n"
        );
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn writing_creates_a_missing_file_with_mode_0600() {
        let dir = temp_dir("create");
        let path = dir.join("prod.env");
        write_var(&path, "TG_SESSION", "1xyz").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "TG_SESSION=1xyz\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_symlinked_env_file_is_updated_where_it_points() {
        let dir = temp_dir("link");
        let real = dir.join("real.env");
        let link = dir.join(".env");
        fs::write(&real, "A=1\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_var(&link, "TG_SESSION", "s").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "A=1\nTG_SESSION=s\n");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_write_into_a_missing_directory_fails_without_leaving_files() {
        let dir = temp_dir("missing");
        let path = dir.join("no-such-dir").join(".env");
        assert!(write_var(&path, "TG_SESSION", "s").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
