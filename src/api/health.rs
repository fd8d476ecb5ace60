//! Health endpoints, answered from the manager's state without waiting on Telegram.
