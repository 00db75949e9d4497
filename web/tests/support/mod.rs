pub mod browser;
pub mod site;
