//! Finding 7: a message with invalid UTF-8 in a string field came back `INTERNAL`, and an
//! oversized one `OUT_OF_RANGE`, both without details, as if the gateway were at fault.
//! Tried again with hand-encoded protobuf bytes sent through a raw gRPC call, as a client
//! in any language (or an attacker) can send them.

use bytes::{Buf, BufMut};
use http::uri::PathAndQuery;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};

use crate::harness::{FakeVendors, error_parts};

const START: &str = "/idv.ableid.v1.AbleIdService/StartResidentCheck";
const GET_ATTEMPT: &str = "/idv.attempts.v1.AttemptService/GetAttempt";

/// A codec that sends and receives message bytes as they are.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut bytes = vec![0; src.remaining()];
        src.copy_to_slice(&mut bytes);
        Ok(Some(bytes))
    }
}

/// One length-delimited protobuf field (wire type 2) with a number below 16.
fn field(number: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![(number << 3) | 2];
    let mut length = value.len();
    // Varint.
    while length >= 0x80 {
        out.push((length as u8 & 0x7f) | 0x80);
        length >>= 7;
    }
    out.push(length as u8);
    out.extend_from_slice(value);
    out
}

async fn call(fake: &FakeVendors, path: &'static str, message: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(fake.gateway.channel.clone());
    grpc.ready().await.unwrap();
    grpc.unary(tonic::Request::new(message), PathAndQuery::from_static(path), Raw)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn invalid_utf8_in_a_string_field_is_the_callers_error() {
    let fake = FakeVendors::start().await;
    // StartResidentCheckRequest: transaction_id = 1, pinfl = 2, birth_date = 3.
    let message = [field(1, b"tx-utf8"), field(2, b"3120590\xff\xfe34567"), field(3, b"12.05.1990")].concat();
    let status = call(&fake, START, message).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!(
        (error.code, error.reason.as_str(), error.domain.as_str()),
        (Code::InvalidArgument, "MALFORMED_REQUEST", "idv-gateway"),
        "{status:?}"
    );
    assert!(fake.requests().await.is_empty(), "nothing reached AbleID");

    // The same in another service, and a message cut short.
    let status = call(&fake, GET_ATTEMPT, field(1, b"\xc3\x28")).await.unwrap_err();
    assert_eq!(
        (status.code(), error_parts(&status).reason),
        (Code::InvalidArgument, "MALFORMED_REQUEST".into())
    );
    let truncated = field(1, b"tx-cut")[..4].to_vec();
    let status = call(&fake, START, truncated).await.unwrap_err();
    assert_eq!(
        (status.code(), error_parts(&status).reason),
        (Code::InvalidArgument, "MALFORMED_REQUEST".into())
    );

    // Well-formed bytes through the same raw path are judged by the usual checks.
    let status = call(&fake, START, field(1, b"tx-ok")).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!(error.code, Code::InvalidArgument);
    assert_eq!(error.fields, ["birth_date", "pinfl"]);
}

#[tokio::test]
async fn a_message_over_the_limit_is_resource_exhausted() {
    const MIB: usize = 1024 * 1024;
    let fake = FakeVendors::start_with(|config| config.server.max_message_bytes = 4 * MIB).await;

    let oversized = field(1, &vec![b'x'; 5 * MIB]);
    let status = call(&fake, START, oversized).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!(
        (error.code, error.reason.as_str(), error.domain.as_str()),
        (Code::ResourceExhausted, "MESSAGE_TOO_LARGE", "idv-gateway"),
        "{status:?}"
    );
    // Under the limit, the same field is read and judged by the field checks.
    let status = call(&fake, START, field(1, &vec![b'x'; 3 * MIB])).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!(error.code, Code::InvalidArgument);
    assert!(error.fields.contains(&"transaction_id".to_owned()), "{:?}", error.fields);
    assert!(fake.requests().await.is_empty());
}
