//! How `serve` is stopped: signals to two futures, the graceful stop and the immediate one.

use anyhow::Context as _;

/// The first SIGINT (Ctrl-C), SIGTERM or SIGHUP starts a graceful shutdown; the second ends
/// the mock at once (after completing the journal file). SIGHUP is taken as a stop, not a
/// reload: a mock started from a terminal that closes should stop cleanly, not die.
pub fn stop_signals() -> anyhow::Result<(
    impl std::future::Future<Output = ()>,
    impl std::future::Future<Output = ()>,
)> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut streams = Vec::new();
    for (kind, name) in [
        (SignalKind::interrupt(), "SIGINT"),
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::hangup(), "SIGHUP"),
    ] {
        streams.push((
            signal(kind).with_context(|| format!("cannot handle {name}"))?,
            name,
        ));
    }
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    let (second_tx, second_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut first = Some(first_tx);
        loop {
            let received = futures_util::future::select_all(
                streams
                    .iter_mut()
                    .map(|(s, name)| Box::pin(async move { s.recv().await.map(|()| *name) })),
            )
            .await
            .0;
            let Some(name) = received else { return };
            match first.take() {
                Some(tx) => {
                    tracing::info!(signal = name, "shutting down: requests in flight get up to 5 s; send it again to stop at once");
                    let _ = tx.send(());
                }
                None => {
                    tracing::warn!(signal = name, "second signal: stopping at once");
                    let _ = second_tx.send(());
                    return;
                }
            }
        }
    });
    Ok((
        async move {
            let _ = first_rx.await;
        },
        async move {
            if second_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        },
    ))
}
