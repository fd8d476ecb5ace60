//! `mtgate`: see `lib.rs` for the architecture; the command line lives in `cli.rs`.

fn main() -> std::process::ExitCode {
    mtgate::cli::main()
}
