//! Command line: one binary, `mtgate`, with the subcommands of the contract.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// HTTP gateway to Telegram as a user account, with a built-in sandbox Telegram.
#[derive(Debug, Parser)]
#[command(name = "mtgate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service with the account from TG_SESSION (the default command).
    Serve(ServeArgs),
    /// Run the sandbox Telegram alone (an MTProto server plus its control API).
    Sandbox(SandboxArgs),
    /// Log in to an account and print its string session (the session generator).
    #[command(long_about = crate::login::help::LONG_ABOUT)]
    Login(LoginArgs),
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Start an in-process sandbox Telegram, log in to it and serve against it.
    #[arg(long)]
    pub sandbox: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address the MTProto server listens on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Address the control API (HTTP) listens on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub control: SocketAddr,
}

#[derive(Debug, Args, Default)]
#[command(after_long_help = crate::login::help::AFTER_HELP)]
pub struct LoginArgs {
    /// Application API ID from https://my.telegram.org → API development tools (or TG_API_ID).
    #[arg(long)]
    pub api_id: Option<i32>,
    /// Application API hash (or TG_API_HASH). Prefer the variable: flags show up in `ps`.
    #[arg(long)]
    pub api_hash: Option<String>,
    /// Phone number in international format, e.g. +15551234567.
    #[arg(long)]
    pub phone: Option<String>,
    /// Log in by scanning a QR code with a logged-in Telegram app instead of a phone code.
    #[arg(long)]
    pub qr: bool,
    /// Read the 2FA password from this file (first line) instead of prompting. There is no
    /// password flag on purpose: arguments are visible to every user in `ps`.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Connect to this MTProto server (IP:PORT) instead of Telegram, e.g. a sandbox.
    #[arg(long)]
    pub server: Option<SocketAddr>,
    /// Log in on the auth key of this string session (e.g. the sandbox's unauthorized_session);
    /// --server replaces its address. Without it a new key is created.
    #[arg(long)]
    pub from_session: Option<String>,
    /// Write TG_SESSION into this .env file (other lines kept, mode 0600).
    #[arg(long)]
    pub write_env: Option<PathBuf>,
}

/// Parses the command line and runs the chosen command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => crate::app::serve_command(args),
        Command::Sandbox(args) => crate::sandbox::command::run(args),
        Command::Login(args) => crate::login::run(args),
    }
}
