//! Puts the terminal back as it was if the login is interrupted while echo is off.
//!
//! rpassword restores the terminal itself when it returns, but a Ctrl-C (or `kill -INT`)
//! ends the process from another thread, possibly before that happens; a shell left without
//! echo is a nasty surprise, so the settings are saved at start and written back on the way
//! out.

use std::io::IsTerminal;

use nix::sys::termios::{SetArg, Termios, tcgetattr, tcsetattr};

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
