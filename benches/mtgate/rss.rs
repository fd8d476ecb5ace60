//! Memory of a child process from `/proc/PID/status`: `VmRSS` (resident now) and `VmHWM`
//! (the peak resident size since the process started, kept by the kernel, so no sampling
//! can miss it).

use serde::Serialize;

/// Resident memory of one process at one moment, in kibibytes as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Memory {
    pub rss_kb: u64,
    pub hwm_kb: u64,
}

/// Reads the memory of `pid`; an error if the process is gone or the kernel has no such
/// fields (not Linux).
pub fn read(pid: u32) -> std::io::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |key| {
        status_kb(&status, key)
            .ok_or_else(|| std::io::Error::other(format!("/proc/{pid}/status has no {key} line")))
    };
    Ok(Memory {
        rss_kb: field("VmRSS")?,
        hwm_kb: field("VmHWM")?,
    })
}

/// The value of a `Key:   1234 kB` line of `/proc/PID/status`.
pub fn status_kb(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let mut words = rest.split_whitespace();
        let value = words.next()?.parse().ok()?;
        (words.next() == Some("kB")).then_some(value)
    })
}
