//! The baseline for `s2s-bench serve`: axum answering 204 to everything and doing nothing
//! else. Binds 127.0.0.1:0 and prints `listening http://ADDR`; stops on stdin EOF.

use axum::http::StatusCode;
use axum::Router;
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening http://{}", listener.local_addr()?);
    let app = Router::new().fallback(|| async { StatusCode::NO_CONTENT });
    let stop = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}
