//! The sandbox's integration tests: the real grammers client against a real sandbox on
//! loopback, one binary (modules by topic).

mod actions;
mod client;
mod faults;
mod fidelity;
mod login;
mod media;
mod support;
mod users;
