//! The Azure Pipelines agent: the environment a task receives, the logging commands it writes, and
//! the files its earlier steps left in its folders.

pub(crate) mod commands;
pub(crate) mod env;
pub(crate) mod files;
pub(crate) mod log;
pub(crate) mod time;

pub(crate) use env::AgentEnv;
pub(crate) use log::{Log, Style};
