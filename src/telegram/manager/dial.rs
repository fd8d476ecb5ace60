//! Dialling Telegram: building the sender pool, the client and the tasks that drive them
//! (runner, update pump, supervisor), and following a replica's lease gate in and out of
//! standby.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_mtsender::{ConnectionParams, SenderPool};

use super::{ClientManager, Inner, Shared};
use crate::events::EventSink;
use crate::telegram::lease::LeaseGate;
use crate::telegram::retry::GatewayRetryPolicy;
use crate::telegram::{supervisor, updates_pump};

/// What it takes to dial Telegram again after a standby.
pub(super) struct Dial {
    pub api_id: i32,
    pub use_ipv6: bool,
    pub dc_id: i32,
    pub addr: String,
    pub flood_sleep_max: Duration,
    /// Where the update pump sends what it reads.
    pub events: EventSink,
}

/// Builds a sender pool and client for the session and starts its runner and supervisor.
pub(super) fn connect(shared: &Arc<Shared>, dial: &Dial) -> Inner {
    let params = ConnectionParams {
        use_ipv6: dial.use_ipv6,
        device_model: "mtgate".into(),
        app_version: env!("CARGO_PKG_VERSION").into(),
        retry_policy: Box::new(GatewayRetryPolicy::new(
            dial.flood_sleep_max,
            shared.options.io_retry_delay,
            shared.metrics.clone(),
        )),
        updates_channel_capacity: NonZeroUsize::new(updates_pump::POOL_UPDATES_CAPACITY)
            .expect("non-zero"),
        ..ConnectionParams::default()
    };
    let pool = SenderPool::with_configuration(shared.session.clone(), dial.api_id, params);
    let client = Client::new(pool.handle.clone());
    let runner = tokio::spawn(pool.runner.run());
    let (to_pump, pump_updates) = tokio::sync::mpsc::channel(updates_pump::FORWARD_CAPACITY);
    let pump = tokio::spawn(updates_pump::run(
        shared.clone(),
        client.clone(),
        pool.handle.thin.clone(),
        pool.handle.session.clone(),
        (to_pump.clone(), pump_updates),
        dial.events.clone(),
    ));
    let supervisor = tokio::spawn(supervisor::run(
        shared.clone(),
        client.clone(),
        pool.updates,
        to_pump,
    ));
    tracing::info!(
        dc_id = dial.dc_id,
        server = %dial.addr,
        "connecting to Telegram in the background"
    );
    Inner {
        client: Some(client),
        pool: Some(pool.handle.thin),
        runner: Some(runner),
        supervisor: Some(supervisor),
        pump: Some(pump),
    }
}

/// Connects while `gate` is open and stands by while it is closed, for as long as the
/// manager exists. The gate's own deadline closes it even when nobody revokes it, so a
/// stalled lease renewal disconnects in time.
pub(super) async fn follow_gate(manager: std::sync::Weak<ClientManager>, gate: Arc<LeaseGate>) {
    loop {
        gate.opened().await;
        match manager.upgrade() {
            Some(manager) => {
                gate.set_idle(false);
                manager.resume().await;
            }
            None => return,
        }
        gate.closed().await;
        match manager.upgrade() {
            Some(manager) => {
                manager.suspend().await;
                gate.set_idle(true);
            }
            None => return,
        }
    }
}
