//! The Azure Pipelines agent: the environment a task receives and the logging commands it writes.

pub(crate) mod commands;
pub(crate) mod env;
pub(crate) mod log;

pub(crate) use env::AgentEnv;
pub(crate) use log::{Log, Style};
