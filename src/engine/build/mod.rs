//! The build front end: a Dockerfile parsed into typed instructions, variables expanded as
//! Docker does, stages and the target's dependencies, .dockerignore, the build context and
//! the build plan the executor walks. No containers, no image store, no CLI here.

// The executor (issue 13) is the consumer; until it lands, parts are used only by tests.
#![allow(dead_code)]

pub mod args;
pub mod changes;
pub mod context;
pub mod dockerfile;
pub mod exec;
pub mod expand;
pub mod flags;
pub mod heredoc;
pub mod ignore;
pub mod instructions;
pub mod mounts;
pub mod plan;
pub mod stages;
pub mod steps;
pub mod words;
