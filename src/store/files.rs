//! File-system side of the store: the state directory (0700) and the database files (0600),
//! with modes set explicitly so they do not depend on the process umask. Everything here is
//! blocking `std::fs`, so it runs on Tokio's blocking pool, never on a runtime thread.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Suffixes SQLite adds next to the database in WAL mode.
const SIDE_FILES: [&str; 2] = ["-wal", "-shm"];

/// Creates `dir` (and parents) if needed, restricts it to 0700 and makes sure `db` exists
/// with mode 0600 before SQLite opens it (SQLite gives its WAL and SHM files the database's
/// mode, so they start private too).
pub async fn prepare(dir: PathBuf, db: PathBuf) -> io::Result<()> {
    run_blocking(move || {
        create_private_dir(&dir)?;
        create_private_file(&db)
    })
    .await
}

/// Sets 0600 on the database's WAL and SHM files that exist (belt and braces after open).
pub async fn restrict_side_files(db: PathBuf) -> io::Result<()> {
    run_blocking(move || {
        for suffix in SIDE_FILES {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            match set_mode(Path::new(&name), 0o600) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        Ok(())
    })
    .await
}

/// Runs `work` on the blocking pool.
pub async fn run_blocking<T, F>(work: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    // An existing directory keeps the mode it was made with: restrict it as well.
    set_mode(dir, 0o700)
}

fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    set_mode(path, 0o600)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}
