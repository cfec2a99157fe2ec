//! Configuration: file, environment and flags merged into one validated [`Config`].

mod ahead;
mod by_kind;
mod env;
mod error;
mod load;
mod model;
mod paths;
mod show;
mod size;
mod source;
mod validate;

pub use ahead::{PrefetchConfig, RefreshAheadConfig};
pub use by_kind::{Strategy, StrategyConfig, TtlConfig};
#[cfg(any(fuzzing, test))]
pub use load::load_text;
pub use load::{ConfigError, Loaded, Overrides, load};
pub use model::{
    BreakerConfig, Config, GithubConfig, L2Backend, L2Config, RegistryConfig, SyncMode,
    WriteBehindConfig,
};
#[cfg(test)]
pub use model::{NamespaceConfig, Secret};
pub use show::render;
#[cfg(test)]
pub use size::ByteSize;
