//! The HTTP control API of the sandbox.
