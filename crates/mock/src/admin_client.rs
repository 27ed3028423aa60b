//! A typed client of the admin API, for a mock running anywhere on loopback: the one the
//! handle gives, or one started by another process. It speaks the [`crate::model`] types, so
//! what the mock writes and what its clients read is one definition.

use crate::client::{Client, ClientError};
use crate::model::{
    ConversionOutcome, ConversionRequest, Delivery, DeliveryFilter, DeliveryPage, Entry, FaultSpec,
    Filter, Health, ListedFault, Page, Template,
};
use hyper::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// How long one call may take beyond the wait it asked the mock for.
const SLACK: Duration = Duration::from_secs(5);
/// A wait's `timeout_ms` when its filter gives none (the mock's own default).
const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// Why an admin call gave no answer the caller can use.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("it answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("its answer is not the admin API's JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the filter cannot be sent as a query: {0}")]
    Query(#[from] serde_urlencoded::ser::Error),
}

#[derive(Clone, Debug)]
pub struct AdminClient {
    base: String,
    token: Option<String>,
    http: Client,
}

impl AdminClient {
    /// A client of the mock whose click (or impression) listener is at `base`
    /// (`http://127.0.0.1:18080`).
    pub fn new(base: &str) -> AdminClient {
        AdminClient {
            base: base.trim_end_matches('/').to_owned(),
            token: None,
            http: Client::new(),
        }
    }

    /// Sends `Authorization: Bearer <token>` with every call.
    pub fn with_token(mut self, token: &str) -> AdminClient {
        self.token = Some(format!("Bearer {token}"));
        self
    }

    /// The base URL calls go to.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn health(&self) -> Result<Health, AdminError> {
        self.get("/__admin/health", SLACK).await
    }

    /// One page of the journal: the filter's `limit` (100 by default, 1,000 at most), and
    /// `next` to read on from.
    pub async fn requests(&self, filter: &Filter) -> Result<Page, AdminError> {
        let query = serde_urlencoded::to_string(filter)?;
        self.get(&format!("/__admin/requests?{query}"), SLACK).await
    }

    /// Entry `seq`, or `None` when the journal does not hold it.
    pub async fn request(&self, seq: u64) -> Result<Option<Entry>, AdminError> {
        match self.get(&format!("/__admin/requests/{seq}"), SLACK).await {
            Err(AdminError::Status { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Answers as soon as the filter's `count` (1 by default) entries match, or at its
    /// `timeout_ms` with what there is.
    pub async fn wait_requests(&self, filter: &Filter) -> Result<Page, AdminError> {
        let query = serde_urlencoded::to_string(filter)?;
        let wait = filter
            .timeout_ms
            .map_or(DEFAULT_WAIT, Duration::from_millis);
        self.get(&format!("/__admin/requests/wait?{query}"), wait + SLACK)
            .await
    }

    /// Forgets every journal entry; how many there were.
    pub async fn reset_requests(&self) -> Result<u64, AdminError> {
        #[derive(serde::Deserialize)]
        struct Cleared {
            cleared: u64,
        }
        let c: Cleared = self
            .send(Method::DELETE, "/__admin/requests", None::<&()>, SLACK)
            .await?;
        Ok(c.cleared)
    }

    /// Sets a fault; its id.
    pub async fn add_fault(&self, fault: &FaultSpec) -> Result<u64, AdminError> {
        #[derive(serde::Deserialize)]
        struct Id {
            id: u64,
        }
        let id: Id = self
            .send(Method::POST, "/__admin/faults", Some(fault), SLACK)
            .await?;
        Ok(id.id)
    }

    pub async fn faults(&self) -> Result<Vec<ListedFault>, AdminError> {
        #[derive(serde::Deserialize)]
        struct List {
            faults: Vec<ListedFault>,
        }
        let l: List = self.get("/__admin/faults", SLACK).await?;
        Ok(l.faults)
    }

    /// Removes fault `id`; false when no such fault was set.
    pub async fn remove_fault(&self, id: u64) -> Result<bool, AdminError> {
        let path = format!("/__admin/faults/{id}");
        match self.call(Method::DELETE, &path, None, SLACK).await {
            Ok(_) => Ok(true),
            Err(AdminError::Status { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Replaces tracker `tracking_id`'s postbacks until [`AdminClient::clear_postbacks`].
    pub async fn set_postbacks(
        &self,
        tracking_id: u64,
        templates: &[Template],
    ) -> Result<(), AdminError> {
        let path = format!("/__admin/trackers/{tracking_id}/postbacks");
        self.send::<serde_json::Value>(Method::PUT, &path, Some(templates), SLACK)
            .await
            .map(|_| ())
    }

    /// Goes back to the tracker file's postbacks for `tracking_id`.
    pub async fn clear_postbacks(&self, tracking_id: u64) -> Result<(), AdminError> {
        let path = format!("/__admin/trackers/{tracking_id}/postbacks");
        self.call(Method::DELETE, &path, None, SLACK)
            .await
            .map(|_| ())
    }

    /// Reports a conversion; the mock attributes it and starts its postbacks.
    pub async fn convert(
        &self,
        conversion: &ConversionRequest,
    ) -> Result<ConversionOutcome, AdminError> {
        self.send(
            Method::POST,
            "/__admin/conversions",
            Some(conversion),
            SLACK,
        )
        .await
    }

    pub async fn postbacks(&self, filter: &DeliveryFilter) -> Result<DeliveryPage, AdminError> {
        let query = serde_urlencoded::to_string(filter)?;
        self.get(&format!("/__admin/postbacks?{query}"), SLACK)
            .await
    }

    /// Answers as soon as the filter's `count` (1 by default) deliveries match, or at its
    /// `timeout_ms` with what there is.
    pub async fn wait_postbacks(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<DeliveryPage, AdminError> {
        let query = serde_urlencoded::to_string(filter)?;
        let wait = filter
            .timeout_ms
            .map_or(DEFAULT_WAIT, Duration::from_millis);
        self.get(&format!("/__admin/postbacks/wait?{query}"), wait + SLACK)
            .await
    }

    /// Sends delivery `id` once more now; the delivery as it was when asked.
    pub async fn repeat_postback(&self, id: u64) -> Result<Delivery, AdminError> {
        let path = format!("/__admin/postbacks/{id}/repeat");
        self.send(Method::POST, &path, None::<&()>, SLACK).await
    }

    /// `/metrics`, as Prometheus reads it.
    pub async fn metrics(&self) -> Result<String, AdminError> {
        let body = self.call(Method::GET, "/metrics", None, SLACK).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<T, AdminError> {
        let body = self.call(Method::GET, path, None, timeout).await?;
        Ok(serde_json::from_slice(&body)?)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        timeout: Duration,
    ) -> Result<T, AdminError> {
        let body = body.map(serde_json::to_vec).transpose()?;
        let answer = self.call(method, path, body, timeout).await?;
        Ok(serde_json::from_slice(&answer)?)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<axum::body::Bytes, AdminError> {
        let mut headers = Vec::new();
        if let Some(t) = &self.token {
            headers.push(("authorization", t.as_str()));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let url = format!("{}{path}", self.base);
        let r = self
            .http
            .send(
                method,
                &url,
                &headers,
                body.unwrap_or_default().into(),
                timeout,
            )
            .await?;
        if !(200..300).contains(&r.status) {
            let shown = &r.body[..r.body.len().min(300)];
            return Err(AdminError::Status {
                status: r.status,
                body: metrica_s2s_rules::quote_str(&String::from_utf8_lossy(shown)),
            });
        }
        Ok(r.body)
    }
}
