//! Recorded workflow histories and their replay against the current code,
//! so that a change which would break running workflows (nondeterminism)
//! fails the tests instead of production.
//!
//! Histories are stored as protobuf (`temporal.api.history.v1.History`).

use std::str::FromStr as _;

use prost::Message as _;
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, UntypedWorkflow, Url,
    WorkflowFetchHistoryOptions,
};
use temporalio_common::protos::temporal::api::history::v1::History;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

/// Recording or replaying failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HistoryError(String);

fn error(context: &str, e: impl std::fmt::Display) -> HistoryError {
    HistoryError(format!("{context}: {e}"))
}

/// Fetches the history of `workflow_id` from Temporal at `address`, as protobuf.
pub async fn fetch(
    address: &str,
    namespace: &str,
    workflow_id: &str,
) -> Result<Vec<u8>, HistoryError> {
    let url = Url::from_str(&format!("http://{address}")).map_err(|e| error("address", e))?;
    let connection = Connection::connect(ConnectionOptions::new(url).build())
        .await
        .map_err(|e| error("connecting to Temporal", e))?;
    let client = Client::new(connection, ClientOptions::new(namespace).build())
        .map_err(|e| error("creating a client", e))?;
    let events = client
        .get_workflow_handle::<UntypedWorkflow>(workflow_id)
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .map_err(|e| error("fetching the history", e))?;
    Ok(History { events }.encode_to_vec())
}

/// Replays recorded histories against the current workflow code; the error
/// names each history that no longer replays and why.
pub async fn replay(histories: Vec<(String, Vec<u8>)>) -> Result<usize, HistoryError> {
    let options = register_workflows!(WorkflowReplayerOptions::new())
        .map_err(|e| error("registering workflows", e))?
        .build();
    let replayer = WorkflowReplayer::new(options).map_err(|e| error("replayer", e))?;
    let mut names = Vec::new();
    let mut decoded = Vec::new();
    for (name, bytes) in histories {
        let history = History::decode(bytes.as_slice()).map_err(|e| error(&name, e))?;
        names.push(name);
        decoded.push(history.into());
    }
    let results = replayer
        .replay_workflows(decoded)
        .await
        .map_err(|e| error("replaying", e))?;
    let failures: Vec<String> = names
        .iter()
        .zip(&results)
        .filter_map(|(name, r)| r.replay_failure.as_ref().map(|f| format!("{name}: {f}")))
        .collect();
    if failures.is_empty() {
        Ok(results.len())
    } else {
        Err(HistoryError(failures.join("\n")))
    }
}
