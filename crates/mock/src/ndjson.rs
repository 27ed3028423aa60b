//! An NDJSON file (the journal's, the postback deliveries'): every record appended as one JSON
//! line, by a thread of its own so no request waits on the disk.
//!
//! The file must fail loudly and never take the server with it: the queue to the writer is
//! bounded (records beyond it are dropped and counted), what is written is flushed at least
//! every second (a write error shows within a second, a kill loses at most that much), a write
//! error is logged, counted and kept for `/__admin/health`, and closing waits for the writer
//! only as long as it is told to. The file is locked, so two servers cannot interleave lines in
//! it, and a line left partial (by a crash, a full disk) is ended before the next is appended.

use serde::Serialize;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Records queued for the writer at most, and their bytes at most (roughly).
const MAX_QUEUED: usize = 16_384;
const MAX_QUEUED_BYTES: usize = 16 << 20;
/// Longest time a written record stays in the writer's buffer.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
const BUFFER_BYTES: usize = 1 << 16;

/// What a file's health is, shared by its writer and whoever reports on it.
#[derive(Debug)]
pub(crate) struct FileHealth {
    pub(crate) path: PathBuf,
    queued: AtomicUsize,
    queued_bytes: AtomicUsize,
    /// Records that never reached the file: the queue was full, or their write failed.
    lost: AtomicU64,
    errors: AtomicU64,
    /// The last write error, until a later write succeeds.
    error: Mutex<Option<String>>,
}

impl FileHealth {
    fn new(path: &Path) -> FileHealth {
        FileHealth {
            path: path.to_owned(),
            queued: AtomicUsize::new(0),
            queued_bytes: AtomicUsize::new(0),
            lost: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    pub(crate) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    pub(crate) fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The write error the file is in, if its last write failed.
    pub(crate) fn error(&self) -> Option<String> {
        crate::lock::lock(&self.error).clone()
    }

    fn failed(&self, e: &std::io::Error, records: usize) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.lost.fetch_add(records as u64, Ordering::Relaxed);
        let text = e.to_string();
        let mut error = crate::lock::lock(&self.error);
        if error.as_deref() != Some(&text) {
            tracing::error!(file = %self.path.display(), error = %text, lost = records, "cannot write the file; records are being lost (see /__admin/health and /metrics)");
        }
        *error = Some(text);
    }

    fn wrote(&self) {
        let mut error = crate::lock::lock(&self.error);
        if error.take().is_some() {
            tracing::info!(file = %self.path.display(), "the file is written again");
        }
    }
}

type Queued<T> = (Arc<T>, usize);

#[derive(Debug)]
pub(crate) struct FileSink<T> {
    tx: Option<mpsc::Sender<Queued<T>>>,
    writer: Option<std::thread::JoinHandle<()>>,
    health: Option<Arc<FileHealth>>,
}

impl<T> Default for FileSink<T> {
    fn default() -> Self {
        FileSink {
            tx: None,
            writer: None,
            health: None,
        }
    }
}

/// A file opened for appending, and its last whole line, if it had one.
pub(crate) struct Opened<T> {
    pub(crate) sink: FileSink<T>,
    pub(crate) last_line: Option<String>,
}

impl<T: Serialize + Send + Sync + 'static> FileSink<T> {
    /// Appends to `path`, creating it; refused when another process holds it.
    pub(crate) fn open(path: &Path) -> std::io::Result<Opened<T>> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!(
                        "{} is locked by another process (another metrica-s2s writing to it?); give each server its own file",
                        path.display()
                    ),
                ))
            }
            // Some files (devices, some network file systems) cannot be locked: go on.
            Err(std::fs::TryLockError::Error(_)) => {}
        }
        let (last_line, partial) = if file.metadata()?.is_file() {
            tail(&mut file)?
        } else {
            (None, false)
        };
        let health = Arc::new(FileHealth::new(path));
        let (tx, rx) = mpsc::channel::<Queued<T>>();
        let h = health.clone();
        let writer = std::thread::Builder::new()
            .name("ndjson-file".into())
            .spawn(move || write_lines(file, &rx, &h, partial))?;
        Ok(Opened {
            sink: FileSink {
                tx: Some(tx),
                writer: Some(writer),
                health: Some(health),
            },
            last_line,
        })
    }

    /// Queues one record of about `bytes` bytes; records are written in the order they are
    /// sent. Dropped, and counted, when the writer is too far behind.
    pub(crate) fn send(&self, record: Arc<T>, bytes: usize) {
        let (Some(tx), Some(health)) = (&self.tx, &self.health) else {
            return;
        };
        let queued = health.queued.fetch_add(1, Ordering::Relaxed);
        let queued_bytes = health.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        if queued >= MAX_QUEUED || queued_bytes + bytes > MAX_QUEUED_BYTES {
            health.queued.fetch_sub(1, Ordering::Relaxed);
            health.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            health.lost.fetch_add(1, Ordering::Relaxed);
            let mut error = crate::lock::lock(&health.error);
            if error.is_none() {
                tracing::error!(file = %health.path.display(), "the file's writer is behind (a stalled disk or reader?): records are being dropped (see /__admin/health and /metrics)");
                *error = Some(format!(
                    "the writer is {queued} records behind (a stalled disk or reader?): new records are dropped until it catches up"
                ));
            }
            return;
        }
        let _ = tx.send((record, bytes));
    }

    pub(crate) fn health(&self) -> Option<&Arc<FileHealth>> {
        self.health.as_ref()
    }

    /// Stops taking records; once the returned writer ends, every record sent is written.
    pub(crate) fn finish(&mut self) -> Option<Writer> {
        self.tx = None;
        Some(Writer {
            thread: self.writer.take()?,
            health: self.health.clone()?,
        })
    }
}

/// The writer of a file being closed.
#[derive(Debug)]
pub(crate) struct Writer {
    thread: std::thread::JoinHandle<()>,
    health: Arc<FileHealth>,
}

impl Writer {
    /// Waits up to `within` for the writer to write what is queued; an error when it could
    /// not (a stalled or failing disk), naming the file and what was lost.
    pub(crate) fn join_within(self, within: Duration) -> std::io::Result<()> {
        let deadline = Instant::now() + within;
        while !self.thread.is_finished() {
            if Instant::now() >= deadline {
                let queued = self.health.queued.load(Ordering::Relaxed);
                return Err(std::io::Error::other(format!(
                    "{}: the writer did not finish within {within:?} (a stalled disk or reader?); {queued} records still queued were not written",
                    self.health.path.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if self.thread.join().is_err() {
            return Err(std::io::Error::other(format!(
                "{}: the writer panicked",
                self.health.path.display()
            )));
        }
        match (self.health.error(), self.health.lost()) {
            (Some(e), lost) => Err(std::io::Error::other(format!(
                "{}: {e}; {lost} records were not written",
                self.health.path.display()
            ))),
            (None, 0) => Ok(()),
            (None, lost) => Err(std::io::Error::other(format!(
                "{}: {lost} records were not written (the writer fell behind, or writes failed for a while)",
                self.health.path.display()
            ))),
        }
    }
}

/// The last whole line of `file`, and whether the file ends in a partial line.
fn tail(file: &mut std::fs::File) -> std::io::Result<(Option<String>, bool)> {
    let len = file.seek(SeekFrom::End(0))?;
    let from = len.saturating_sub(1 << 20);
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.take(1 << 20).read_to_end(&mut bytes)?;
    let partial = bytes.last().is_some_and(|b| *b != b'\n');
    let whole = match bytes.iter().rposition(|b| *b == b'\n') {
        Some(end) => &bytes[..end],
        None => &[][..],
    };
    let last = whole
        .split(|b| *b == b'\n')
        .rev()
        .find(|l| !l.trim_ascii().is_empty())
        .map(|l| String::from_utf8_lossy(l).into_owned());
    Ok((last, partial))
}

fn write_lines<T: Serialize>(
    mut file: std::fs::File,
    rx: &mpsc::Receiver<Queued<T>>,
    health: &FileHealth,
    mut partial: bool,
) {
    let mut out = Vec::with_capacity(BUFFER_BYTES);
    let mut records = 0usize;
    let mut written_at = Instant::now();
    loop {
        let next = match rx.recv_timeout(FLUSH_EVERY) {
            Ok(r) => Some(r),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut next = next;
        while let Some((record, bytes)) = next.take() {
            if partial {
                // The file ends inside a line (a crash, an earlier failed write): end it.
                out.push(b'\n');
                partial = false;
            }
            if serde_json::to_writer(&mut out, &*record).is_ok() {
                out.push(b'\n');
                records += 1;
            }
            health.queued.fetch_sub(1, Ordering::Relaxed);
            health.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            if out.len() >= BUFFER_BYTES || written_at.elapsed() >= FLUSH_EVERY {
                break;
            }
            next = rx.try_recv().ok();
        }
        // Nothing more queued, a full buffer, or a second gone: hand what we have to the OS.
        if !out.is_empty() {
            match file.write_all(&out) {
                Ok(()) => health.wrote(),
                Err(e) => {
                    health.failed(&e, records);
                    partial = true;
                }
            }
            out.clear();
            records = 0;
        }
        written_at = Instant::now();
    }
    if !out.is_empty() {
        if let Err(e) = file.write_all(&out) {
            health.failed(&e, records);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FileSink;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_partial_last_line_is_ended_and_the_last_whole_line_is_read() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("j.ndjson");
        std::fs::write(&path, "{\"seq\":1}\n{\"seq\":2}\n{\"se").expect("write");
        let opened = FileSink::<u32>::open(&path).expect("open");
        assert_eq!(opened.last_line.as_deref(), Some("{\"seq\":2}"));
        let mut sink = opened.sink;
        sink.send(Arc::new(7), 1);
        sink.finish()
            .expect("writer")
            .join_within(Duration::from_secs(5))
            .expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "{\"seq\":1}\n{\"seq\":2}\n{\"se\n7\n");
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("j.ndjson");
        let first = FileSink::<u32>::open(&path).expect("open");
        let second = FileSink::<u32>::open(&path)
            .map(|_| ())
            .expect_err("locked");
        assert!(
            second.to_string().contains("locked by another process"),
            "{second}"
        );
        drop(first);
    }

    #[test]
    fn a_failing_file_is_reported_within_a_second() {
        let path = std::path::Path::new("/dev/full");
        if !path.exists() {
            return;
        }
        let mut sink = FileSink::<u32>::open(path).expect("open").sink;
        sink.send(Arc::new(1), 1);
        let health = sink.health().expect("health").clone();
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while health.error().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let error = health.error().expect("the error is kept");
        assert!(error.contains("No space left"), "{error}");
        assert_eq!(health.lost(), 1);
        let closed = sink
            .finish()
            .expect("writer")
            .join_within(Duration::from_secs(5));
        assert!(closed
            .expect_err("reported")
            .to_string()
            .contains("/dev/full"));
    }
}
