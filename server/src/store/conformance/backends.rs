//! The suite goes through the server's facade [`Store`], so what it checks is what
//! the server gets, shared rules included: a facade over the sled store, and one
//! over the PostgreSQL store on a fresh database of the test server.

use std::sync::Arc;

use crate::store::Store;
use crate::store::postgres::PgStore;
use crate::test_postgres::TestPostgres;

pub fn sled() -> (tempfile::TempDir, Store) {
    crate::store::test_support::temp_facade()
}

pub async fn postgres() -> (Arc<TestPostgres>, Store) {
    let pg = TestPostgres::shared().expect("PostgreSQL for the tests");
    let url = pg.database().expect("a database");
    let store = PgStore::connect(&url, 8).await.expect("connect");
    (pg, store.into())
}
