//! Questions to the user: on stderr, answered on the terminal or, for automation, by the next
//! line of stdin.
//!
//! Reading stdin blocks, so one dedicated thread owns it and answers questions in order. It
//! is a plain thread, not `spawn_blocking`, so Ctrl-C can end the process while it is still
//! blocked in `read_line` (a runtime waits for its blocking tasks on shutdown).

use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::exit::LoginError;
use super::terminal::EchoOff;

/// Asks questions and waits for answers without blocking the async flow.
pub struct Prompter {
    interactive: bool,
    questions: mpsc::Sender<Question>,
    /// True while a hidden read has the terminal's settings changed.
    terminal_changed: Arc<AtomicBool>,
}

struct Question {
    text: String,
    hidden: bool,
    answer: oneshot::Sender<io::Result<Option<String>>>,
}

impl Prompter {
    /// Starts the input thread. Interactive means stdin is a terminal: questions may then be
    /// retried and hidden input turns echo off.
    pub fn start() -> Self {
        let interactive = io::stdin().is_terminal();
        let (questions, inbox) = mpsc::channel::<Question>();
        let terminal_changed = Arc::new(AtomicBool::new(false));
        let changed = Arc::clone(&terminal_changed);
        std::thread::Builder::new()
            .name("login-input".into())
            .spawn(move || {
                for question in inbox {
                    let answer = if question.hidden && interactive {
                        changed.store(true, Ordering::SeqCst);
                        let answer = read_hidden_on_terminal(&question.text);
                        changed.store(false, Ordering::SeqCst);
                        answer
                    } else {
                        read_line(&question.text, interactive)
                    };
                    if question.answer.send(answer).is_err() {
                        break;
                    }
                }
            })
            .expect("spawning the input thread");
        Self {
            interactive,
            questions,
            terminal_changed,
        }
    }

    /// After Ctrl-C during a hidden prompt, rpassword and [`EchoOff`] put the terminal back
    /// on the input thread; wait (briefly, bounded) for them so the process does not exit
    /// between their two restores and leave echo off.
    pub fn wait_for_terminal_restore(&self, limit: Duration) {
        let until = Instant::now() + limit;
        while self.terminal_changed.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether a person is typing the answers (stdin is a terminal).
    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// Asks a question whose answer may be shown while typed; `None` when input has ended.
    /// The answer is trimmed.
    pub async fn ask(&self, text: &str) -> Result<Option<String>, LoginError> {
        Ok(self
            .send(text, false)
            .await?
            .map(|line| line.trim().to_owned()))
    }

    /// Asks for a secret: on a terminal the echo is off while it is typed. Only the line
    /// ending is removed (passwords may start or end with spaces).
    pub async fn ask_hidden(&self, text: &str) -> Result<Option<String>, LoginError> {
        Ok(self
            .send(text, true)
            .await?
            .map(|line| strip_line_ending(&line).to_owned()))
    }

    /// Prints a message for the user on stderr (never on stdout, which carries the session).
    pub fn say(&self, message: &str) {
        eprintln!("{message}");
    }

    async fn send(&self, text: &str, hidden: bool) -> Result<Option<String>, LoginError> {
        let (answer, answered) = oneshot::channel();
        self.questions
            .send(Question {
                text: text.to_owned(),
                hidden,
                answer,
            })
            .map_err(|_| LoginError::Local("the input thread stopped".into()))?;
        let answer = answered
            .await
            .map_err(|_| LoginError::Local("the input thread stopped".into()))?;
        match answer {
            Ok(line) => Ok(line),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(LoginError::Interrupted),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(LoginError::Local(format!("reading input failed: {e}"))),
        }
    }
}

/// Runs on the input thread: a secret typed on the terminal. Echo goes off before the
/// prompt shows (see [`EchoOff`]); rpassword then reads the line raw and restores the
/// terminal. A Ctrl-C it reads comes back as `Interrupted` (and a SIGINT), ending the login.
fn read_hidden_on_terminal(text: &str) -> io::Result<Option<String>> {
    let _echo_off = EchoOff::engage();
    let mut stderr = io::stderr().lock();
    write!(stderr, "{text}")?;
    stderr.flush()?;
    drop(stderr);
    rpassword::read_password().map(Some)
}

/// Runs on the input thread: prints the question on stderr and reads one line of stdin
/// (also for secrets when stdin is a pipe: there is nothing to echo).
fn read_line(text: &str, interactive: bool) -> io::Result<Option<String>> {
    let mut stderr = io::stderr().lock();
    write!(stderr, "{text}")?;
    stderr.flush()?;
    drop(stderr);
    let mut line = String::new();
    let read = io::stdin().lock().read_line(&mut line)?;
    if !interactive {
        // The answer is not echoed when it comes from a pipe: end the prompt line.
        eprintln!();
    }
    Ok((read > 0).then_some(line))
}

/// Removes one trailing `\n` or `\r\n`, nothing else.
pub fn strip_line_ending(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_line_ending_is_stripped_from_a_secret() {
        assert_eq!(strip_line_ending(" pass word \r\n"), " pass word ");
        assert_eq!(strip_line_ending("secret\n"), "secret");
        assert_eq!(strip_line_ending("secret"), "secret");
        assert_eq!(strip_line_ending("two\n\n"), "two\n");
    }
}
