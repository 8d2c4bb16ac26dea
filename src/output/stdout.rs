//! Writing a command's output to stdout. A reader that goes away (`| head -1`) is not an error
//! of ours: the command ends quietly, like other Unix tools. Any other write error (a full
//! disk behind `> file`) is reported.

use crate::error::{Error, Result};
use std::io::{ErrorKind, Write};

/// How a write to stdout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emitted {
    /// Everything was written and flushed.
    Written,
    /// The reader closed the pipe; the rest was dropped on purpose.
    PipeClosed,
}

/// Writes `text` to stdout and flushes it.
pub fn emit(text: &str) -> Result<Emitted> {
    let mut out = std::io::stdout().lock();
    write_to(&mut out, text)
}

/// Writes `text` to `out` and flushes it, mapping a broken pipe to [`Emitted::PipeClosed`].
pub fn write_to(out: &mut dyn Write, text: &str) -> Result<Emitted> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(Emitted::Written),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(Emitted::PipeClosed),
        Err(e) => Err(Error::Output(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(self.0))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_a_full_disk_is_an_error() {
        let closed = write_to(&mut Failing(ErrorKind::BrokenPipe), "x").unwrap();
        assert_eq!(closed, Emitted::PipeClosed);
        let full = write_to(&mut Failing(ErrorKind::StorageFull), "x").unwrap_err();
        assert!(full.to_string().contains("stdout"), "{full}");
        let mut buf = Vec::new();
        assert_eq!(write_to(&mut buf, "ok\n").unwrap(), Emitted::Written);
        assert_eq!(buf, b"ok\n");
    }
}
