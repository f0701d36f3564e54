//! Standard output that never panics. `println!` panics when stdout is a
//! closed pipe (`tickwire demo | head -1`) or a full device
//! (`> /dev/full`); every line the commands print goes through [`Out`]
//! instead, which keeps the first write error, writes nothing after it, and
//! lets the command stop early ([`Out::failed`]) and then decide its exit
//! status ([`Out::finish`]): a closed pipe is a normal way to stop (status
//! 0), any other error is [`Failure::Output`] (status 1).

use std::cell::OnceCell;
use std::fmt;
use std::io::{self, Write};

use crate::Failure;

/// Standard output with its first write error kept (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Out {
    failed: OnceCell<io::Error>,
}

impl Out {
    /// Standard output, nothing written yet.
    pub(crate) fn new() -> Out {
        Out::default()
    }

    /// Writes `args` and a newline (nothing once a write has failed).
    pub(crate) fn line(&self, args: fmt::Arguments<'_>) {
        self.write(format_args!("{args}\n"));
    }

    /// Writes `args` as they are (nothing once a write has failed).
    pub(crate) fn write(&self, args: fmt::Arguments<'_>) {
        if self.failed.get().is_some() {
            return;
        }
        let mut out = io::stdout().lock();
        // Stdout is line-buffered: the flush makes a partial line's error
        // show up now rather than at exit.
        if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
            let _ = self.failed.set(e);
        }
    }

    /// True once a write has failed (the reader is gone or the device is
    /// full): long-running commands stop then.
    pub(crate) fn failed(&self) -> bool {
        self.failed.get().is_some()
    }

    /// The exit verdict of the output: a closed pipe is fine, any other
    /// write error is a [`Failure::Output`].
    pub(crate) fn finish(self) -> Result<(), Failure> {
        match self.failed.into_inner() {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Failure::Output(e)),
            _ => Ok(()),
        }
    }
}
