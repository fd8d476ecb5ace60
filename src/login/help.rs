//! The long `mtgate login --help` text: where credentials come from, what is printed, how
//! automation answers, and the exit codes.

/// Shown above the flags by `mtgate login --help`.
pub const LONG_ABOUT: &str = "\
Log in to a Telegram account and print its string session (Telethon StringSession format), \
the TG_SESSION that `mtgate serve` runs with.

API ID and hash: create them once at https://my.telegram.org → \"API development tools\" \
(log in with your phone number; any app title works). They identify the application, not the \
account. Give them with --api-id/--api-hash, as TG_API_ID/TG_API_HASH in the environment or in \
.env (the environment wins), or type them when asked.

Output: stdout gets exactly two lines, the session string and `TG_SESSION=<string>`; prompts \
and messages go to stderr, so `mtgate login > session.txt` works. --write-env PATH also sets \
TG_SESSION in a .env file (other lines kept, mode 0600). Keep the session secret: it is the \
account.";

/// Shown below the flags by `mtgate login --help`.
pub const AFTER_HELP: &str = "\
Without a terminal (automation), API ID and hash must come from flags, environment or .env; \
the phone (unless --phone), the login code and then the 2FA password (unless --password-file) \
are read as lines from stdin, e.g.
  echo 12345 | mtgate login --phone +15551234567 --password-file ./2fa.txt

QR login (--qr): scan the code with a Telegram app that is logged in (Settings → Devices → \
Link Desktop Device); no phone code needed.

Test servers: --server HOST:PORT --from-session STRING logs in on an auth key that already \
exists. The sandbox (`mtgate sandbox`) cannot create auth keys, so against it --from-session \
is required: pass its unauthorized_session, with its mtproto_addr as --server, e.g.
  mtgate sandbox > sandbox.json &     # keeps running; its JSON line lands in the file
  mtgate login --server \"$(jq -r .mtproto_addr sandbox.json)\" \\
    --from-session \"$(jq -r .unauthorized_session sandbox.json)\" \\
    --api-id 1 --api-hash 0123456789abcdef0123456789abcdef
Without it the login stops at once (exit 2) saying so.

Exit codes:
  0    logged in; the session was printed
  1    local failure after login (e.g. --write-env could not write) or internal error
  2    usage/configuration: missing API ID/hash, bad --from-session, unreadable
       --password-file, input ended before an answer, API ID or phone rejected,
       a sandbox server without --from-session
  3    wrong (or expired) login code on every try
  4    wrong 2FA password on every try (or the one in --password-file)
  5    server unreachable, connection lost or timed out
  6    Telegram refused the login otherwise (sign-up required, banned, flood wait)
  130  interrupted (Ctrl-C); nothing printed on stdout";
