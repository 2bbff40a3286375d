//! What a command does to the selected row: open its detail, answer it (`r`), send a
//! failed reply again (`R`), replay a delivery to the app (`x`), export the rows shown,
//! copy a payload (`y`), and quit, asking first when that stops the receiver.

use super::{App, Effect, Mode};
use crate::model::outbound::ReplyPhase;
use crate::store::Store;
use crate::tui::composer::{self, Composer};
use crate::tui::detail::{self, Detail};
use crate::tui::view::Pane;

impl App {
    /// The message selected in the Messages pane, or why there is none.
    pub(super) fn selected_message<'s>(
        &self,
        store: &'s Store,
    ) -> Result<&'s crate::store::MessageRow, &'static str> {
        if self.pane != Pane::Messages {
            return Err("replies start from the Messages pane (1)");
        }
        self.selected_key()
            .and_then(|o| store.messages().get(o))
            .ok_or("nothing selected")
    }

    pub(super) fn compose(&mut self, store: &Store) {
        let m = match self.selected_message(store) {
            Ok(m) => m,
            Err(why) => {
                if self.info.api_key.is_some() {
                    self.notice = Some(why.into());
                    return;
                }
                // Without a key, that is what to say first.
                return self.no_key();
            }
        };
        self.compose_row(store, m);
    }

    fn no_key(&mut self) {
        self.notice = Some(match self.attach {
            Some(_) => {
                "the service has no API key: set it where `pilotwatch serve` runs, then restart it"
                    .into()
            }
            None => format!("{}, then restart pilotwatch", crate::reply::NO_KEY),
        });
    }

    /// The composer, answering `m` (from the list, a detail, or a thread).
    pub(super) fn compose_row(&mut self, store: &Store, m: &crate::store::MessageRow) {
        if self.info.api_key.is_none() {
            return self.no_key();
        }
        if let Some(why) = composer::refuse(m) {
            self.notice = Some(why.into());
            return;
        }
        let conversation = Composer::new(m, store, None).map(|c| c.conversation);
        let draft = conversation.and_then(|k| self.drafts.draft(&k));
        match Composer::new(m, store, draft) {
            Some(mut c) => {
                c.key = self.drafts.key(&c.conversation).map(str::to_owned);
                if matches!(c.to, composer::Target::Contact(_)) {
                    (c.opened, c.meta) = crate::tui::view::thread::window_of(store, m);
                }
                // Writing again after a failed or interrupted send would get a new key:
                // point at the safe retry instead.
                if let Some(r) = store
                    .replies()
                    .latest_to(m.kind.name(), m.id())
                    .filter(|r| r.phase != ReplyPhase::Accepted)
                {
                    let state = r.error.as_ref().map_or_else(
                        || "never got an answer".to_owned(),
                        |e| format!("failed ({})", e.short()),
                    );
                    c.context.push((
                        "Note".into(),
                        format!("the last reply here {state}: Esc, then R resends it with its key"),
                    ));
                }
                self.mode = Mode::Compose(Box::new(c));
            }
            None => self.notice = Some("this message has no sender to answer".into()),
        }
    }

    pub(super) fn retry(&mut self, store: &Store) -> Option<Effect> {
        let m = match self.selected_message(store) {
            Ok(m) => m,
            Err(why) => {
                self.notice = Some(why.into());
                return None;
            }
        };
        let Some(reply) = store.replies().latest_to(m.kind.name(), m.id()) else {
            self.notice = Some("no reply to retry here".into());
            return None;
        };
        let key = reply.request.idempotency_key.clone();
        if self.drafts.in_flight(&key) {
            self.notice = Some("that reply is on its way: wait for its answer".into());
            return None;
        }
        // Sending with no outcome and nothing in flight: the attempt was interrupted (a
        // quit or crash mid-request). Retrying with the same key is safe: the provider
        // answers a repeat with its first answer instead of sending again.
        let what = match reply.phase {
            ReplyPhase::Failed => "retrying",
            ReplyPhase::Sending => "the last attempt was interrupted; retrying",
            ReplyPhase::Accepted => {
                self.notice = Some("already accepted by the API".into());
                return None;
            }
        };
        self.notice = Some(format!(
            "{what} with the same key (attempt {})…",
            reply.attempts.saturating_add(1)
        ));
        self.pending = Some(crate::tui::progress::Pending::Reply {
            key: key.clone(),
            attempt: reply.attempts.saturating_add(1),
        });
        self.drafts.resend(key, reply.attempts.saturating_add(1));
        Some(Effect::Send {
            request: reply.request.clone(),
            in_reply_to: reply.in_reply_to.clone()?,
            attempt: reply.attempts.saturating_add(1),
        })
    }

    pub(super) fn replay(&mut self, store: &Store) -> Option<Effect> {
        if self.info.forward_to.is_none() {
            self.notice = Some("nothing to replay to: start with --forward-to URL".into());
            return None;
        }
        if self.pane != Pane::Feed {
            self.notice = Some("replays start from the Feed pane (4)".into());
            return None;
        }
        let seq = self.selected_key()?;
        self.notice = Some(format!("replaying #{seq} to the app…"));
        self.pending = Some(crate::tui::progress::Pending::Replay {
            seq,
            seen: store.forwards().of(seq).len(),
        });
        Some(Effect::Replay(seq))
    }

    /// The deliveries behind the rows of the current (filtered) view, as journal lines:
    /// `pilotwatch open` reads the file back.
    pub(super) fn export(&mut self, store: &Store) -> Option<Effect> {
        // An export holds every matching row: a pass still running is finished first.
        self.views.advance(
            store,
            &self.filter,
            self.pane,
            std::time::Duration::from_secs(86_400),
        );
        let mut seqs: Vec<u64> = Vec::new();
        let len = self.views.len(self.pane);
        for i in 0..len {
            let Some(key) = self.views.key_at(self.pane, i) else {
                continue;
            };
            match self.pane {
                Pane::Feed => seqs.push(key),
                Pane::Messages => seqs.extend(
                    store
                        .messages()
                        .get(key)
                        .map(|m| m.seqs.clone())
                        .unwrap_or_default(),
                ),
                Pane::Calls => seqs.extend(
                    store
                        .calls()
                        .row(key)
                        .map(|c| c.seqs.clone())
                        .unwrap_or_default(),
                ),
                Pane::Numbers => {
                    let id = self
                        .views
                        .numbers
                        .get(key as usize)
                        .map(|n| n.raw_id.clone());
                    seqs.extend(
                        id.and_then(|id| store.numbers().get(&id))
                            .map(|n| n.seqs.clone())
                            .unwrap_or_default(),
                    );
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        let mut lines = Vec::new();
        for r in store.with_forwards(&seqs) {
            crate::journal::line::encode(r, &mut lines);
        }
        Some(Effect::Export { lines, rows: len })
    }

    pub(super) fn selected_key(&self) -> Option<u64> {
        self.views.key_at(self.pane, self.list().selected)
    }

    pub(super) fn selected_detail(&self, store: &Store) -> Option<Detail> {
        let key = self.selected_key()?;
        match self.pane {
            Pane::Messages => detail::message(store, key, self.theme),
            Pane::Calls => detail::call(store, key, self.theme),
            Pane::Feed => detail::record(store, key, self.theme),
            Pane::Numbers => None,
        }
    }

    pub(super) fn open(&mut self, store: &Store) -> Option<Effect> {
        if self.pane == Pane::Numbers {
            // Enter on a number: its messages.
            let id = self
                .selected_key()
                .and_then(|i| self.views.numbers.get(i as usize))
                .map(|n| n.raw_id.clone());
            if let Some(id) = id {
                self.input = format!("number:{id}");
                self.refilter();
                self.pane = Pane::Messages;
            }
            return None;
        }
        match self.selected_detail(store) {
            Some(d) => {
                // Reading a row: the list stays on it (keys in the detail act on it).
                self.follow = false;
                self.mode = Mode::Detail(Box::new(d));
            }
            None => self.notice = Some("nothing selected".into()),
        }
        None
    }

    /// `q`: a dashboard that is also the receiver asks first, since quitting it stops
    /// taking deliveries; attached and read-only dashboards just go.
    pub(super) fn quit(&mut self) -> Option<Effect> {
        let receiver = self.attach.is_none() && !self.info.read_only;
        if !receiver || std::mem::take(&mut self.quit_armed) {
            return Some(Effect::Quit);
        }
        self.quit_armed = true;
        // Short enough for 80 columns; README says `pilotwatch serve` keeps one running.
        self.notice = Some(format!(
            "q again quits: the receiver on {} stops too",
            self.info.listen
        ));
        None
    }

    /// `y`: a delivery's raw body to the clipboard, saying which one it was.
    pub(super) fn copy(&mut self, section: Option<detail::Section>) -> Option<Effect> {
        match section {
            Some(s) => {
                self.notice = Some(format!(
                    "copied #{} {} ({} bytes, OSC 52)",
                    s.seq,
                    s.event,
                    s.body.len()
                ));
                Some(Effect::Copy(s.body))
            }
            None => {
                self.notice = Some("nothing to copy".into());
                None
            }
        }
    }
}
