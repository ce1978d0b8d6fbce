//! Moving to rvc from other tools: `rvc import dvc`.

pub mod dvc;
