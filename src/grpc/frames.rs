//! Messages encoded once and sent many times: the codec of the methods `build.rs` lists in
//! `PRE_ENCODED` (`WatchAttempt`).
//!
//! A new event goes to every watcher of its attempt. Encoded per watcher (tonic's default),
//! the same bytes would be built a thousand times for a thousand watchers, each from a
//! deep copy of the event; a [`Frame`] is built once and its bytes shared (`Bytes` is
//! reference-counted), so a watcher's share of the work is copying them into its stream.

use std::marker::PhantomData;

use bytes::{BufMut, Bytes};
use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};

/// One response message, already protobuf-encoded.
#[derive(Clone)]
pub struct Frame(Bytes);

impl Frame {
    /// Encodes `message` (the method's response type) once.
    pub fn encode(message: &impl Message) -> Self {
        Self(message.encode_to_vec().into())
    }

    /// The encoded message.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }
}

impl From<Bytes> for Frame {
    fn from(encoded: Bytes) -> Self {
        Self(encoded)
    }
}

impl From<Frame> for Bytes {
    fn from(frame: Frame) -> Self {
        frame.0
    }
}

impl std::fmt::Debug for Frame {
    // The bytes are an event: personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame").field("len", &self.0.len()).finish_non_exhaustive()
    }
}

/// Initial size of a stream's encode buffer. tonic's default (8 KiB) is allocated for every
/// open stream; most watches are idle most of their lives, and a frame larger than this
/// grows the buffer when it is sent.
const STREAM_BUFFER_BYTES: usize = 1024;
/// How much a stream encodes before it hands the bytes to the connection (tonic's default).
const YIELD_THRESHOLD_BYTES: usize = 32 * 1024;

/// The codec of a method that streams [`Frame`]s and takes a protobuf request `U`.
#[derive(Debug)]
pub struct FrameCodec<U>(PhantomData<U>);

impl<U> Default for FrameCodec<U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<U: Message + Default + Send + 'static> Codec for FrameCodec<U> {
    type Encode = Frame;
    type Decode = U;
    type Encoder = FrameEncoder;
    type Decoder = <tonic_prost::ProstCodec<U, U> as Codec>::Decoder;

    fn encoder(&mut self) -> Self::Encoder {
        FrameEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstCodec::<U, U>::raw_decoder(BufferSettings::default())
    }
}

/// Copies a frame's bytes into the stream.
#[derive(Debug)]
pub struct FrameEncoder;

impl Encoder for FrameEncoder {
    type Item = Frame;
    type Error = Status;

    fn encode(&mut self, frame: Frame, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&frame.0);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::new(STREAM_BUFFER_BYTES, YIELD_THRESHOLD_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::attempts::{Heartbeat, WatchAttemptResponse, watch_attempt_response::Kind};

    #[test]
    fn a_frame_is_the_message_on_the_wire() {
        let message = WatchAttemptResponse {
            resume_token: "token".into(),
            kind: Some(Kind::Heartbeat(Heartbeat { time: Some(std::time::SystemTime::UNIX_EPOCH.into()) })),
        };
        let frame = Frame::encode(&message);
        assert_eq!(WatchAttemptResponse::decode(frame.bytes().clone()).unwrap(), message);
    }
}
