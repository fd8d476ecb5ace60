//! Questions to the user: on stderr, answered on the terminal or, for automation, by the next
//! line of stdin.
//!
//! Reading stdin blocks, so one dedicated thread owns it and answers questions in order. It
//! is a plain thread, not `spawn_blocking`, so Ctrl-C can end the process while it is still
//! blocked in `read_line` (a runtime waits for its blocking tasks on shutdown).

use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::exit::LoginError;
use super::terminal::EchoOff;

/// Asks questions and waits for answers without blocking the async flow.
pub struct Prompter {
    interactive: bool,
    questions: mpsc::Sender<Question>,
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
        std::thread::Builder::new()
            .name("login-input".into())
            .spawn(move || {
                for question in inbox {
                    let answer = if question.hidden && interactive {
                        read_hidden_on_terminal(&question.text)
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

/// Runs on the input thread: a secret typed on the terminal, read as one line with echo off
/// (see [`EchoOff`], engaged before the prompt shows). Only `EchoOff` ever touches the
/// terminal here, and it restores the settings it found, so a Ctrl-C (a SIGINT handled by
/// the main thread while this one is still blocked in `read_line`) can never leave echo off.
fn read_hidden_on_terminal(text: &str) -> io::Result<Option<String>> {
    let _echo_off = EchoOff::engage();
    let mut stderr = io::stderr().lock();
    write!(stderr, "{text}")?;
    stderr.flush()?;
    // Never block on stdin holding the stderr lock: the main thread reports a Ctrl-C on it.
    drop(stderr);
    let mut line = String::new();
    let read = io::stdin().lock().read_line(&mut line)?;
    // The Enter key was not echoed either: end the prompt line.
    eprintln!();
    Ok((read > 0).then_some(line))
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
