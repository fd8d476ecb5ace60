//! One-shot injected errors: "fail the next N calls of method M with this rpc_error".

use serde::Deserialize;

/// An error to answer instead of running the method, `times` times.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectedError {
    /// TL method name, e.g. `messages.sendMessage`.
    pub method: String,
    pub code: i32,
    pub message: String,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// The pending injected errors, consumed in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pending: Vec<InjectedError>,
}

impl Faults {
    pub fn add(&mut self, error: InjectedError) {
        if error.times > 0 {
            self.pending.push(error);
        }
    }

    /// Takes one use of the first pending error for `method`, if any.
    pub fn take(&mut self, method: &str) -> Option<(i32, String)> {
        let index = self.pending.iter().position(|e| e.method == method)?;
        let entry = &mut self.pending[index];
        let answer = (entry.code, entry.message.clone());
        entry.times -= 1;
        if entry.times == 0 {
            self.pending.remove(index);
        }
        Some(answer)
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_used_exactly_times_times_and_only_for_its_method() {
        let mut faults = Faults::default();
        faults.add(InjectedError {
            method: "messages.sendMessage".into(),
            code: 420,
            message: "FLOOD_WAIT_1".into(),
            times: 2,
        });
        assert_eq!(faults.take("users.getUsers"), None);
        assert_eq!(
            faults.take("messages.sendMessage"),
            Some((420, "FLOOD_WAIT_1".into()))
        );
        assert_eq!(
            faults.take("messages.sendMessage"),
            Some((420, "FLOOD_WAIT_1".into()))
        );
        assert_eq!(faults.take("messages.sendMessage"), None);
    }
}
