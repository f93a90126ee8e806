//! What commands mean, independent of the terminal: images (reference, registry, pull,
//! store) and host information. Must not print to the terminal or parse argv.

pub mod image;
pub mod info;
