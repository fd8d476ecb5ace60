//! Puts the terminal back as it was if the login is interrupted while echo is off.
//!
//! A Ctrl-C (or `kill -INT`) ends the process from the main thread while the input thread may
//! still be blocked reading a hidden answer; a shell left without echo is a nasty surprise, so
//! the settings are saved at start and written back on the way out.

use std::io::IsTerminal;

use nix::sys::termios::{LocalFlags, SetArg, Termios, tcgetattr, tcsetattr};

/// The terminal settings of stdin at start, when stdin is a terminal.
pub struct TerminalState(Option<Termios>);

impl TerminalState {
    /// Saves the settings; does nothing when stdin is not a terminal.
    pub fn save() -> Self {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Self(None);
        }
        Self(tcgetattr(&stdin).ok())
    }

    /// Writes the saved settings back (harmless when nothing changed them).
    pub fn restore(&self) {
        if let Some(saved) = &self.0 {
            let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
        }
    }
}

/// Echo off on the stdin terminal for as long as it lives.
///
/// Turned off *before* the password prompt is printed, so input typed (or pasted, or sent by
/// a test) right after the prompt appeared is never echoed.
pub struct EchoOff(Option<Termios>);

impl EchoOff {
    /// Turns echo off; does nothing when stdin is not a terminal.
    pub fn engage() -> Self {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Self(None);
        }
        let Ok(saved) = tcgetattr(&stdin) else {
            return Self(None);
        };
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        if tcsetattr(&stdin, SetArg::TCSANOW, &quiet).is_err() {
            return Self(None);
        }
        Self(Some(saved))
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
        }
    }
}
