//! The `spin:postgres@4.2.0` host interface, on sqlx's Postgres driver.
//!
//! Spin's rules hold: a component may open only an address whose
//! `postgres://host:port` its `allowed_outbound_hosts` allows (anything else
//! is `connection-failed` before a connection is made); the address is a URL
//! (`postgres://user:password@host:port/db`) or a key/value string
//! (`host=... port=... user=... dbname=...`). Each component gets a pool per
//! address, so no session state crosses components. A guest `connection`
//! holds one pooled connection for its lifetime, so `BEGIN` ... `COMMIT`
//! through it is one transaction; one left open when the guest drops the
//! connection (or traps) is rolled back before the connection returns to the
//! pool. Errors map to the interface's variants, with PostgreSQL's SQLSTATE
//! code and fields in `db-error`. TLS is not offered (`set-ca-root` says so).

#![allow(
    clippy::result_large_err,
    reason = "errors are the interface's own `error` variant, whose size its WIT fixes"
)]

mod values;

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions, PgSeverity};
use sqlx::{
    AssertSqlSafe, Column as _, Executor as _, Postgres, Row as _, SqlSafeStr as _, Statement as _,
};
use tokio::sync::Mutex;
use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

use crate::bindings::spin::postgres::postgres::{
    self, Column, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};
use crate::outbound::OutboundPolicy;
use crate::sql::{TransactionEffect, stream_rows, transaction_effect};

/// Connections one component keeps open to one address at most.
const POOL_SIZE: u32 = 8;
/// How long opening a connection may wait for the server or a free slot.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What one component may reach, and its pools (one per address it opened).
#[derive(Clone)]
pub struct PostgresCtx {
    outbound: OutboundPolicy,
    pools: Arc<std::sync::Mutex<HashMap<String, PgPool>>>,
}

impl PostgresCtx {
    /// A context for a component with this outbound allow-list.
    pub fn new(outbound: OutboundPolicy) -> Self {
        Self {
            outbound,
            pools: Arc::default(),
        }
    }

    async fn open(&self, address: &str) -> Result<Connection, Error> {
        let options = connect_options(address).map_err(Error::ConnectionFailed)?;
        let (host, port) = (options.get_host().to_owned(), options.get_port());
        if !self.outbound.allows_address("postgres", &host, port) {
            tracing::warn!(%host, port, "postgres connection refused: not in allowed_outbound_hosts");
            return Err(Error::ConnectionFailed(format!(
                "postgres://{host}:{port} is not allowed: add it to the component's allowed_outbound_hosts"
            )));
        }
        let pool = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            pools
                .entry(address.to_owned())
                .or_insert_with(|| {
                    PgPoolOptions::new()
                        .max_connections(POOL_SIZE)
                        .acquire_timeout(CONNECT_TIMEOUT)
                        .connect_lazy_with(options)
                })
                .clone()
        };
        let conn = pool
            .acquire()
            .await
            .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        Ok(Connection {
            inner: Arc::new(Mutex::new(Held {
                conn: Some(conn),
                in_transaction: false,
            })),
        })
    }
}

/// Parses an address in either of the forms `tokio-postgres` (and so Spin)
/// accepts.
fn connect_options(address: &str) -> Result<PgConnectOptions, String> {
    if address.starts_with("postgres://") || address.starts_with("postgresql://") {
        return PgConnectOptions::from_str(address)
            .map_err(|e| format!("the address is not a postgres URL: {e}"));
    }
    let mut options = PgConnectOptions::new_without_pgpass();
    let mut host = None;
    for pair in address.split_whitespace() {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("`{pair}` in the address is not key=value"))?;
        let value = value.trim_matches('\'');
        options = match key {
            "host" => {
                host = Some(value.to_owned());
                options.host(value)
            }
            "port" => options.port(
                value
                    .parse()
                    .map_err(|_| format!("port `{value}` is not a port"))?,
            ),
            "user" => options.username(value),
            "password" => options.password(value),
            "dbname" => options.database(value),
            "application_name" => options.application_name(value),
            _ => return Err(format!("the address key `{key}` is not supported")),
        };
    }
    if host.is_none() {
        return Err("the address names no host".into());
    }
    Ok(options)
}

/// The state behind a guest `connection` resource.
pub struct Connection {
    inner: Arc<Mutex<Held>>,
}

struct Held {
    conn: Option<PoolConnection<Postgres>>,
    /// Between a `BEGIN` and its `COMMIT`/`ROLLBACK`.
    in_transaction: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let (true, Some(mut conn)) = (self.in_transaction, self.conn.take()) {
            // Never hand a connection with an open transaction back to the pool.
            tokio::spawn(async move {
                if let Err(e) = conn.execute("ROLLBACK").await {
                    tracing::warn!("rolling back an abandoned transaction failed: {e}");
                    conn.close_on_drop();
                }
            });
        }
    }
}

impl Connection {
    async fn query(&self, sql: &str, params: Vec<ParameterValue>) -> Result<RowSet, Error> {
        let params = encode_all(params)?;
        let mut held = self.inner.lock().await;
        let result = async {
            let conn = held.conn()?;
            let statement = prepare(conn, sql).await?;
            let columns = statement
                .columns()
                .iter()
                .map(|c| Column {
                    name: c.name().to_owned(),
                    data_type: values::data_type(c.type_info()),
                })
                .collect();
            let rows = bind(statement.query(), params)
                .fetch_all(&mut **conn)
                .await
                .map_err(to_error)?;
            let rows = rows
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            let raw = row.try_get_raw(i).map_err(to_error)?;
                            values::decode(raw)
                                .map_err(|e| Error::ValueConversionFailed(e.to_string()))
                        })
                        .collect::<Result<Vec<DbValue>, Error>>()
                })
                .collect::<Result<_, _>>()?;
            Ok(RowSet { columns, rows })
        }
        .await;
        held.track(sql, result.is_ok());
        result
    }

    async fn execute(&self, sql: &str, params: Vec<ParameterValue>) -> Result<u64, Error> {
        let params = encode_all(params)?;
        let mut held = self.inner.lock().await;
        let result = async {
            let conn = held.conn()?;
            let statement = prepare(conn, sql).await?;
            Ok(bind(statement.query(), params)
                .execute(&mut **conn)
                .await
                .map_err(to_error)?
                .rows_affected())
        }
        .await;
        held.track(sql, result.is_ok());
        result
    }

    fn share(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl Held {
    fn conn(&mut self) -> Result<&mut PoolConnection<Postgres>, Error> {
        self.conn.as_mut().ok_or_else(|| {
            Error::Other("the connection was lost when a transaction was abandoned".into())
        })
    }

    /// Follows the connection's transaction from the statements that succeed.
    fn track(&mut self, sql: &str, succeeded: bool) {
        match transaction_effect(sql) {
            TransactionEffect::Begins if succeeded => self.in_transaction = true,
            TransactionEffect::Ends if succeeded => self.in_transaction = false,
            _ => {}
        }
    }
}

fn encode_all(params: Vec<ParameterValue>) -> Result<Vec<values::Param>, Error> {
    params
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            values::encode(p).map_err(|e| Error::BadParameter(format!("${}: {e}", i + 1)))
        })
        .collect()
}

/// Prepares the guest's statement; sqlx caches it on the connection, so
/// running it next costs no second parse.
async fn prepare(
    conn: &mut PoolConnection<Postgres>,
    sql: &str,
) -> Result<sqlx::postgres::PgStatement, Error> {
    // The guest's SQL is the component's own code, as in Spin; values are bound, never spliced.
    conn.prepare(AssertSqlSafe(sql).into_sql_str())
        .await
        .map_err(to_error)
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    params: Vec<values::Param>,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    for param in params {
        query = query.bind(param);
    }
    query
}

fn to_error(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(db) => match db.try_downcast_ref::<PgDatabaseError>() {
            Some(pg) => {
                let severity = severity(pg.severity());
                let extras = [
                    ("hint", pg.hint()),
                    ("schema", pg.schema()),
                    ("table", pg.table()),
                    ("column", pg.column()),
                    ("constraint", pg.constraint()),
                    ("routine", pg.routine()),
                ]
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
                .collect();
                Error::QueryFailed(QueryError::DbError(DbError {
                    as_text: format!("{severity}: {}", pg.message()),
                    severity: severity.into(),
                    code: pg.code().to_owned(),
                    message: pg.message().to_owned(),
                    detail: pg.detail().map(str::to_owned),
                    extras,
                }))
            }
            None => Error::QueryFailed(QueryError::Text(db.to_string())),
        },
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            Error::ConnectionFailed(e.to_string())
        }
        sqlx::Error::Encode(_) => Error::BadParameter(e.to_string()),
        sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
            Error::ValueConversionFailed(e.to_string())
        }
        _ => Error::QueryFailed(QueryError::Text(e.to_string())),
    }
}

fn severity(s: PgSeverity) -> &'static str {
    match s {
        PgSeverity::Panic => "PANIC",
        PgSeverity::Fatal => "FATAL",
        PgSeverity::Error => "ERROR",
        PgSeverity::Warning => "WARNING",
        PgSeverity::Notice => "NOTICE",
        PgSeverity::Debug => "DEBUG",
        PgSeverity::Info => "INFO",
        PgSeverity::Log => "LOG",
    }
}

/// [`HasData`] marker for `spin:postgres`.
pub struct SpinPostgres;

/// The store's view for `spin:postgres`.
pub struct PostgresView<'a> {
    /// The store's resource table.
    pub table: &'a mut ResourceTable,
    /// What this instance may open.
    pub ctx: &'a PostgresCtx,
}

impl HasData for SpinPostgres {
    type Data<'a> = PostgresView<'a>;
}

impl postgres::Host for PostgresView<'_> {}

/// The state behind a guest `connection-builder`: the address to open.
pub struct Builder {
    address: String,
}

fn connection(table: &ResourceTable, r: &Resource<Connection>) -> wasmtime::Result<Connection> {
    Ok(table.get(r)?.share())
}

impl PostgresView<'_> {
    async fn push_opened(
        &mut self,
        address: &str,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        match self.ctx.clone().open(address).await {
            Ok(conn) => Ok(Ok(self.table.push(conn)?)),
            Err(e) => Ok(Err(e)),
        }
    }
}

impl postgres::HostConnection for PostgresView<'_> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        self.push_opened(&address).await
    }

    async fn query(
        &mut self,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        Ok(connection(self.table, &this)?
            .query(&statement, params)
            .await)
    }

    async fn execute(
        &mut self,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        Ok(connection(self.table, &this)?
            .execute(&statement, params)
            .await)
    }

    async fn drop(&mut self, this: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl postgres::HostConnectionBuilder for PostgresView<'_> {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<Builder>> {
        Ok(self.table.push(Builder { address })?)
    }

    async fn set_ca_root(
        &mut self,
        _this: Resource<Builder>,
        _certificate: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(Err(Error::Other(
            "TLS connections are not supported by this host".into(),
        )))
    }

    async fn build(
        &mut self,
        this: Resource<Builder>,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let address = self.table.get(&this)?.address.clone();
        self.push_opened(&address).await
    }

    async fn drop(&mut self, this: Resource<Builder>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

type QueryStream = (
    Vec<Column>,
    StreamReader<Vec<DbValue>>,
    FutureReader<Result<(), Error>>,
);

async fn open_with<T>(
    accessor: &Accessor<T, SpinPostgres>,
    address: String,
) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
    let ctx = accessor.with(|mut a| a.get().ctx.clone());
    match ctx.open(&address).await {
        Ok(conn) => accessor.with(|mut a| Ok(Ok(a.get().table.push(conn)?))),
        Err(e) => Ok(Err(e)),
    }
}

impl<T> postgres::HostConnectionWithStore<T> for SpinPostgres {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        open_with(accessor, address).await
    }

    async fn query_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<QueryStream, Error>> {
        let conn = accessor.with(|mut a| connection(a.get().table, &this))?;
        let RowSet { columns, rows } = match conn.query(&statement, params).await {
            Ok(result) => result,
            Err(e) => return Ok(Err(e)),
        };
        accessor.with(|mut a| {
            let (rows, done) = stream_rows(&mut a, rows)?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let conn = accessor.with(|mut a| connection(a.get().table, &this))?;
        Ok(conn.execute(&statement, params).await)
    }
}

impl<T> postgres::HostConnectionBuilderWithStore<T> for SpinPostgres {
    async fn build_async(
        accessor: &Accessor<T, Self>,
        this: Resource<Builder>,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let address: String = accessor
            .with(|mut a| Ok::<_, wasmtime::Error>(a.get().table.get(&this)?.address.clone()))?;
        open_with(accessor, address).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_in_both_forms() {
        let url = connect_options("postgres://app:secret@db.example:6543/jiandu").unwrap();
        assert_eq!((url.get_host(), url.get_port()), ("db.example", 6543));
        let pairs = connect_options("host=127.0.0.1 port=5433 user=app dbname='test'").unwrap();
        assert_eq!((pairs.get_host(), pairs.get_port()), ("127.0.0.1", 5433));
        assert_eq!(pairs.get_database(), Some("test"));
        assert!(connect_options("user=app").is_err());
        assert!(connect_options("host=x sslcert=/etc/x").is_err());
        assert!(connect_options("postgres://[bad").is_err());
    }
}
