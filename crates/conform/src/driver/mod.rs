//! Drivers: how the runner makes a partner's integration report an event. The exec driver
//! runs the partner's command once per scenario; the http driver plays the user's device and
//! clicks the partner's own click URL. Both sit behind [`Driver`], so the runner never asks
//! which one it has.

mod exec;
mod http;
mod interface;
mod server;

pub use exec::{environment, Exec};
pub use http::ClickThrough;
pub use interface::{BoxFuture, Driver, Endpoints, Event, Supplies};
pub use server::PartnerServer;

use crate::partner::{self, Partner};

/// The driver a partner file describes.
pub fn for_partner(p: &Partner) -> Box<dyn Driver> {
    match &p.driver {
        partner::Driver::Exec {
            command,
            timeout_ms,
        } => Box::new(Exec::new(command.clone(), *timeout_ms, p.dir.clone())),
        partner::Driver::Http(h) => Box::new(ClickThrough::new(h.clone(), p.dir.clone())),
    }
}
