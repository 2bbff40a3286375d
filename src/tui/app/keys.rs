//! Key routing: the filter line and the composer take every key first (`q` types a
//! q there); help scrolls or closes; a detail scrolls, copies, or hands the key on to
//! the list, acting on the row it shows; on the list a command moves, switches pane,
//! filters, or runs one of [`super::actions`].

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::{App, Effect, ListState, Mode, Panel, READ_ONLY, SCAN_SLICE};
use crate::store::Store;
use crate::tui::keymap::{self, Command};
use crate::tui::view::Pane;

impl App {
    /// Text pasted into the terminal (bracketed paste): into the filter or the reply
    /// being typed, control characters dropped (newlines kept in a reply).
    pub fn handle_paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::Filter => {
                self.input
                    .extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
                self.refilter();
            }
            Mode::Compose(c) => {
                // Terminals paste line breaks as CR or CRLF; tabs become spaces.
                let text = text
                    .replace("\r\n", "\n")
                    .replace('\r', "\n")
                    .replace('\t', "    ");
                let clean: String = text
                    .chars()
                    .filter(|c| *c == '\n' || !c.is_control())
                    .collect();
                c.textarea.insert_str(clean);
            }
            _ => {}
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent, store: &Store) -> Option<Effect> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        self.notice = None;
        let quit = keymap::lookup(&key) == Some(Command::Quit);
        if !(quit && matches!(self.mode, Mode::Normal | Mode::Detail(_))) {
            self.quit_armed = false;
        }
        // The filter line takes keys first: `q` types a q.
        if matches!(self.mode, Mode::Filter) {
            return self.filter_key(key);
        }
        if matches!(self.mode, Mode::Compose(_)) {
            return self.compose_key(key);
        }
        // A filter typed since the last frame is applied before any key acts on the rows
        // (while typing it waits for the frame, so fast typing does not rebuild per key).
        if std::mem::take(&mut self.filter_dirty) {
            self.views.rebuild(store, &self.filter);
            self.views
                .advance(store, &self.filter, self.pane, SCAN_SLICE);
            self.lists = [ListState::default(); 4];
        }
        let command = keymap::lookup(&key);
        // Ctrl-C is the deliberate stop: no question asked (outside help).
        if quit
            && key.modifiers.contains(KeyModifiers::CONTROL)
            && !matches!(self.mode, Mode::Help { .. })
        {
            return Some(Effect::Quit);
        }
        if let Mode::Help { scroll, .. } = &mut self.mode {
            // Scroll keys scroll; quit quits; any other key closes the help.
            match command {
                Some(Command::Down) => *scroll += 1,
                Some(Command::Up) => *scroll = scroll.saturating_sub(1),
                Some(Command::PageDown) => *scroll += self.page,
                Some(Command::PageUp) => *scroll = scroll.saturating_sub(self.page),
                // Any other key closes it, `q` included (help says so).
                _ => {
                    let Mode::Help { back, .. } = std::mem::replace(&mut self.mode, Mode::Normal)
                    else {
                        unreachable!()
                    };
                    self.mode = back.map_or(Mode::Normal, Mode::Detail);
                }
            }
            return None;
        }
        let command = command?;
        match &mut self.mode {
            Mode::Help { .. } | Mode::Compose(_) => {}
            Mode::Detail(d) => {
                let page = self.page.max(1);
                // The last screenful, not the last line alone on an empty screen.
                let max = d.max_scroll(page);
                match command {
                    Command::Down => d.scroll = (d.scroll + 1).min(max),
                    Command::Up => d.scroll = d.scroll.saturating_sub(1),
                    Command::PageDown => d.scroll = (d.scroll + page).min(max),
                    Command::PageUp => d.scroll = d.scroll.saturating_sub(page),
                    Command::Top => d.scroll = 0,
                    Command::Bottom => d.scroll = max,
                    Command::Back | Command::Open => self.close_detail(),
                    // The message this detail shows: answered, or its thread opened.
                    Command::Reply | Command::Conversation if d.message.is_some() => {
                        let ord = d.message.unwrap_or_default();
                        if command == Command::Reply && self.info.read_only {
                            self.notice = Some(READ_ONLY.into());
                            return None;
                        }
                        self.mode = Mode::Normal;
                        self.back_to = None;
                        match store.messages().get(ord) {
                            Some(m) if command == Command::Reply => self.compose_row(store, m),
                            Some(_) => self.open_thread(store, ord),
                            None => self.notice = Some("that message left the store".into()),
                        }
                    }
                    Command::Copy => {
                        let section = d.body_at(d.scroll, page).cloned();
                        return self.copy(section);
                    }
                    Command::Help => {
                        let Mode::Detail(d) = std::mem::replace(&mut self.mode, Mode::Normal)
                        else {
                            unreachable!()
                        };
                        self.mode = Mode::Help {
                            scroll: 0,
                            back: Some(d),
                        };
                    }
                    // Every other key does what it does on the list, to the row this
                    // detail shows (opening it froze the list on that row): `r` answers
                    // the message being read, `1`–`4` and Tab change pane, `/` filters.
                    _ => {
                        self.mode = Mode::Normal;
                        self.back_to = None;
                        return self.list_key(command, store);
                    }
                }
                return None;
            }
            Mode::Normal | Mode::Filter => {}
        }
        self.list_key(command, store)
    }

    /// A key on the list of the current pane.
    fn list_key(&mut self, command: Command, store: &Store) -> Option<Effect> {
        // A thread, then the Inbox, take their keys first (a pane key leaves them).
        if self.thread_key(command, store) {
            return self.earlier_history(command, store);
        }
        if self.inbox_key(command, store) {
            return None;
        }
        // The Alerts pane, and Attention when it lists alerts, move over those.
        let attention = self.overview.shown && self.overview.focus == Panel::Attention;
        if (self.alerts.shown || attention && !self.views.alerts.active.is_empty())
            && self.alerts_key(command, store)
        {
            return None;
        }
        if self.deliveries.shown && self.deliveries_key(command, store) {
            return None;
        }
        // Another view chosen: Esc no longer goes back to where an alert led from.
        if super::conversation::leaves(command)
            || matches!(command, Command::Inbox | Command::Conversation)
        {
            self.back_to = None;
        }
        let len = self.views.len(self.pane);
        let page = self.page.max(1);
        match command {
            Command::Quit => return self.quit(),
            Command::Help => {
                self.mode = Mode::Help {
                    scroll: 0,
                    back: None,
                }
            }
            Command::Overview => {
                self.latency = false;
                self.alerts.shown = false;
                self.deliveries.shown = false;
                self.show_overview();
            }
            Command::Latency => {
                self.latency = true;
                self.overview.shown = false;
                self.alerts.shown = false;
                self.deliveries.shown = false;
            }
            Command::Alerts => self.show_alerts(),
            Command::Inbox => self.show_inbox(),
            Command::Conversation => self.open_selected_thread(store),
            Command::Deliveries => self.show_deliveries(),
            Command::Zoom if self.overview.shown => self.overview.zoomed ^= true,
            Command::Zoom => self.notice = Some("z zooms a panel of the overview (0)".into()),
            Command::NextPane if self.overview.shown => self.next_panel(1),
            Command::PrevPane if self.overview.shown => self.next_panel(Panel::ALL.len() - 1),
            // From the Alerts pane, Tab goes back to the panes.
            Command::NextPane | Command::PrevPane if self.alerts.shown => self.alerts.shown = false,
            Command::NextPane => self.pane = Pane::ALL[(self.pane.index() + 1) % 4],
            Command::PrevPane => self.pane = Pane::ALL[(self.pane.index() + 3) % 4],
            Command::Messages | Command::Numbers | Command::Calls | Command::Feed => {
                self.overview.shown = false;
                self.latency = false;
                self.alerts.shown = false;
                self.deliveries.shown = false;
                self.pane = match command {
                    Command::Messages => Pane::Messages,
                    Command::Numbers => Pane::Numbers,
                    Command::Calls => Pane::Calls,
                    _ => Pane::Feed,
                };
            }
            Command::Down | Command::PageDown | Command::Bottom => {
                let step = match command {
                    Command::Down => 1,
                    Command::PageDown => page,
                    _ => len,
                };
                let l = self.list_mut();
                l.selected = (l.selected + step).min(len.saturating_sub(1));
                // Moving off the newest row freezes the view, so rows do not slide away.
                if l.selected > 0 {
                    self.follow = false;
                }
            }
            Command::Up | Command::PageUp => {
                let step = if command == Command::Up { 1 } else { page };
                let l = self.list_mut();
                l.selected = l.selected.saturating_sub(step);
            }
            // The newest row, and following again (as `f` would).
            Command::Top => {
                self.follow = true;
                self.lists
                    .iter_mut()
                    .for_each(|l| *l = ListState::default());
            }
            Command::Follow => {
                self.follow = !self.follow;
                if self.follow {
                    self.lists
                        .iter_mut()
                        .for_each(|l| *l = ListState::default());
                }
            }
            Command::Filter => {
                self.input = self.filter.query().to_owned();
                self.mode = Mode::Filter;
            }
            // Esc leaves a zoomed panel before it clears the filter.
            Command::Back if self.overview.shown && self.overview.zoomed => {
                self.overview.zoomed = false
            }
            Command::Back => {
                if !self.filter.is_empty() {
                    self.input.clear();
                    self.refilter();
                } else {
                    // On the row an alert or an attempt led to: back to that view.
                    self.go_back();
                }
            }
            Command::Open if self.overview.shown => return self.open_panel(store),
            Command::Open => return self.open(store),
            // A journal file is history: nothing in it can be answered or sent again.
            Command::Reply | Command::Retry | Command::Replay if self.info.read_only => {
                self.notice = Some(READ_ONLY.into());
            }
            Command::Reply => self.compose(store),
            Command::Retry => return self.retry(store),
            Command::Replay => return self.replay(store),
            Command::Export => return self.export(store),
            Command::Copy => {
                let section = self
                    .selected_detail(store)
                    .and_then(|d| d.bodies.into_iter().next());
                return self.copy(section);
            }
        }
        self.scroll_into_view();
        None
    }

    fn filter_key(&mut self, key: KeyEvent) -> Option<Effect> {
        match key.code {
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Esc => {
                self.input.clear();
                self.mode = Mode::Normal;
            }
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return Some(Effect::Quit);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.clear()
            }
            KeyCode::Char(c) if !c.is_control() => self.input.push(c),
            _ => return None,
        }
        self.refilter();
        None
    }

    fn compose_key(&mut self, key: KeyEvent) -> Option<Effect> {
        let Mode::Compose(c) = &mut self.mode else {
            return None;
        };
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            // Alt-Enter where the terminal tells it apart; Ctrl-J everywhere (raw mode
            // reports a line feed as Ctrl-J, which tui-textarea would use to delete).
            KeyCode::Enter if alt || key.modifiers.contains(KeyModifiers::SHIFT) => {
                c.textarea.insert_newline()
            }
            KeyCode::Char('j') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                c.textarea.insert_newline()
            }
            KeyCode::Enter => {
                if c.text().trim().is_empty() {
                    self.notice = Some("nothing to send".into());
                    return None;
                }
                // Into a closed window on a Meta number: the first Enter only warns.
                if !c.warned
                    && let Some(warning) = crate::tui::composer::window_warning(c.window(self.now))
                {
                    c.warned = true;
                    self.notice = Some(warning);
                    return None;
                }
                let (request, in_reply_to) = (c.request(), c.in_reply_to.clone());
                let (conversation, text) = (c.conversation.clone(), c.text());
                self.mode = Mode::Normal;
                self.notice = Some("sending…".into());
                self.pending = Some(crate::tui::progress::Pending::Reply {
                    key: request.idempotency_key.clone(),
                    attempt: 1,
                });
                self.drafts
                    .send(conversation, text, &request.idempotency_key);
                return Some(Effect::Send {
                    request,
                    in_reply_to,
                    attempt: 1,
                });
            }
            // Esc (and Ctrl-C, which would otherwise quit mid-sentence) close it; the
            // draft waits for the next `r` on this conversation.
            KeyCode::Esc => self.close_composer(),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.close_composer()
            }
            _ => {
                c.textarea.input(key);
            }
        }
        None
    }

    fn close_composer(&mut self) {
        if let Mode::Compose(c) = std::mem::replace(&mut self.mode, Mode::Normal)
            && self.drafts.keep(&c.conversation, c.text())
        {
            self.notice = Some("draft kept".into());
        }
    }
}
