//! End-to-end tests of the `ujian` server: a real server on port 0, real WebSocket clients,
//! real databases (SQLite, and PostgreSQL when `UJIAN_TEST_PG` is set), the real binary
//! for the CLI and crash tests, and headless Chromium for the candidate page.

mod analyze;
mod announce;
mod audit;
mod board;
mod browser;
mod candidate;
mod cli;
mod console;
mod crash;
mod edge;
mod exports;
mod helpers;
mod lockout;
mod login;
mod oracle;
mod receipts;
mod results;
mod seats;
mod selection;
mod structure;
