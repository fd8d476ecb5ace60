//! Command line: one binary, `mtgate`, with the subcommands of the contract.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// HTTP gateway to Telegram as a user account, with a built-in sandbox Telegram.
#[derive(Debug, Parser)]
#[command(
    name = "mtgate",
    version,
    about,
    long_about = None,
    after_help = "Run `mtgate serve --help` for the environment variables."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service with the account from TG_SESSION (the default command).
    #[command(after_help = SERVE_ENV_HELP)]
    Serve(ServeArgs),
    /// Run the sandbox Telegram alone (an MTProto server plus its control API).
    #[command(after_help = SANDBOX_HELP)]
    Sandbox(SandboxArgs),
    /// Log in to an account and print its string session (the session generator).
    #[command(long_about = crate::login::help::LONG_ABOUT)]
    Login(LoginArgs),
}

/// The variables `serve` reads (`.env` is read too; the real environment wins).
const SERVE_ENV_HELP: &str = "\
Environment (also read from .env; the real environment wins):
  TG_API_ID, TG_API_HASH   application credentials from https://my.telegram.org (required)
  TG_SESSION               string session, Telethon (1...) or Pyrogram format (required)
  TG_DC_ADDR               HOST:PORT overriding the session's home-DC address
  MTGATE_LISTEN            HTTP listen address [default: 127.0.0.1:8000]
  MTGATE_API_KEYS          comma-separated full-access keys accepted from callers
                           (required unless MTGATE_KEYS_FILE gives keys)
  MTGATE_ACCOUNTS_FILE     TOML file of extra accounts: [accounts.NAME] session, dc_addr?,
                           default_peer?; served under /v1/accounts/NAME/...
  MTGATE_KEYS_FILE         TOML file of scoped keys: [keys.NAME] key (or key_sha256),
                           accounts = [...] or [\"*\"], chats?, read_only?
  MTGATE_DEFAULT_PEER      peer used when a request names none
  MTGATE_STATE_DIR         directory of the store (mtgate.db: peers, update state,
                           idempotency answers; 0700/0600) [default: ./data]
  MTGATE_DATABASE_URL      postgres://user:password@host:port/db: the store on PostgreSQL
                           (for replicas) instead of SQLite under MTGATE_STATE_DIR
  MTGATE_REPLICA_ID        with a database URL: this replica's unique name
                           [default: host name + random suffix]
  MTGATE_REPLICA_ADDRESS   with a database URL: base URL other replicas forward to,
                           http:// or https:// [default: http:// + MTGATE_LISTEN]
  MTGATE_LEASE_TTL         with a database URL: account lease lifetime; a dead replica's
                           accounts move within about this long [default: 15s]
  MTGATE_FLOOD_SLEEP_MAX   FLOOD_WAIT seconds slept through; longer ones give 429 [default: 10]
  MTGATE_LOG_FORMAT        json (bunyan) or pretty [default: pretty when stderr is a
                           terminal, json otherwise]
  RUST_LOG                 tracing filter [default: info]
HTTP edge (durations: 500ms, 10s, 2m or bare seconds; see docs/edge.md):
  MTGATE_HTTP_HEADER_TIMEOUT   a started request head must be complete within [default: 10s]
  MTGATE_HTTP_BODY_TIMEOUT     a request body must be complete within [default: 15s]
  MTGATE_HTTP_IDLE_TIMEOUT     idle keep-alive connections are closed after [default: 60s]
  MTGATE_HTTP_MAX_CONNECTIONS  open connections; past it 503 OVERLOADED [default: 256]
  MTGATE_HTTP_MAX_IN_FLIGHT    /v1 and /telegram requests at once; past it 503 [default: 128]
  MTGATE_HEALTH_STALL_WINDOW   calls waiting with no success this long: probe, maybe
                               degrade /health [default: 30s]
  MTGATE_RUNTIME_THREADS       threads serving requests: 1 (no cross-thread hand-offs), N,
                               or auto: 1 on 2 cores or fewer, else one per core [default: auto]
Outbox (POST /v1/outbox; see docs/outbox.md):
  MTGATE_OUTBOX_RATES          pacing per chat, group, account (N/s, N/m, N/h, or off)
                               [default: chat=1/s,group=20/m,account=30/s]
  MTGATE_OUTBOX_RETRY_BUDGET   transient failures before a job is dead [default: 8]
  MTGATE_OUTBOX_RETRY_BASE     first retry delay, doubling with jitter [default: 2s]
  MTGATE_OUTBOX_RETRY_MAX      longest retry delay [default: 5m]
Events and webhooks (see docs/events.md):
  MTGATE_EVENTS_RETENTION_COUNT     events kept per account [default: 100000]
  MTGATE_EVENTS_RETENTION_AGE       events older than this are deleted [default: 7d]
  MTGATE_EVENTS_HEARTBEAT           SSE comment on an idle stream this often [default: 15s]
  MTGATE_EVENTS_COMMIT_WINDOW       group commit: while busy, the log commits what arrives
                                    within this together (0: at once; at most 1s) [default: 10ms]
  MTGATE_WEBHOOKS_FILE              TOML file of webhooks: [webhooks.NAME] url, secret?,
                                    account?, events?, chats?
  MTGATE_WEBHOOK_TIMEOUT            a delivery unanswered this long failed [default: 10s]
  MTGATE_WEBHOOK_MAX_ATTEMPTS       attempts before an event is a failure [default: 8]
  MTGATE_WEBHOOK_RETRY_BASE         first retry delay, doubled each time [default: 500ms]
  MTGATE_WEBHOOK_BREAKER_THRESHOLD  failures in a row opening the breaker [default: 5]
  MTGATE_WEBHOOK_BREAKER_COOLDOWN   open breaker waits this before a probe [default: 30s]
Media (see docs/media.md):
  MTGATE_MEDIA_MAX_BYTES       largest file an upload may carry; past it 413 PAYLOAD_TOO_LARGE
                               [default: 2147483648]
  MTGATE_MEDIA_BODY_TIMEOUT    a multipart upload's body must be complete within [default: 30m]
  MTGATE_MEDIA_URL_SCHEMES     schemes a JSON send's media.url may be fetched with (http,
                               https or http,https), or off [default: off]
Outgoing HTTPS (media.url fetches, webhook deliveries, https:// replica addresses):
  MTGATE_TLS_CA_FILE           PEM file of extra CA certificates to trust (internal CAs),
                               besides the built-in Mozilla roots
With --sandbox, TG_* and MTGATE_API_KEYS are ignored: the sandbox provides them.
Every bad or missing variable is reported at once, one line each, then exit code 2.";

/// What `sandbox` prints and serves.
const SANDBOX_HELP: &str = "\
Prints one JSON line on stdout: mtproto_addr, control_url, session (logged in),
unauthorized_session (for login flows), other_sessions (logged in as each other user, by
@username), phone, login_code, password and world (the starting peers). Control API (JSON over HTTP at control_url): GET /requests, GET /chats/{peer}/messages,
GET /connections, POST /faults, POST /incoming, POST /incoming/edit, POST /incoming/delete,
POST /incoming/burst, POST /reset, POST /login-tokens/accept, GET /files/{sha256}, GET /info,
POST /limits (sending rates and slow mode: FLOOD_WAIT_N / SLOWMODE_WAIT_N beyond them).
Runs until SIGTERM or SIGINT.";

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Start an in-process sandbox Telegram, log in to it and serve against it.
    #[arg(long)]
    pub sandbox: bool,
    /// HTTP listen address (IP:PORT), overriding MTGATE_LISTEN [default: 127.0.0.1:8000].
    /// With --sandbox and no address chosen, a busy default port falls back to a free one.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address the MTProto server listens on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Address the control API (HTTP) listens on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub control: SocketAddr,
    /// Enforce Telegram's sending limits, e.g. `chat=1/s,group=20/m,account=30/s`: beyond
    /// them sends get FLOOD_WAIT_N (also `POST /limits` on the control API) [default: off].
    #[arg(long, value_name = "RATES", value_parser = parse_limits)]
    pub limits: Option<String>,
}

/// Checks `--limits` as the sandbox will read it.
fn parse_limits(raw: &str) -> Result<String, String> {
    mtgate_sandbox::world::limits::Rates::parse(raw).map(|_| raw.to_owned())
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
        Command::Sandbox(args) => {
            mtgate_sandbox::command::run(args.listen, args.control, args.limits.as_deref())
        }
        Command::Login(args) => crate::login::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn serve_help_names_every_contract_variable() {
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("serve")
            .expect("serve exists")
            .render_help()
            .to_string();
        for var in [
            "TG_API_ID",
            "TG_API_HASH",
            "TG_SESSION",
            "TG_DC_ADDR",
            "MTGATE_LISTEN",
            "MTGATE_API_KEYS",
            "MTGATE_ACCOUNTS_FILE",
            "MTGATE_KEYS_FILE",
            "MTGATE_DEFAULT_PEER",
            "MTGATE_STATE_DIR",
            "MTGATE_DATABASE_URL",
            "MTGATE_REPLICA_ID",
            "MTGATE_REPLICA_ADDRESS",
            "MTGATE_LEASE_TTL",
            "MTGATE_FLOOD_SLEEP_MAX",
            "MTGATE_LOG_FORMAT",
            "RUST_LOG",
            "MTGATE_TLS_CA_FILE",
        ] {
            assert!(help.contains(var), "{var} missing from:\n{help}");
        }
        let documented = crate::config::edge::VARIABLES
            .iter()
            .chain(crate::config::outbox::VARIABLES)
            .chain(crate::config::events::VARIABLES)
            .chain(crate::config::media::VARIABLES)
            .chain(crate::config::runtime::VARIABLES);
        for (var, default, _) in documented {
            let line = help
                .lines()
                .skip_while(|l| !l.contains(var))
                .take(2)
                .collect::<String>();
            assert!(
                line.contains(&format!("[default: {default}]")),
                "{var} or its default missing from:\n{help}"
            );
        }
    }

    #[test]
    fn serve_takes_a_listen_address() {
        let cli = Cli::try_parse_from(["mtgate", "serve", "--sandbox", "--listen", "127.0.0.1:0"])
            .unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve expected");
        };
        assert_eq!(args.listen, Some("127.0.0.1:0".parse().unwrap()));
        assert!(Cli::try_parse_from(["mtgate", "serve", "--listen", "8000"]).is_err());
    }

    #[test]
    fn no_command_means_serve() {
        let cli = Cli::try_parse_from(["mtgate"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["mtgate", "serve", "--sandbox"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Serve(ServeArgs {
                sandbox: true,
                listen: None
            }))
        ));
    }
}
