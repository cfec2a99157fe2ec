//! Configuration: file, environment and flags merged into one validated [`Config`].

mod load;
mod model;
mod paths;
mod show;
mod size;

#[cfg(any(fuzzing, test))]
pub use load::load_text;
pub use load::{ConfigError, Loaded, Overrides, load};
pub use model::{
    BreakerConfig, Config, GithubConfig, L2Backend, L2Config, MAX_FRAME_CEILING, Strategy,
    StrategyConfig, TtlConfig, WriteBehindConfig,
};
pub use show::render;
#[cfg(test)]
pub use size::ByteSize;
