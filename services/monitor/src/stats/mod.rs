//! The Leerplein's figures: counted from the log on peildata, protected before they are shown.

pub mod figures;
pub mod log;
pub mod suppress;

#[cfg(test)]
mod golden;
