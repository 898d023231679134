//! The end-to-end and backend suites, in one binary so that they link once.

mod config;
mod health;
mod migrations;
mod state_store;
