//! Configuration: file, environment and flags merged into one validated [`Config`].

mod load;
mod model;
mod paths;
mod show;
mod size;

pub use load::{ConfigError, Loaded, Overrides, Source, load, load_text};
pub use model::{
    BreakerConfig, Config, DaemonConfig, FileConfig, GithubConfig, L1Config, L2Backend, L2Config,
    MAX_FRAME_CEILING, Secret, Strategy, StrategyConfig, TtlConfig, WriteBehindConfig,
};
pub use show::render;
pub use size::ByteSize;
