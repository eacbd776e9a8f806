//! Keeper: a self-hosted vault for bank cards and service passwords.
//!
//! People reach it with `ssh`, programs through HTTP. The crate is layered:
//! handlers (`ssh`, `shell`) call `service`, which owns the business rules,
//! authorisation, audit and crypto orchestration, and reaches the database
//! only through `storage`. `domain` holds the types that parse user input
//! once; `crypto` the key hierarchy.

// Outside tests, a failure is an error the caller handles, never a panic.
#![cfg_attr(not(test), warn(clippy::expect_used, clippy::panic))]

pub mod admin;
pub mod app;
pub mod checkpoint;
pub mod client;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod editor;
pub mod http;
pub mod interchange;
pub mod metrics;
pub mod net;
pub mod service;
pub mod shell;
pub mod ssh;
pub mod storage;
pub mod telemetry;
pub mod views;
