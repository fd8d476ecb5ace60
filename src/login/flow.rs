//! The login from start to session: configuration first (so mistakes fail fast, before any
//! code is sent), then the connection, then the code or QR flow, then the string.

use std::path::PathBuf;

use super::connect::{Connection, Target};
use super::credentials::{self, ApiCredentials, Sources};
use super::exit::LoginError;
use super::output::LoggedIn;
use super::password::read_password_file;
use super::prompt::Prompter;
use super::{phone, qr};
use crate::cli::LoginArgs;

/// A finished login: the Telethon string and who it belongs to.
pub struct Outcome {
    pub session: String,
    pub who: LoggedIn,
}

/// Everything checked before connecting.
struct Plan {
    target: Target,
    credentials: ApiCredentials,
    password_from_file: Option<String>,
}

/// Runs the whole login. Prints prompts and messages on stderr only.
pub async fn run(args: &LoginArgs, prompter: &Prompter) -> Result<Outcome, LoginError> {
    let plan = plan(args, prompter).await?;
    let mut conn = Connection::open(&plan.target, plan.credentials.api_id);
    let result = log_in(&mut conn, args, prompter, &plan).await;
    let session = result.and_then(|user| Ok((user, conn.string_session()?)));
    conn.close().await;
    let (user, session) = session?;
    Ok(Outcome {
        session: session.to_telethon_string(),
        who: LoggedIn::from_raw(&user),
    })
}

async fn plan(args: &LoginArgs, prompter: &Prompter) -> Result<Plan, LoginError> {
    let target = Target::from_args(args.server, args.from_session.as_deref())?;
    let password_from_file = args
        .password_file
        .as_deref()
        .map(read_password_file)
        .transpose()?;
    if let Some(path) = &args.write_env {
        check_env_dir(path)?;
    }
    let sources = Sources::gather(args.api_id, args.api_hash.clone())?;
    let credentials = credentials::resolve(&sources, prompter).await?;
    Ok(Plan {
        target,
        credentials,
        password_from_file,
    })
}

async fn log_in(
    conn: &mut Connection,
    args: &LoginArgs,
    prompter: &Prompter,
    plan: &Plan,
) -> Result<grammers_client::tl::enums::User, LoginError> {
    if conn.call(conn.client.is_authorized()).await?? {
        prompter.say("This session is already logged in; printing it as it is.");
        return Ok(conn.call(conn.client.get_me()).await??.raw);
    }
    let password = plan.password_from_file.as_deref();
    if args.qr {
        qr::login_with_qr(conn, prompter, &plan.credentials, password).await
    } else {
        phone::login_with_code(
            conn,
            prompter,
            &plan.credentials,
            args.phone.as_deref(),
            password,
        )
        .await
    }
}

/// `--write-env` into a directory that does not exist would fail only after the login; say so
/// before a code is spent.
fn check_env_dir(path: &std::path::Path) -> Result<(), LoginError> {
    let dir: PathBuf = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(LoginError::Usage(format!(
            "--write-env: the directory {} does not exist",
            dir.display()
        )))
    }
}
