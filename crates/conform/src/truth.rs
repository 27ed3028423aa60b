//! What really happened in one scenario run: the runner gives the partner these values and
//! judges what arrives against them.

/// The truth of one scenario run, beside the scenario's device.
#[derive(Clone, Debug)]
pub struct Truth {
    /// Fresh for every run, so what arrives is matched to its scenario.
    pub tracking_id: u64,
    pub click_id: String,
    /// Unix seconds at which the user clicked or saw the ad.
    pub event_time: u64,
}
