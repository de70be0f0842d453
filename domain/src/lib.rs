//! Jiandu's domain rules: organisations and roles, reports, clues, steps,
//! deadlines, escalation, the PRC working-day calendar and the messages
//! that drive the workflows.
//!
//! This crate does no I/O and compiles for both `wasm32-wasip2` (components)
//! and native targets (host, worker).

pub mod audit;
pub mod calendar;
pub mod clue;
pub mod deadline;
pub mod detention;
pub mod disclosure;
pub mod escalation;
pub mod flow;
pub mod ledger;
pub mod org;
pub mod report;
pub mod sanzi;
pub mod screening;
pub mod step;
pub mod supervision;
pub mod wire;

/// One problem with a request body, located by a JSON pointer (RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Where the problem is, e.g. `/reporter/phone`; empty for the whole body.
    pub pointer: String,
    /// What is wrong, in words a client developer can act on.
    pub message: String,
}

impl FieldError {
    /// A problem at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}
