//! The analytics crate against outside references: a statistics package's figures and
//! simulated sittings.

mod fixture;
mod sim;
mod similarity;
mod timing;
