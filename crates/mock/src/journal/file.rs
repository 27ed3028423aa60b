//! The journal file: every entry appended as one JSON line, by a thread of its own so the
//! request path never waits on the disk.

use super::entry::Entry;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{mpsc, Arc};

#[derive(Debug, Default)]
pub(super) struct FileSink {
    tx: Option<mpsc::Sender<Arc<Entry>>>,
    writer: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl FileSink {
    /// Appends to `path`, creating it.
    pub fn open(path: &Path) -> std::io::Result<FileSink> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let (tx, rx) = mpsc::channel::<Arc<Entry>>();
        let writer = std::thread::Builder::new()
            .name("journal-file".into())
            .spawn(move || write_lines(file, rx))?;
        Ok(FileSink {
            tx: Some(tx),
            writer: Some(writer),
        })
    }

    /// Queues one entry; entries are written in the order they are sent.
    pub fn send(&self, entry: Arc<Entry>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(entry);
        }
    }

    /// Stops taking entries; after the returned handle is joined, all sent are written.
    pub fn finish(&mut self) -> Option<std::thread::JoinHandle<std::io::Result<()>>> {
        self.tx = None;
        self.writer.take()
    }
}

fn write_lines(file: std::fs::File, rx: mpsc::Receiver<Arc<Entry>>) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(entry) = next {
            serde_json::to_writer(&mut out, &*entry)?;
            out.write_all(b"\n")?;
            next = rx.try_recv().ok();
        }
        // Nothing more queued: hand what we have to the OS.
        out.flush()?;
    }
    out.flush()
}
