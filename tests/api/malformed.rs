//! Every RPC, every field, every kind of malformed value: the status code is
//! the documented one and the stored data does not change.

use commentd::proto::{
    CheckCommentRequest, GetCommentRequest, ListCommentsRequest, ListReviewQueueRequest,
    ModerateCommentRequest, SubmitCommentRequest, WatchCommentsRequest,
};
use tonic::Code;

use crate::helpers::{Call, Client, TestApp, call, spawn_app, submission};

/// A malformed string and what it is.
struct Bad {
    name: &'static str,
    value: String,
}

fn bad(name: &'static str, value: impl Into<String>) -> Bad {
    Bad {
        name,
        value: value.into(),
    }
}

/// Values no identifier accepts.
fn bad_identifiers() -> Vec<Bad> {
    vec![
        bad("space", "has space"),
        bad("control character", "a\u{7}b"),
        bad("NUL", "a\0b"),
        bad("bidi override", "a\u{202E}b"),
        bad("non-ASCII", "статья"),
        bad("too long", "a".repeat(129)),
        bad("quote", "a\"b"),
        bad("large", "a".repeat(10_000)),
    ]
}

/// Values no free text accepts.
fn bad_text() -> Vec<Bad> {
    vec![
        bad("control character", "a\u{7}b"),
        bad("NUL", "a\0b"),
        bad("bidi override", "a\u{202E}b"),
        bad("bidi isolate", "a\u{2067}b"),
    ]
}

/// A value over the request size limit: refused before it is parsed.
fn huge() -> String {
    "x".repeat(100_000)
}

async fn status_of(client: &mut Client, request: Call) -> Code {
    call(client, request)
        .await
        .err()
        .map_or(Code::Ok, |s| s.code())
}

fn submit() -> SubmitCommentRequest {
    submission("article", "reader", "A fine comment.")
}

fn list() -> ListCommentsRequest {
    ListCommentsRequest {
        article_id: "article".into(),
        ..Default::default()
    }
}

fn moderate(id: &str) -> ModerateCommentRequest {
    ModerateCommentRequest {
        id: id.into(),
        status: 1,
        moderator_id: "mod".into(),
        reason: String::new(),
    }
}

fn check() -> CheckCommentRequest {
    CheckCommentRequest {
        body: "A fine comment.".into(),
        author_id: String::new(),
    }
}

/// Everything stored, to compare before and after.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut client = app.client.clone();
    let page = client
        .list_comments(ListCommentsRequest {
            article_id: "article".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let queue = client
        .list_review_queue(ListReviewQueueRequest {
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    page.comments
        .iter()
        .chain(&queue.comments)
        .map(|c| format!("{c:?}"))
        .collect()
}

#[tokio::test]
async fn malformed_values_in_every_field_get_their_status_and_change_nothing() {
    let app = spawn_app().await;
    let existing = app.submit("article", "Stored before the attack.").await;
    app.submit("article", "you moron").await;
    let before = snapshot(&app).await;

    let mut cases: Vec<(String, Call, Code)> = Vec::new();
    let mut case = |name: String, call: Call, code: Code| cases.push((name, call, code));

    // Required identifiers: empty or malformed is INVALID_ARGUMENT.
    type SetSubmit = fn(&mut SubmitCommentRequest, String);
    let required_submit: [(&str, SetSubmit); 2] = [
        ("article_id", |r, v| r.article_id = v),
        ("author_id", |r, v| r.author_id = v),
    ];
    for (field, set) in required_submit {
        let mut r = submit();
        set(&mut r, String::new());
        case(
            format!("submit {field} empty"),
            Call::Submit(r),
            Code::InvalidArgument,
        );
        for b in bad_identifiers() {
            let mut r = submit();
            set(&mut r, b.value);
            case(
                format!("submit {field} {}", b.name),
                Call::Submit(r),
                Code::InvalidArgument,
            );
        }
        let mut r = submit();
        set(&mut r, huge());
        case(
            format!("submit {field} huge"),
            Call::Submit(r),
            Code::ResourceExhausted,
        );
    }
    // Optional identifiers: malformed is INVALID_ARGUMENT.
    for b in bad_identifiers() {
        let v = b.value.clone();
        case(
            format!("submit request_id {}", b.name),
            Call::Submit(SubmitCommentRequest {
                request_id: v.clone(),
                ..submit()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("submit parent_id {}", b.name),
            Call::Submit(SubmitCommentRequest {
                parent_id: v.clone(),
                ..submit()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("check author_id {}", b.name),
            Call::Check(CheckCommentRequest {
                author_id: v.clone(),
                ..check()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("watch article_id {}", b.name),
            Call::Watch(WatchCommentsRequest {
                article_id: v.clone(),
                after_cursor: None,
            }),
            Code::InvalidArgument,
        );
        case(
            format!("list article_id {}", b.name),
            Call::List(ListCommentsRequest {
                article_id: v.clone(),
                ..list()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("moderate moderator_id {}", b.name),
            Call::Moderate(ModerateCommentRequest {
                moderator_id: v.clone(),
                ..moderate(&existing.id)
            }),
            Code::InvalidArgument,
        );
    }
    // Comment ids: malformed is INVALID_ARGUMENT, well-formed but unknown is NOT_FOUND.
    for v in [
        "",
        "12",
        "zzzzzzzzzzzzzzzz",
        "00000000000000001",
        "0000000000000001 ",
        "ABCDEF0000000000",
    ] {
        case(
            format!("get id {v:?}"),
            Call::Get(GetCommentRequest { id: v.into() }),
            Code::InvalidArgument,
        );
        case(
            format!("moderate id {v:?}"),
            Call::Moderate(moderate(v)),
            Code::InvalidArgument,
        );
    }
    for v in ["00000000000000ff", "ffffffffffffffff"] {
        case(
            format!("get id {v}"),
            Call::Get(GetCommentRequest { id: v.into() }),
            Code::NotFound,
        );
        case(
            format!("moderate id {v}"),
            Call::Moderate(moderate(v)),
            Code::NotFound,
        );
        case(
            format!("submit parent_id {v}"),
            Call::Submit(SubmitCommentRequest {
                parent_id: v.into(),
                ..submit()
            }),
            Code::NotFound,
        );
    }
    // Bodies.
    for (name, body) in [
        ("empty", String::new()),
        ("whitespace", " \t\n ".into()),
        ("over the limit", "b".repeat(8 * 1024 + 1)),
    ] {
        case(
            format!("submit body {name}"),
            Call::Submit(SubmitCommentRequest {
                body: body.clone(),
                ..submit()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("check body {name}"),
            Call::Check(CheckCommentRequest { body, ..check() }),
            Code::InvalidArgument,
        );
    }
    for b in bad_text() {
        case(
            format!("submit body {}", b.name),
            Call::Submit(SubmitCommentRequest {
                body: b.value.clone(),
                ..submit()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("check body {}", b.name),
            Call::Check(CheckCommentRequest {
                body: b.value.clone(),
                ..check()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("submit author_name {}", b.name),
            Call::Submit(SubmitCommentRequest {
                author_name: b.value.clone(),
                ..submit()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("moderate reason {}", b.name),
            Call::Moderate(ModerateCommentRequest {
                reason: b.value.clone(),
                ..moderate(&existing.id)
            }),
            Code::InvalidArgument,
        );
    }
    case(
        "submit body huge".into(),
        Call::Submit(SubmitCommentRequest {
            body: huge(),
            ..submit()
        }),
        Code::ResourceExhausted,
    );
    case(
        "check body huge".into(),
        Call::Check(CheckCommentRequest {
            body: huge(),
            ..check()
        }),
        Code::ResourceExhausted,
    );
    case(
        "submit author_name too long".into(),
        Call::Submit(SubmitCommentRequest {
            author_name: "n".repeat(101),
            ..submit()
        }),
        Code::InvalidArgument,
    );
    case(
        "submit author_name line break".into(),
        Call::Submit(SubmitCommentRequest {
            author_name: "a\nb".into(),
            ..submit()
        }),
        Code::InvalidArgument,
    );
    case(
        "moderate reason too long".into(),
        Call::Moderate(ModerateCommentRequest {
            reason: "r".repeat(1001),
            ..moderate(&existing.id)
        }),
        Code::InvalidArgument,
    );
    // Page sizes and tokens.
    for size in [-1, i32::MIN] {
        case(
            format!("list page_size {size}"),
            Call::List(ListCommentsRequest {
                page_size: size,
                ..list()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("queue page_size {size}"),
            Call::Queue(ListReviewQueueRequest {
                page_size: size,
                page_token: String::new(),
            }),
            Code::InvalidArgument,
        );
    }
    case(
        "list page_size enormous".into(),
        Call::List(ListCommentsRequest {
            page_size: i32::MAX,
            ..list()
        }),
        Code::Ok,
    );
    for token in [
        "forged",
        "djEKYXJ0aWNsZTpvdGhlcjphbnkKMDAwMDAwMDAwMDAwMDAwMQ",
        "djEKcmV2aWV3LXF1ZXVlCnp6",
        "\u{202E}",
        "%%%",
    ] {
        case(
            format!("list page_token {token:?}"),
            Call::List(ListCommentsRequest {
                page_token: token.into(),
                ..list()
            }),
            Code::InvalidArgument,
        );
        case(
            format!("queue page_token {token:?}"),
            Call::Queue(ListReviewQueueRequest {
                page_size: 0,
                page_token: token.into(),
            }),
            Code::InvalidArgument,
        );
    }
    // Enumerations.
    for status in [-1, 4, 99, i32::MAX] {
        case(
            format!("list status {status}"),
            Call::List(ListCommentsRequest { status, ..list() }),
            Code::InvalidArgument,
        );
        case(
            format!("moderate status {status}"),
            Call::Moderate(ModerateCommentRequest {
                status,
                ..moderate(&existing.id)
            }),
            Code::InvalidArgument,
        );
    }
    for status in [0, 2] {
        case(
            format!("moderate status {status}"),
            Call::Moderate(ModerateCommentRequest {
                status,
                ..moderate(&existing.id)
            }),
            Code::InvalidArgument,
        );
    }

    let mut client = app.client.clone();
    let mut failures = Vec::new();
    let count = cases.len();
    for (name, call, expected) in cases {
        let code = status_of(&mut client, call).await;
        if code != expected {
            failures.push(format!("{name}: expected {expected:?}, got {code:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(snapshot(&app).await, before, "stored data changed");
}

/// Sends bytes as they are, as a broken or hostile client would.
#[derive(Default)]
struct RawRequest;

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Codec for RawRequest {
    type Encode = Vec<u8>;
    type Decode = commentd::proto::SubmitCommentResponse;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<commentd::proto::SubmitCommentResponse>;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic::codec::Codec::decoder(&mut tonic_prost::ProstCodec::<
            (),
            commentd::proto::SubmitCommentResponse,
        >::default())
    }
}

#[tokio::test]
async fn a_request_that_does_not_decode_is_invalid_argument_not_internal() {
    let app = spawn_app().await;
    let cases: [(&str, Vec<u8>); 4] = [
        ("invalid UTF-8 in article_id", vec![0x0A, 0x02, 0xFF, 0xFE]),
        ("truncated string", vec![0x0A, 0x10, b'a']),
        ("wrong wire type", vec![0x0D, 1, 2, 3, 4]),
        (
            "overlong varint",
            vec![0x38; 1].into_iter().chain([0xFF; 11]).collect(),
        ),
    ];
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    for (name, bytes) in cases {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.unwrap();
        let path =
            http::uri::PathAndQuery::from_static("/commentd.v1.CommentService/SubmitComment");
        let status = grpc
            .unary(tonic::Request::new(bytes), path, RawRequest)
            .await
            .expect_err(name);
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
    }
}
