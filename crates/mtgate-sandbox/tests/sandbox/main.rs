//! The sandbox's integration tests: the real grammers client against a real sandbox on
//! loopback, one binary (modules by topic).

mod actions;
mod client;
mod duplicates;
mod faults;
mod fidelity;
mod limits;
mod login;
mod support;
mod users;
