//! The `baton` binary: parse the command line, start logging, hand over to the library.

fn main() -> std::process::ExitCode {
    baton::cli::main()
}
