//! How a dashboard asks the reconciler for a page of history (a thread scrolled up).

/// Asks the reconciler for a page of the key's number's message history (1: the newest),
/// for a conversation's earlier messages. Each page is read once.
#[derive(Debug, Clone)]
pub struct HistoryRequests(tokio::sync::mpsc::UnboundedSender<u32>);

impl HistoryRequests {
    pub fn page(&self, page: u32) {
        let _ = self.0.send(page.max(1));
    }
}

/// A way to ask for history pages, and the reconciler's end of it.
pub fn history_channel() -> (HistoryRequests, HistoryQueue) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    (HistoryRequests(tx), HistoryQueue(rx))
}

/// The reconciler's end of [`HistoryRequests`].
#[derive(Debug)]
pub struct HistoryQueue(pub(super) tokio::sync::mpsc::UnboundedReceiver<u32>);
