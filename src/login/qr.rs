//! `--qr`: login by scanning a QR code with a Telegram app that is already logged in
//! (Settings → Devices → Link Desktop Device). Phone codes are often slow or blocked for
//! servers; this needs none.
//!
//! `auth.exportLoginToken` gives a short-lived token, shown as `tg://login?token=…`. When the
//! app accepts it, Telegram pushes `updateLoginToken`, and exporting again answers with the
//! authorization (or, on another DC, `loginTokenMigrateTo`, which is imported there). The
//! code is redrawn when the token expires; that re-export also catches an acceptance whose
//! update was lost.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use grammers_client::session::updates::UpdatesLike;
use grammers_client::{InvocationError, tl};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

use super::connect::Connection;
use super::credentials::ApiCredentials;
use super::exit::LoginError;
use super::password::{complete_with_password, fresh_token};
use super::prompt::Prompter;

/// Bounds on the wait for one token: the server's `expires` is a wall-clock time, and a
/// skewed local clock must neither spin nor wait forever.
const MIN_TOKEN_WAIT: Duration = Duration::from_secs(5);
const MAX_TOKEN_WAIT: Duration = Duration::from_secs(120);

/// Runs the QR flow; returns the logged-in user.
pub async fn login_with_qr(
    conn: &mut Connection,
    prompter: &Prompter,
    credentials: &ApiCredentials,
    password_file: Option<&str>,
) -> Result<tl::enums::User, LoginError> {
    let export = tl::functions::auth::ExportLoginToken {
        api_id: credentials.api_id,
        api_hash: credentials.api_hash.clone(),
        except_ids: Vec::new(),
    };
    let mut drawn = Drawn::default();
    loop {
        let answer = conn.call(conn.client.invoke(&export)).await?;
        let token = match settle(conn, answer).await? {
            Settled::Authorized(auth) => return authorized(*auth),
            Settled::PasswordNeeded => {
                let token = fresh_token(conn).await?;
                return complete_with_password(conn, prompter, token, password_file).await;
            }
            Settled::Pending(token) => token,
        };
        drawn.replace(&render(&login_url(&token.token)));
        let wait = token_wait(i64::from(token.expires), chrono::Utc::now().timestamp());
        wait_for_acceptance(&mut conn.updates, wait).await;
    }
}

/// A token answer reduced to what the flow does next.
enum Settled {
    Authorized(Box<tl::enums::auth::Authorization>),
    PasswordNeeded,
    Pending(tl::types::auth::LoginToken),
}

/// Interprets an export (or import) answer, following one DC migration.
async fn settle(
    conn: &Connection,
    answer: Result<tl::enums::auth::LoginToken, InvocationError>,
) -> Result<Settled, LoginError> {
    use tl::enums::auth::LoginToken as Answer;
    match answer {
        Ok(Answer::Token(token)) => Ok(Settled::Pending(token)),
        Ok(Answer::Success(success)) => Ok(Settled::Authorized(Box::new(success.authorization))),
        Ok(Answer::MigrateTo(migrate)) => {
            conn.migrate_home(migrate.dc_id).await?;
            let import = tl::functions::auth::ImportLoginToken {
                token: migrate.token,
            };
            match conn.call(conn.client.invoke(&import)).await? {
                Ok(Answer::Token(token)) => Ok(Settled::Pending(token)),
                Ok(Answer::Success(success)) => {
                    Ok(Settled::Authorized(Box::new(success.authorization)))
                }
                Ok(Answer::MigrateTo(_)) => Err(LoginError::Refused(
                    "Telegram asked to move to another DC twice".into(),
                )),
                Err(e) if e.is("SESSION_PASSWORD_NEEDED") => Ok(Settled::PasswordNeeded),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) if e.is("SESSION_PASSWORD_NEEDED") => Ok(Settled::PasswordNeeded),
        Err(e) => Err(e.into()),
    }
}

fn authorized(auth: tl::enums::auth::Authorization) -> Result<tl::enums::User, LoginError> {
    match auth {
        tl::enums::auth::Authorization::Authorization(auth) => Ok(auth.user),
        tl::enums::auth::Authorization::SignUpRequired(_) => Err(LoginError::Refused(
            "Telegram answered the QR login with sign-up required".into(),
        )),
    }
}

/// Returns when `updateLoginToken` arrives, when the token expires, or when the updates
/// channel closes (the connection dropped: the next export reconnects).
async fn wait_for_acceptance(
    updates: &mut tokio::sync::mpsc::Receiver<UpdatesLike>,
    wait: Duration,
) {
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            update = updates.recv() => match update {
                Some(update) if is_login_token_update(&update) => return,
                Some(_) => {}
                None => {
                    // Nothing more will arrive here; wait out the token instead.
                    (&mut deadline).await;
                    return;
                }
            },
        }
    }
}

/// Whether a pushed batch carries `updateLoginToken`.
pub fn is_login_token_update(update: &UpdatesLike) -> bool {
    use tl::enums::{Update, Updates};
    let is_token = |u: &Update| matches!(u, Update::LoginToken);
    match update {
        UpdatesLike::Updates(Updates::UpdateShort(short)) => is_token(&short.update),
        UpdatesLike::Updates(Updates::Updates(batch)) => batch.updates.iter().any(is_token),
        UpdatesLike::Updates(Updates::Combined(batch)) => batch.updates.iter().any(is_token),
        _ => false,
    }
}

/// How long to wait for one token, from its `expires` and the local clock (both Unix seconds).
pub fn token_wait(expires: i64, now: i64) -> Duration {
    let seconds = u64::try_from(expires.saturating_sub(now)).unwrap_or(0);
    Duration::from_secs(seconds).clamp(MIN_TOKEN_WAIT, MAX_TOKEN_WAIT)
}

/// The link a Telegram app scans: `tg://login?token=` + urlsafe base64 without padding.
pub fn login_url(token: &[u8]) -> String {
    format!("tg://login?token={}", URL_SAFE_NO_PAD.encode(token))
}

/// The QR code of `url` in Unicode half blocks, two modules per character cell.
///
/// Drawn for the usual light-on-dark terminal: a block (lit) is a *light* module, a space
/// (terminal background) a dark one, with the quiet zone lit, so phones read it the right way
/// round.
pub fn render(url: &str) -> String {
    let code = QrCode::new(url.as_bytes()).expect("a login URL always fits in a QR code");
    code.render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build()
}

/// The QR block currently on the terminal, so a refresh can draw over it.
#[derive(Default)]
struct Drawn {
    lines: usize,
}

impl Drawn {
    fn replace(&mut self, qr: &str) {
        let mut stderr = std::io::stderr().lock();
        if self.lines > 0 && std::io::stderr().is_terminal() {
            // Cursor up over the old block and clear to the end of the screen.
            let _ = write!(stderr, "\x1b[{}A\x1b[J", self.lines);
        }
        let text = format!(
            "Scan this with a Telegram app that is logged in: Settings → Devices → Link Desktop \
             Device.\n{qr}\nWaiting for the scan (the code refreshes when it expires; Ctrl-C to \
             stop)…\n"
        );
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
        self.lines = text.lines().count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_url_is_unpadded_urlsafe_base64() {
        assert_eq!(login_url(&[0xfb, 0xff, 0x01]), "tg://login?token=-_8B");
        assert_eq!(login_url(b"ab"), "tg://login?token=YWI");
    }

    #[test]
    fn the_rendered_code_lights_the_light_modules() {
        let url = login_url(&[7u8; 32]);
        let text = render(&url);
        let code = QrCode::new(url.as_bytes()).unwrap();
        let width = code.width();
        let colors = code.to_colors();
        let lit = |x: usize, y: usize| {
            // Inside the 4-module quiet zone, a light module is lit; the zone itself is lit.
            if x < 4 || y < 4 || x >= width + 4 || y >= width + 4 {
                true
            } else {
                colors[(y - 4) * width + (x - 4)] == qrcode::Color::Light
            }
        };
        let rows: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        assert_eq!(rows.len(), (width + 8).div_ceil(2));
        for (row, cells) in rows.iter().enumerate() {
            assert_eq!(cells.len(), width + 8);
            for (x, cell) in cells.iter().enumerate() {
                let top = lit(x, 2 * row);
                let bottom = 2 * row + 1 < width + 8 && lit(x, 2 * row + 1);
                let expected = match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                };
                assert_eq!(*cell, expected, "cell ({x}, {row})");
            }
        }
    }

    #[test]
    fn the_wait_follows_the_expiry_within_bounds() {
        assert_eq!(token_wait(1_030, 1_000), Duration::from_secs(30));
        assert_eq!(token_wait(1_000, 1_100), MIN_TOKEN_WAIT);
        assert_eq!(token_wait(100_000, 0), MAX_TOKEN_WAIT);
    }

    #[test]
    fn only_a_login_token_update_counts_as_acceptance() {
        use tl::enums::{Update, Updates};
        let short = |update| {
            UpdatesLike::Updates(Updates::UpdateShort(tl::types::UpdateShort {
                update,
                date: 0,
            }))
        };
        assert!(is_login_token_update(&short(Update::LoginToken)));
        assert!(!is_login_token_update(&short(Update::Config)));
        let batch = UpdatesLike::Updates(Updates::Updates(tl::types::Updates {
            updates: vec![Update::Config, Update::LoginToken],
            users: vec![],
            chats: vec![],
            date: 0,
            seq: 0,
        }));
        assert!(is_login_token_update(&batch));
        assert!(!is_login_token_update(&UpdatesLike::ConnectionClosed));
    }
}
