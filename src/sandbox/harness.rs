//! `Sandbox::start()`: a whole sandbox on random ports, for tests and `serve --sandbox`.
