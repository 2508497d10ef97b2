//! Watch events encoded once for all their watchers.
//!
//! A comment approved on an article with a thousand watchers is sent a
//! thousand times. tonic encodes each message it sends; the server is built
//! (see `build.rs`) to send [`EncodedEvent`]s instead, so that the event is
//! converted and encoded once and each watcher's stream sends the same
//! bytes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use prost::Message;
use prost::bytes::{BufMut, Bytes};
use prost::encoding::{DecodeContext, WireType};

use super::convert;
use crate::domain::CommentEvent;
use crate::proto;

/// A `WatchCommentsResponse`, already encoded. On the wire it is the
/// message itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncodedEvent(Bytes);

impl EncodedEvent {
    pub fn encode(response: &proto::WatchCommentsResponse) -> EncodedEvent {
        EncodedEvent(response.encode_to_vec().into())
    }
}

impl Message for EncodedEvent {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        // The server only sends these. Decoding stays exact all the same:
        // the field is merged into the message and the whole re-encoded.
        let mut response = proto::WatchCommentsResponse::decode(self.0.clone())?;
        response.merge_field(tag, wire_type, buf, ctx)?;
        *self = EncodedEvent::encode(&response);
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0 = Bytes::new();
    }
}

/// The encodings of the events sent last. The feed hands every live watcher
/// of an event the same `Arc`, so the first watcher to send it encodes it
/// and the others find it here.
#[derive(Debug, Default)]
pub struct EventEncodings {
    recent: Mutex<VecDeque<(Arc<CommentEvent>, EncodedEvent)>>,
}

/// Events remembered: more than a burst of approvals on different articles
/// interleaves before their watchers have sent them.
const REMEMBERED_EVENTS: usize = 64;

impl EventEncodings {
    pub fn get(&self, event: &Arc<CommentEvent>) -> EncodedEvent {
        // Read back from storage for this watcher alone: nobody to share with.
        if Arc::strong_count(event) == 1 {
            return EncodedEvent::encode(&convert::event(event));
        }
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, encoded)) = recent.iter().rev().find(|(e, _)| Arc::ptr_eq(e, event)) {
            return encoded.clone();
        }
        let encoded = EncodedEvent::encode(&convert::event(event));
        if recent.len() == REMEMBERED_EVENTS {
            recent.pop_front();
        }
        recent.push_back((Arc::clone(event), encoded.clone()));
        encoded
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        ArticleId, AuthorId, AuthorName, Comment, CommentBody, CommentId, CommentStatus, Cursor,
        EventKind, Timestamp,
    };
    use crate::moderation::{Action, Verdict};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn event(cursor: u64) -> Result<Arc<CommentEvent>, Box<dyn std::error::Error>> {
        let at = Timestamp::from_unix_micros(1_800_000_000_000_000 + cursor);
        Ok(Arc::new(CommentEvent {
            cursor: Cursor::new(cursor),
            kind: EventKind::Published,
            at,
            comment: Comment {
                id: CommentId::new(cursor),
                article_id: ArticleId::parse("visas")?,
                parent_id: None,
                author_id: AuthorId::parse("reader")?,
                author_name: AuthorName::default(),
                body: CommentBody::parse("Talks resume next month.", 100)?,
                created_at: at,
                status: CommentStatus::Approved,
                verdict: Verdict {
                    action: Action::Approve,
                    rule_set_version: "test".into(),
                    matches: Vec::new(),
                },
                moderator_decision: None,
                request_id: None,
            },
        }))
    }

    #[test]
    fn an_encoded_event_is_the_message_on_the_wire() -> TestResult {
        let response = convert::event(&*event(7)?);
        let encoded = EncodedEvent::encode(&response);
        assert_eq!(encoded.encode_to_vec(), response.encode_to_vec());
        assert_eq!(encoded.encoded_len(), response.encoded_len());
        let decoded = EncodedEvent::decode(&response.encode_to_vec()[..])?;
        assert_eq!(
            decoded, encoded,
            "decoding field by field rebuilds the same bytes"
        );
        assert_eq!(proto::WatchCommentsResponse::decode(encoded.0)?, response);
        Ok(())
    }

    #[test]
    fn watchers_of_one_event_share_one_encoding() -> TestResult {
        let encodings = EventEncodings::default();
        let live = event(1)?;
        let held_by_the_channel = Arc::clone(&live);
        let first = encodings.get(&live);
        let second = encodings.get(&held_by_the_channel);
        assert_eq!(first.0.as_ptr(), second.0.as_ptr(), "the same bytes");
        assert_eq!(encodings.remembered(), 1);

        let replayed = event(1)?;
        assert_eq!(
            encodings.get(&replayed),
            first,
            "an equal event, encoded alike"
        );
        assert_eq!(
            encodings.remembered(),
            1,
            "not remembered: nobody shares it"
        );
        Ok(())
    }

    #[test]
    fn only_the_latest_events_are_remembered() -> TestResult {
        let encodings = EventEncodings::default();
        let events = (0..3 * REMEMBERED_EVENTS as u64)
            .map(event)
            .collect::<Result<Vec<_>, _>>()?;
        let shared: Vec<_> = events.iter().map(Arc::clone).collect();
        for e in &events {
            encodings.get(e);
        }
        assert_eq!(encodings.remembered(), REMEMBERED_EVENTS);
        drop(shared);
        Ok(())
    }
}
