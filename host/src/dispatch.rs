//! Running requests through component instances: wasmtime-wasi-http's
//! `ProxyHandler` does the dispatch and instance reuse; this module supplies
//! how instances are made, how long they live and when a request expires.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use wasmtime::component::GuestTaskId;
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};

use crate::limits::Limits;
use crate::store::{Grants, StoreState};

/// Makes instances of one component.
pub struct ComponentHandler {
    /// The component's id in the manifest, for logs.
    pub id: Arc<str>,
    /// The engine every store belongs to.
    pub engine: Engine,
    /// The pre-instantiated component.
    pub pre: ProxyPre<StoreState>,
    /// What its instances may use.
    pub grants: Grants,
    /// Limits for its instances and requests.
    pub limits: Arc<Limits>,
    /// Set when the server shuts down: instances dropped then did not fail.
    pub shutting_down: Arc<AtomicBool>,
}

impl HandlerState for ComponentHandler {
    type StoreData = StoreState;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<StoreState, Expiry, Worker>> {
        let mut store = Store::new(
            &self.engine,
            StoreState::new(&self.grants, self.limits.memory_bytes)?,
        );
        store.limiter(|state| &mut state.limits);
        // Yield to the event loop at every epoch tick, so a guest that loops
        // cannot starve other work and its request's time limit can fire.
        store.epoch_deadline_async_yield_and_update(1);
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy,
            view: <StoreState as WasiHttpView>::http,
            expiration: Expiry::new(self.limits.clone()),
            state: Worker {
                id: self.id.clone(),
                limits: self.limits.clone(),
                shutting_down: self.shutting_down.clone(),
            },
        })
    }
}

/// Ends an instance that has been busy too long (a runaway request) or idle
/// too long (nothing to do).
pub struct Expiry {
    limits: Arc<Limits>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    deadline: Option<Instant>,
}

impl Expiry {
    fn new(limits: Arc<Limits>) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(limits.idle_timeout)),
            limits,
            deadline: None,
        }
    }
}

impl WorkerExpiration for Expiry {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let allowed = match status {
            WorkerStatus::Idle => self.limits.idle_timeout,
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.limits.request_timeout,
        };
        let deadline = start + allowed;
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        if self.deadline != Some(deadline) {
            self.deadline = Some(deadline);
            self.sleep.as_mut().reset(deadline.into());
        }
        self.sleep.as_mut().poll(cx)
    }
}

/// Decides how many requests an instance takes.
pub struct Worker {
    id: Arc<str>,
    limits: Arc<Limits>,
    shutting_down: Arc<AtomicBool>,
}

impl WorkerState for Worker {
    type StoreData = StoreState;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.limits.instance_reuse {
            ShouldAccept::Never
        } else if concurrent >= self.limits.instance_concurrency {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, StoreState>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        Box::pin(tokio::time::sleep(self.limits.request_timeout))
    }

    fn drop(&self, store: Store<StoreState>, result: wasmtime::Result<()>) {
        match result {
            Err(e) if !self.shutting_down.load(Ordering::Relaxed) => {
                tracing::warn!(component = %self.id, "instance ended abnormally: {e:#}");
            }
            _ => {}
        }
        drop(store);
    }
}
