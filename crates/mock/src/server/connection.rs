//! One connection's service. `/serve/` requests, nearly all of the traffic, are answered
//! directly, without routing or request extensions; everything else goes through the router
//! (admin API, `/metrics`, and the fallback that answers unknown paths).

use super::header_clock::{HeadWait, InFlight};
use super::socket::Breaker;
use crate::state::SharedState;
use crate::track::{Break, ListenerKind, RemoteAddr};
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use hyper::body::Incoming;
use metrica_s2s_rules::Kind;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::ServiceExt;

#[derive(Clone, Debug)]
pub(super) struct Connection {
    pub state: SharedState,
    pub router: axum::Router,
    pub kind: Kind,
    pub peer: SocketAddr,
    /// The header-read timeout's view of this connection.
    pub wait: Arc<HeadWait>,
    /// Set by a reset or close fault; the socket then breaks instead of answering.
    pub breaker: Breaker,
}

impl hyper::service::Service<Request<Incoming>> for Connection {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: Request<Incoming>) -> Answer {
        // hyper calls with a whole head in hand: the wait for one is over until the answer.
        let answering = self.wait.busy();
        if req.uri().path().starts_with("/serve/") {
            let (parts, _body) = req.into_parts();
            let answered = crate::track::answer(&self.state, self.kind, Some(self.peer), &parts);
            match answered.then {
                None => {}
                Some(Break::Reset) => self.breaker.reset(),
                Some(Break::Close) => self.breaker.close(),
                Some(Break::Delay(d)) => {
                    let response = answered.response;
                    return Answer::Routed(
                        Box::pin(async move {
                            tokio::time::sleep(d).await;
                            Ok(response)
                        }),
                        Some(answering),
                    );
                }
            }
            return Answer::Ready(Some(answered.response));
        }
        if req
            .headers()
            .get_all(axum::http::header::HOST)
            .iter()
            .nth(1)
            .is_some()
        {
            return Answer::Ready(Some(crate::track::duplicate_host()));
        }
        let mut req = req;
        req.extensions_mut().insert(ListenerKind(self.kind));
        req.extensions_mut().insert(RemoteAddr(self.peer));
        Answer::Routed(Box::pin(self.router.clone().oneshot(req)), Some(answering))
    }
}

type Routed = Pin<Box<dyn Future<Output = Result<axum::response::Response, Infallible>> + Send>>;

/// Either an answer already made, or the router's future and the request's place among those
/// the connection is answering, which it keeps until the answer's body is written out (see
/// [`AnswerBody`]) or the future is dropped.
pub(super) enum Answer {
    Ready(Option<axum::response::Response>),
    Routed(Routed, Option<InFlight>),
}

impl Future for Answer {
    type Output = Result<axum::response::Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Ready(r) => match r.take() {
                Some(r) => Poll::Ready(Ok(r)),
                // Polled again after completion: never done by hyper.
                None => Poll::Pending,
            },
            Answer::Routed(f, answering) => f.as_mut().poll(cx).map_ok(|response| {
                let mut answering = answering.take();
                let stream = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
                if let (true, Some(a)) = (stream, answering.as_mut()) {
                    a.is_stream();
                }
                response.map(|body| {
                    axum::body::Body::new(AnswerBody {
                        body,
                        _answering: answering,
                    })
                })
            }),
        }
    }
}

/// A routed answer's body. hyper drops it once it has taken the last bytes (or gives up on
/// them), and only then is the request no longer being answered: a client slowly reading a
/// large journal page is not cut off as if it were slow to send a head.
struct AnswerBody {
    body: axum::body::Body,
    /// Held, not read: dropped with the body.
    _answering: Option<InFlight>,
}

impl hyper::body::Body for AnswerBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use crate::server::connection::*;
    use crate::server::header_clock::HeaderClock;
    use http_body_util::BodyExt;
    use std::time::Duration;

    #[tokio::test]
    async fn a_routed_answer_restarts_the_wait_only_once_its_body_is_taken() {
        let clock = HeaderClock::new(Duration::from_secs(1));
        let wait = clock.connection();
        let answering = wait.busy();
        let routed: Routed = Box::pin(async {
            Ok(axum::response::Response::new(axum::body::Body::from(
                "a journal page",
            )))
        });
        let response = Answer::Routed(routed, Some(answering))
            .await
            .expect("infallible");
        assert!(!wait.is_waiting(), "made, but not yet written out");
        let body = response.into_body().collect().await.expect("body");
        assert_eq!(&body.to_bytes()[..], b"a journal page");
        assert!(
            wait.is_waiting(),
            "the body is taken: the next head is awaited"
        );
    }

    #[tokio::test]
    async fn a_routed_answer_given_up_before_it_is_made_ends_its_request() {
        let clock = HeaderClock::new(Duration::from_secs(1));
        let wait = clock.connection();
        let routed: Routed = Box::pin(std::future::pending());
        let answer = Answer::Routed(routed, Some(wait.busy()));
        assert!(!wait.is_waiting());
        drop(answer);
        assert!(wait.is_waiting(), "a reset stream is no longer answered");
    }
}
