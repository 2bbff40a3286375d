//! `pilotwatch open FILE`: a journal (or an export) read-only in the dashboard: no
//! receiver, nothing sent.

use std::path::Path;

use color_eyre::eyre::Result;

use super::Threads;
use crate::config::Settings;

pub fn run(journal: &Path, settings: &Settings) -> Result<()> {
    super::init_logging(true, settings);
    super::runtime(Threads::Many)?.block_on(crate::tui::open(journal, settings))
}
