//! Running one query for the actor: in a task of its own, on a permit from the pool, with its
//! error turned into an answer (never a crash) that names the disk when that is the likely
//! cause. Writes also sync the data dir first when `l2.sync = always`.

use std::path::PathBuf;
use std::sync::Arc;

use ractor::ActorRef;

use super::db::Db;
use super::durability;
use super::error::L2Error;
use super::message::ToDatabase;
use super::space;
use crate::tier::Reply;

/// What a query needs from the actor's state, taken before the task starts.
pub(super) struct Job {
    pub db: Arc<Db>,
    /// Told of a failed query (for stats).
    pub actor: ActorRef<ToDatabase>,
    /// The data dir when the database lives on this machine's disk.
    pub disk: Option<PathBuf>,
}

impl Job {
    /// Runs `run` and answers `reply` with its result.
    pub fn spawn<T, F, Fut>(self, reply: Reply<T>, run: F)
    where
        T: Send + 'static,
        F: FnOnce(Arc<Db>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send,
    {
        tokio::spawn(async move {
            let _ = reply.send(self.run(run).await.map_err(Into::into));
        });
    }

    /// Runs `run`, then syncs `dir` before answering: the write is acknowledged only once it
    /// is on disk (`l2.sync = always`).
    pub fn spawn_synced<T, F, Fut>(self, dir: PathBuf, reply: Reply<T>, run: F)
    where
        T: Send + 'static,
        F: FnOnce(Arc<Db>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send,
    {
        tokio::spawn(async move {
            let result = match self.run(run).await {
                Ok(value) => durability::sync(dir).await.map(|()| value),
                Err(e) => Err(e),
            };
            let _ = reply.send(result.map_err(Into::into));
        });
    }

    async fn run<T, F, Fut>(self, run: F) -> Result<T, L2Error>
    where
        F: FnOnce(Arc<Db>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let _permit = self.db.acquire().await.map_err(L2Error::Busy)?;
        run(self.db.clone()).await.map_err(|e| {
            let _ = self.actor.send_message(ToDatabase::QueryFailed);
            space::explain(L2Error::query(&e), self.disk.as_deref())
        })
    }
}
