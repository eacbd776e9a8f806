//! Group commit of audit records that stand alone (reads, failed logins):
//! callers queue their record, one task writes everything queued in a single
//! transaction, and each caller hears back once that transaction is
//! committed. Alone, a record is written at once; under load one commit
//! serves many requests. Records that belong to a change are written in the
//! change's own transaction instead.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{AuditRecord, StoreError};
use crate::crypto::AuditKey;

/// Most records one group commit writes.
const GROUP: usize = 256;

type Queued = (AuditRecord, oneshot::Sender<Result<(), StoreError>>);

/// A store's audit log: the key its chains are MAC'd under, and the queue
/// in front of the group-commit task.
#[derive(Debug, Clone)]
pub(super) struct AuditLog {
    key: Arc<AuditKey>,
    queue: mpsc::Sender<Queued>,
}

impl AuditLog {
    /// Spawns the task that writes each group with `write`, to the
    /// database of `pool` and under `key`.
    pub(super) fn spawn<P, W, F>(pool: P, key: AuditKey, write: W) -> Self
    where
        P: Clone + Send + 'static,
        W: Fn(P, Arc<AuditKey>, Vec<AuditRecord>) -> F + Send + 'static,
        F: Future<Output = Result<(), StoreError>> + Send,
    {
        let key = Arc::new(key);
        let (queue, mut queued) = mpsc::channel::<Queued>(4 * GROUP);
        let task_key = key.clone();
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(GROUP);
            while queued.recv_many(&mut group, GROUP).await > 0 {
                let (records, waiting): (Vec<_>, Vec<_>) = group.drain(..).unzip();
                let result = write(pool.clone(), task_key.clone(), records).await;
                for done in waiting {
                    let _ = done.send(result.clone());
                }
            }
        });
        Self { key, queue }
    }

    pub(super) fn key(&self) -> &AuditKey {
        &self.key
    }

    /// Queues `audit` and waits until it is committed.
    pub(super) async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        let closed = || StoreError::Unexpected("the audit writer has stopped".into());
        self.queue
            .send((audit.clone(), done))
            .await
            .map_err(|_| closed())?;
        committed.await.map_err(|_| closed())?
    }
}
