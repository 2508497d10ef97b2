//! Key layout of the sled trees. Integers are big-endian so that range scans
//! come out in numeric order; an article or author id is prefixed by its
//! length so that one id's prefix can never be another id's prefix.

use crate::domain::{ArticleId, CommentId, CommentStatus, Cursor, RequestId};

pub fn status_byte(status: CommentStatus) -> u8 {
    match status {
        CommentStatus::Approved => 1,
        CommentStatus::PendingReview => 2,
        CommentStatus::Rejected => 3,
    }
}

pub fn status_from_byte(byte: u8) -> Option<CommentStatus> {
    CommentStatus::ALL
        .into_iter()
        .find(|&s| status_byte(s) == byte)
}

pub fn comment(id: CommentId) -> [u8; 8] {
    id.get().to_be_bytes()
}

pub fn event(cursor: Cursor) -> [u8; 8] {
    cursor.get().to_be_bytes()
}

pub fn decode_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

fn prefixed(id: &str) -> Vec<u8> {
    // Ids are at most 128 bytes (see `domain::MAX_ID_LEN`), so one byte holds the length.
    let mut key = Vec::with_capacity(1 + id.len() + 9);
    key.push(id.len() as u8);
    key.extend_from_slice(id.as_bytes());
    key
}

/// Prefix of every key of one article in `article_status` and `article_events`.
pub fn article_prefix(article: &ArticleId) -> Vec<u8> {
    prefixed(article.as_str())
}

/// Prefix of one article's comments of one status in `article_status`.
pub fn article_status_prefix(article: &ArticleId, status: CommentStatus) -> Vec<u8> {
    let mut key = article_prefix(article);
    key.push(status_byte(status));
    key
}

/// `article_status`: article, status, comment id → ().
pub fn article_status(article: &ArticleId, status: CommentStatus, id: CommentId) -> Vec<u8> {
    let mut key = article_status_prefix(article, status);
    key.extend_from_slice(&id.get().to_be_bytes());
    key
}

/// `review_queue`: comment id → (), for comments pending review.
pub fn review_queue(id: CommentId) -> [u8; 8] {
    id.get().to_be_bytes()
}

/// `article_events`: article, cursor → ().
pub fn article_event(article: &ArticleId, cursor: Cursor) -> Vec<u8> {
    let mut key = article_prefix(article);
    key.extend_from_slice(&cursor.get().to_be_bytes());
    key
}

/// `requests`: request id → comment id.
pub fn request(request: &RequestId) -> &[u8] {
    request.as_str().as_bytes()
}

/// The trailing big-endian integer of a prefixed key.
pub fn trailing_u64(key: &[u8]) -> Option<u64> {
    key.len()
        .checked_sub(8)
        .and_then(|at| decode_u64(&key[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_keys_sort_by_id_and_never_share_prefixes() {
        let a = ArticleId::parse("a").unwrap();
        let ab = ArticleId::parse("ab").unwrap();
        let approved = CommentStatus::Approved;
        let key =
            |article: &ArticleId, id: u64| article_status(article, approved, CommentId::new(id));
        assert!(!key(&ab, 1).starts_with(&article_prefix(&a)));
        assert!(key(&a, 2) < key(&a, 256));
        assert_eq!(trailing_u64(&key(&a, 7)), Some(7));
    }

    #[test]
    fn status_bytes_round_trip() {
        for s in CommentStatus::ALL {
            assert_eq!(status_from_byte(status_byte(s)), Some(s));
        }
        assert_eq!(status_from_byte(0), None);
    }
}
