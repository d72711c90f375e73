//! PDF text, read in a child process.
//!
//! `pdf-extract` (over `lopdf`) parses objects recursively and has no depth limit: a 4 KB PDF
//! whose catalog nests 2,000 arrays overflows any thread's stack, and a stack overflow aborts
//! the process it happens in. So Baton never reads a PDF in the server process. It re-executes
//! its own binary with the hidden subcommand [`SUBCOMMAND`] ([`child_main`]), writes the PDF
//! to the child's stdin and reads the text from its stdout. The child runs under resource
//! limits (address space [`CHILD_MEMORY`], CPU time, no core dump) and a wall-clock
//! [`TIMEOUT`]; whatever happens to it (a crash, an abort, a kill) is one document's error.
//!
//! Which binary: `cli::main` registers its own executable with [`set_helper`]. Code that runs
//! the library in-process (the integration tests) registers the built `baton` binary
//! (`env!("CARGO_BIN_EXE_baton")`). Without a helper, PDFs are refused with an error.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The hidden subcommand (`baton __pdf-text`), handled before the normal command line.
pub const SUBCOMMAND: &str = "__pdf-text";
/// The longest a PDF may take to read.
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// Address-space limit of the child (the binary with its embedded model is mapped too).
pub const CHILD_MEMORY: u64 = 1024 * 1024 * 1024;
/// CPU seconds the child may use.
const CHILD_CPU_SECS: u64 = 60;
/// Stack of the child's reader thread: generous, since the child may crash without harm.
const CHILD_STACK: usize = 64 * 1024 * 1024;
/// Largest PDF the child accepts, and largest text the parent accepts back.
const MAX_INPUT: u64 = 64 * 1024 * 1024;
const MAX_OUTPUT: u64 = 32 * 1024 * 1024;
/// What the child writes before its answer (anything the library prints comes before it).
const TEXT_MARK: &[u8] = b"\n--baton-pdf-text--\n";
const ERROR_MARK: &[u8] = b"\n--baton-pdf-error--\n";

static HELPER: OnceLock<PathBuf> = OnceLock::new();

/// Registers the binary that reads PDFs (the first registration wins).
pub fn set_helper(path: impl Into<PathBuf>) {
    let _ = HELPER.set(path.into());
}

/// Extracts the text of a PDF in a child process. Blocking: call it from a parser thread.
pub fn extract_text(bytes: &[u8]) -> Result<String, String> {
    let Some(exe) = HELPER.get() else {
        return Err("PDF files cannot be read here (no PDF reader process is configured)".to_owned());
    };
    let mut child = Command::new(exe)
        .arg(SUBCOMMAND)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("the PDF reader could not start: {e}"))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("the PDF reader could not start".to_owned());
    };
    let started = Instant::now();
    let (status, out) = std::thread::scope(|s| {
        // A child that dies early makes this write fail; its exit status says why.
        s.spawn(move || {
            let _ = stdin.write_all(bytes);
        });
        let reader = s.spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.take(MAX_OUTPUT).read_to_end(&mut out);
            out
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() < TIMEOUT => std::thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        (status, reader.join().unwrap_or_default())
    });
    let Some(status) = status else {
        return Err(format!("the PDF took longer than {} s to read", TIMEOUT.as_secs()));
    };
    if let Some(text) = after_mark(&out, TEXT_MARK) {
        if status.success() {
            return Ok(String::from_utf8_lossy(text).into_owned());
        }
    }
    if let Some(message) = after_mark(&out, ERROR_MARK) {
        return Err(String::from_utf8_lossy(message).trim().to_owned());
    }
    tracing::warn!(%status, "the PDF reader process failed");
    Err("the PDF could not be read (the file is malformed or nested too deeply)".to_owned())
}

fn after_mark<'a>(out: &'a [u8], mark: &[u8]) -> Option<&'a [u8]> {
    let at = out.windows(mark.len()).rposition(|w| w == mark)?;
    Some(&out[at + mark.len()..])
}

/// `baton __pdf-text`: reads a PDF on stdin, writes its text on stdout.
pub fn child_main() -> ExitCode {
    limit_resources();
    let mut input = Vec::new();
    if std::io::stdin().take(MAX_INPUT).read_to_end(&mut input).is_err() {
        return answer(ERROR_MARK, "the PDF could not be read from the server");
    }
    let reader = std::thread::Builder::new()
        .stack_size(CHILD_STACK)
        .spawn(move || std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&input)));
    match reader.map(|t| t.join()) {
        Ok(Ok(Ok(Ok(text)))) => answer(TEXT_MARK, &text),
        Ok(Ok(Ok(Err(e)))) => answer(ERROR_MARK, &format!("the PDF could not be read: {e}")),
        _ => answer(ERROR_MARK, "the PDF could not be read (malformed file)"),
    }
}

fn answer(mark: &[u8], text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let ok = out.write_all(mark).and_then(|_| out.write_all(text.as_bytes())).and_then(|_| out.flush());
    match (ok, mark == TEXT_MARK) {
        (Ok(()), true) => ExitCode::SUCCESS,
        _ => ExitCode::from(2),
    }
}

/// Address space, CPU time, and no core file when the reader crashes.
fn limit_resources() {
    use nix::sys::resource::{setrlimit, Resource};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    let _ = setrlimit(Resource::RLIMIT_AS, CHILD_MEMORY, CHILD_MEMORY);
    let _ = setrlimit(Resource::RLIMIT_CPU, CHILD_CPU_SECS, CHILD_CPU_SECS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_follows_the_last_mark() {
        let out = [b"noise".as_slice(), TEXT_MARK, b"Hello"].concat();
        assert_eq!(after_mark(&out, TEXT_MARK), Some(b"Hello".as_slice()));
        assert_eq!(after_mark(b"no mark here", TEXT_MARK), None);
    }
}
