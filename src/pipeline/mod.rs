//! The Azure Pipelines agent: the environment a task receives and the logging commands it writes.

pub mod commands;
pub mod env;
pub mod log;

pub use env::AgentEnv;
pub use log::{Log, Style, TaskResult};
