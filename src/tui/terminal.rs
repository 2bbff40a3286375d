//! Entering and leaving the full-screen terminal, and making sure we always leave: on
//! quit, on error (a guard's Drop), and on a panic of the UI thread (the hook). A panic
//! on another thread (a receiver task) must not tear the screen down: it is logged.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Leave raw mode and the alternate screen; safe to call more than once.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let mut out = io::stdout();
        let _ = execute!(
            out,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            crossterm::cursor::Show
        );
        let _ = out.flush();
    }
}

/// The terminal is gone (the SSH connection dropped, SIGHUP): writing the restore
/// sequences could block on a dead tty, so forget it without a word.
pub fn abandon(guard: Guard) {
    ACTIVE.store(false, Ordering::SeqCst);
    // ratatui's Terminal shows the cursor when dropped: that is a write too.
    std::mem::forget(guard);
}

/// The terminal, restored when dropped.
#[derive(Debug)]
pub struct Guard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

pub fn enter() -> io::Result<Guard> {
    install_panic_hook(std::thread::current().id());
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(out))?;
    terminal.clear()?;
    terminal.hide_cursor()?;
    Ok(Guard { terminal })
}

fn install_panic_hook(ui: ThreadId) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui || !ACTIVE.load(Ordering::SeqCst) {
            restore();
            previous(info);
        } else {
            // Elsewhere (a request handler, a writer): the dashboard stays up; the log
            // file gets the story. Printing here would scribble over the screen.
            tracing::error!(panic = %crate::sanitize::line(&info.to_string(), 2000), "panic outside the UI thread");
        }
    }));
}
