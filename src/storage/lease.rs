//! Connections for single statements, lent without sqlx's pool.
//!
//! sqlx's pool tests every connection it gets back: it spawns a task that
//! pings the connection before it may be lent again. On SQLite that ping is
//! one more round trip to the connection's worker thread, on PostgreSQL one
//! more round trip to the server, for every statement run on the pool. The
//! hot reads (a request's token, one item, a list) are one statement each,
//! so that test doubled what they cost. A [`Lease`] is given back untested:
//! it has only run whole statements outside any transaction, which leave
//! nothing behind. A lease dropped before it is given back (its request
//! was cancelled mid-statement) closes its connection, and so does one
//! whose statement failed, since it may have been lost with the server
//! (the idle ones are closed with it); a new connection is opened in its
//! place when one is next needed.

use std::sync::Mutex;

use sqlx::{ConnectOptions, Connection, Database};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::StoreError;

type Options<DB> = <<DB as Database>::Connection as Connection>::Options;

/// At most `size` connections to one database, opened as they are first
/// needed.
pub(super) struct Leases<DB: Database> {
    options: Options<DB>,
    idle: Mutex<Vec<DB::Connection>>,
    permits: Semaphore,
}

impl<DB: Database> std::fmt::Debug for Leases<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl<DB: Database> Leases<DB> {
    pub(super) fn new(options: Options<DB>, size: usize) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
        }
    }

    /// A connection, once one of the `size` is free: an idle one, or a new
    /// one if none is idle.
    pub(super) async fn lease(&self) -> Result<Lease<'_, DB>, StoreError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unexpected("the store is closed".into()))?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.options.connect().await?,
        };
        Ok(Lease {
            conn,
            _permit: permit,
        })
    }

    /// Takes `lease` back once its statement gave `result`: kept for the
    /// next lease if the statement succeeded. If it failed, it is closed,
    /// and so is every idle connection: a failure is most often the
    /// server lost, which takes all of them, and the next lease then
    /// opens a new one instead of finding another dead one.
    pub(super) fn give_back<T>(&self, lease: Lease<'_, DB>, result: &Result<T, StoreError>) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        if result.is_ok() {
            idle.push(lease.conn);
        } else {
            idle.clear();
        }
    }

    /// Whether [`Leases::close`] was called.
    pub(super) fn is_closed(&self) -> bool {
        self.permits.is_closed()
    }

    /// Closes every idle connection; leases taken after this fail.
    pub(super) async fn close(&self) {
        self.permits.close();
        let idle = match self.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => Vec::new(),
        };
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

/// One connection of a [`Leases`], until it is given back.
pub(super) struct Lease<'a, DB: Database> {
    pub(super) conn: DB::Connection,
    _permit: SemaphorePermit<'a>,
}
