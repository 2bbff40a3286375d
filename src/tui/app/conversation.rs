//! Conversations (issue 19): `c` opens the thread with a message's contact on its
//! number (from the Messages pane, Flow, a message's detail, or an Inbox row), with the
//! composer docked under it; the Inbox (`6`) lists who waits for an answer, oldest
//! first. Both are screens over the panes, like Alerts: a pane key leaves them.

use super::{App, Effect, Mode};
use crate::store::Store;
use crate::store::conversations::ConversationKey;
use crate::tui::keymap::Command;
use crate::tui::view::inbox::InboxLines;
use crate::tui::view::thread::Thread;

/// The Inbox pane: shown or not, its selection, and its lines.
#[derive(Debug, Default)]
pub struct InboxPane {
    pub shown: bool,
    pub selected: usize,
    pub offset: usize,
    pub view: InboxLines,
}

/// An open thread and how far it is scrolled up (0: the newest at the bottom).
#[derive(Debug)]
pub struct ThreadView {
    pub thread: Thread,
    pub scroll: usize,
}

/// Commands that leave the thread and the inbox for another screen.
pub(super) fn leaves(c: Command) -> bool {
    matches!(
        c,
        Command::Overview
            | Command::Latency
            | Command::Alerts
            | Command::Deliveries
            | Command::Messages
            | Command::Numbers
            | Command::Calls
            | Command::Feed
            | Command::NextPane
            | Command::PrevPane
    )
}

impl App {
    /// At sync: the inbox's count (for the overview), its rows when shown, the thread.
    pub(super) fn sync_conversations(&mut self, store: &Store) {
        self.inbox.view.note(store);
        if self.inbox.shown {
            self.inbox.view.refresh(store);
            let len = self.inbox.view.lines.len();
            let page = self.page.max(1);
            let i = &mut self.inbox;
            i.selected = i.selected.min(len.saturating_sub(1));
            i.offset = i.offset.min(i.selected);
            if i.selected >= i.offset + page {
                i.offset = i.selected + 1 - page;
            }
        }
        if let Some(t) = &mut self.thread {
            t.thread.refresh(store);
        }
    }

    pub(super) fn show_inbox(&mut self) {
        self.inbox.shown = true;
        self.thread = None;
        self.overview.shown = false;
        self.latency = false;
        self.alerts.shown = false;
        self.deliveries.shown = false;
    }

    /// `c`: the thread of this message (its ordinal).
    pub(super) fn open_thread(&mut self, store: &Store, ord: u64) {
        let Some(m) = store.messages().get(ord) else {
            self.notice = Some("nothing selected".into());
            return;
        };
        self.open_key(store, ConversationKey::of(m));
    }

    fn open_key(&mut self, store: &Store, key: ConversationKey) {
        if store.conversations().get(&key).is_none() {
            self.notice = Some("no conversation for this message (no contact to talk to)".into());
            return;
        }
        self.mode = Mode::Normal;
        self.thread = Some(Box::new(ThreadView {
            thread: Thread::build(store, key),
            scroll: 0,
        }));
    }

    /// `c` on the list: the selected message's thread (Messages pane, Flow).
    pub(super) fn open_selected_thread(&mut self, store: &Store) {
        match self.selected_message(store) {
            Ok(_) => {
                let ord = self.selected_key().unwrap_or_default();
                self.open_thread(store, ord)
            }
            Err(why) => self.notice = Some(
                if why.contains("Messages pane") {
                    "c opens a message's conversation: pick one in Messages (1) or the Inbox (6)"
                } else {
                    why
                }
                .into(),
            ),
        }
    }

    /// Scrolled up to a thread's oldest line: the next page of the provider's history,
    /// when some was read and more is there.
    pub(super) fn earlier_history(&self, command: Command, store: &Store) -> Option<Effect> {
        let t = self.thread.as_ref()?;
        let up = matches!(command, Command::Up | Command::PageUp | Command::Bottom);
        let at_top = t.scroll + 1 >= t.thread.items.len();
        if !up || !at_top {
            return None;
        }
        let (read, total) = store.conversations().history_pages(&t.thread.key.number)?;
        (read < total).then_some(Effect::History { page: read + 1 })
    }

    /// A key while a thread is open; `false` hands it on (a pane key, help, quit).
    pub(super) fn thread_key(&mut self, command: Command, store: &Store) -> bool {
        let Some(t) = &mut self.thread else {
            return false;
        };
        let page = self.page.max(1);
        let max = t.thread.items.len().saturating_sub(1);
        match command {
            Command::Up => t.scroll = (t.scroll + 1).min(max),
            Command::Down => t.scroll = t.scroll.saturating_sub(1),
            Command::PageUp => t.scroll = (t.scroll + page).min(max),
            Command::PageDown => t.scroll = t.scroll.saturating_sub(page),
            Command::Top => t.scroll = 0,
            Command::Bottom => t.scroll = max,
            Command::Back => self.thread = None,
            Command::Reply if self.info.read_only => {
                self.notice = Some(super::READ_ONLY.into());
            }
            Command::Reply | Command::Open => match t.thread.answer {
                Some(ord) => {
                    let Some(m) = store.messages().get(ord) else {
                        self.notice = Some("its newest inbound message left the store".into());
                        return true;
                    };
                    self.compose_row(store, m);
                }
                None => {
                    self.notice = Some("nothing to answer here yet: the contact never wrote".into())
                }
            },
            Command::Inbox => self.show_inbox(),
            Command::Help | Command::Quit => return false,
            c if leaves(c) => {
                self.thread = None;
                self.inbox.shown = false;
                return false;
            }
            _ => self.notice = Some("in a conversation: r answers, Esc goes back".into()),
        }
        true
    }

    /// A key on the Inbox; `false` hands it on.
    pub(super) fn inbox_key(&mut self, command: Command, store: &Store) -> bool {
        if !self.inbox.shown {
            return false;
        }
        let len = self.inbox.view.lines.len();
        let page = self.page.max(1);
        let last = len.saturating_sub(1);
        match command {
            Command::Open | Command::Conversation | Command::Reply => {
                let Some(line) = self.inbox.view.lines.get(self.inbox.selected) else {
                    self.notice = Some("nobody is waiting".into());
                    return true;
                };
                let key = line.key.clone();
                self.open_key(store, key);
                if command == Command::Reply && self.thread.is_some() {
                    return self.thread_key(Command::Reply, store);
                }
                return true;
            }
            Command::Back | Command::Inbox => return true,
            c if leaves(c) => {
                self.inbox.shown = false;
                return false;
            }
            _ => {}
        }
        let i = &mut self.inbox;
        match command {
            Command::Down => i.selected = (i.selected + 1).min(last),
            Command::Up => i.selected = i.selected.saturating_sub(1),
            Command::PageDown => i.selected = (i.selected + page).min(last),
            Command::PageUp => i.selected = i.selected.saturating_sub(page),
            Command::Top => i.selected = 0,
            Command::Bottom => i.selected = last,
            _ => return false,
        }
        if i.selected < i.offset {
            i.offset = i.selected;
        } else if i.selected >= i.offset + page {
            i.offset = i.selected + 1 - page;
        }
        true
    }
}
