//! Lines as lint holds them: batches bounded in lines and bytes, and a line reader that keeps at
//! most [`MAX_LINE`] bytes of any line, however long.

use std::io::{self, BufRead};
use std::ops::Range;

/// Lines per batch at most: enough to make handing a batch over cheap.
const BATCH_LINES: usize = 4096;
/// Bytes per batch at most (a batch holds at least one line).
const BATCH_BYTES: usize = 256 * 1024;
/// The longest line judged; no tracking request comes near it (the mock answers targets over
/// 16 KiB with 414).
pub const MAX_LINE: usize = 64 * 1024;
/// Bytes of a longer line kept, to show which line it was.
pub(crate) const LONG_LINE_SHOWN: usize = 120;

/// Lines read but not yet judged: one buffer, and each line's number and range in it; then
/// what they rendered to, until it is written.
#[derive(Default)]
pub(crate) struct Batch {
    pub buf: Vec<u8>,
    pub lines: Vec<Line>,
    pub out: Vec<u8>,
}

pub(crate) struct Line {
    pub no: u64,
    /// A command-line argument (numbered among them), not a line of the input file.
    pub argument: bool,
    pub range: Range<usize>,
    /// The whole line's length, when it was longer than [`MAX_LINE`] and only its start kept.
    pub cut_from: Option<usize>,
}

impl Batch {
    pub fn push(&mut self, no: u64, argument: bool, line: &[u8], cut_from: Option<usize>) {
        let start = self.buf.len();
        self.buf.extend_from_slice(line);
        self.keep_from(start, no, argument, cut_from);
    }

    /// Takes `buf[start..]`, just appended, as line `no`: without its line break, and dropped
    /// again when it is blank or a comment.
    pub fn keep_from(&mut self, start: usize, no: u64, argument: bool, cut_from: Option<usize>) {
        let line = &self.buf[start..];
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let trimmed = line.trim_ascii_start();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            self.buf.truncate(start);
            return;
        }
        let len = match cut_from {
            Some(_) => line.len().min(LONG_LINE_SHOWN),
            None => line.len(),
        };
        self.buf.truncate(start + len);
        self.lines.push(Line {
            no,
            argument,
            range: start..self.buf.len(),
            cut_from,
        });
    }

    /// Drops a leading byte-order mark (an editor on Windows) from `buf[start..]`.
    pub fn strip_bom(&mut self, start: usize) {
        if self.buf[start..].starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(start..start + 3);
        }
    }

    /// Empty again, its buffers kept for the next batch.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.lines.clear();
        self.out.clear();
    }

    pub fn full(&self) -> bool {
        self.lines.len() >= BATCH_LINES || self.buf.len() >= BATCH_BYTES
    }
}

/// Appends one line (its `\n` included) to `buf`, keeping at most [`MAX_LINE`] + 1 bytes of
/// it; returns the whole line's length, 0 at the end of the input.
pub(crate) fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(total);
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = (MAX_LINE + 1).saturating_sub(total);
        buf.extend_from_slice(&chunk[..take.min(room)]);
        reader.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}
