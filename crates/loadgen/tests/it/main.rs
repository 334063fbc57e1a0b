//! Integration tests of the load generator against a real server started in-process.

mod small_run;
