//! Pagination as streams and as a blocking iterator, over [`Pager`].

use std::collections::VecDeque;

use futures::stream::{self, Stream};
use serde_json::Value;

use super::Deck;
use crate::engine::Pager;
use crate::error::Result;

/// The pages of `pager`, as a stream; a pager that failed to start yields its error once.
pub(super) fn pages(pager: Result<Pager>) -> impl Stream<Item = Result<Vec<Value>>> + Send {
    stream::unfold(Some(pager), |state| async move {
        match state? {
            Err(e) => Some((Err(e), None)),
            Ok(mut pager) => match pager.next_page().await {
                Ok(Some(items)) => Some((Ok(items), Some(Ok(pager)))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            },
        }
    })
}

/// The items of `pager`, one by one.
pub(super) fn items(pager: Result<Pager>) -> impl Stream<Item = Result<Value>> + Send {
    use futures::StreamExt;
    pages(pager).flat_map(|page| {
        stream::iter(match page {
            Ok(items) => items.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    })
}

/// The items of a list operation as a blocking iterator; each page is
/// fetched when the previous one is used up. An error ends the iteration
/// after it is yielded.
#[derive(Debug)]
pub struct BlockingItems {
    deck: Deck,
    pager: Option<Result<Pager>>,
    buffered: VecDeque<Value>,
}

impl BlockingItems {
    pub(super) fn new(deck: Deck, pager: Result<Pager>) -> Self {
        BlockingItems { deck, pager: Some(pager), buffered: VecDeque::new() }
    }

    /// The pager, for its progress.
    pub fn pager(&self) -> Option<&Pager> {
        self.pager.as_ref().and_then(|p| p.as_ref().ok())
    }
}

impl Iterator for BlockingItems {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Some(Ok(item));
            }
            let pager = match self.pager.take()? {
                Err(e) => return Some(Err(e)),
                Ok(pager) => pager,
            };
            let mut pager = pager;
            match self.deck.block_on(pager.next_page()) {
                Err(e) | Ok(Err(e)) => return Some(Err(e)),
                Ok(Ok(None)) => return None,
                Ok(Ok(Some(items))) => {
                    self.buffered.extend(items);
                    self.pager = Some(Ok(pager));
                }
            }
        }
    }
}
