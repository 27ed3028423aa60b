//! An NDJSON file (the journal's, the postback deliveries'): every record appended as one JSON
//! line, by a thread of its own so no request waits on the disk.

use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{mpsc, Arc};

#[derive(Debug)]
pub(crate) struct FileSink<T> {
    tx: Option<mpsc::Sender<Arc<T>>>,
    writer: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl<T> Default for FileSink<T> {
    fn default() -> Self {
        FileSink {
            tx: None,
            writer: None,
        }
    }
}

impl<T: Serialize + Send + Sync + 'static> FileSink<T> {
    /// Appends to `path`, creating it.
    pub fn open(path: &Path) -> std::io::Result<FileSink<T>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let (tx, rx) = mpsc::channel::<Arc<T>>();
        let writer = std::thread::Builder::new()
            .name("ndjson-file".into())
            .spawn(move || write_lines(file, rx))?;
        Ok(FileSink {
            tx: Some(tx),
            writer: Some(writer),
        })
    }

    /// Queues one record; records are written in the order they are sent.
    pub fn send(&self, entry: Arc<T>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(entry);
        }
    }

    /// Stops taking records; after the returned handle is joined, all sent are written.
    pub fn finish(&mut self) -> Option<std::thread::JoinHandle<std::io::Result<()>>> {
        self.tx = None;
        self.writer.take()
    }
}

fn write_lines<T: Serialize>(
    file: std::fs::File,
    rx: mpsc::Receiver<Arc<T>>,
) -> std::io::Result<()> {
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
