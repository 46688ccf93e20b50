//! # okdb-resp — the RESP2/RESP3 wire format
//!
//! **Architecture invariant:** this crate knows RESP frames and nothing else: no sockets, no tokio,
//! no engine. It turns bytes into requests and replies into bytes; whoever owns the socket (the
//! `server` crate, the `client` crate, the shell) feeds it buffers.
//!
//! ## Map
//!
//! | Side | Item | Does |
//! |---|---|---|
//! | server | [`RequestParser`], [`parse_request`], [`Limits`] | bytes from a client → `Vec<Bytes>` arguments |
//! | server | [`Encoder`] | replies → bytes, RESP3 or downgraded to RESP2 |
//! | both | [`split_inline`], [`split_inline_bytes`] | a typed command line → arguments |
//! | client | [`encode_command`] | arguments → request bytes |
//! | client | [`parse_frame`], [`Frame`] | reply bytes → a typed reply |
//! | all | [`ProtocolError`] | what went wrong, in Redis's words |
//!
//! ## Requests and the incremental-parse design
//!
//! A request is either a RESP array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or, when
//! its first byte is not `*`, an inline command line ended by `\n` or `\r\n` (what telnet sends),
//! tokenized like redis-cli does ([`split_inline`]).
//!
//! The server reads into a `BytesMut` and calls [`RequestParser::parse`] on it. A complete request
//! is split off the front of the buffer and frozen, and its arguments are `Bytes` slices of that
//! one allocation: no copy per argument. An incomplete request leaves the buffer untouched.
//!
//! Big requests arrive in many reads, so "incomplete" must be cheap. [`RequestParser`] keeps, per
//! connection, where it stopped: which header it is at, where the bulk string being received
//! ends, how far it already searched an inline line for its newline. A call therefore examines
//! only new bytes, and while a bulk string is arriving it costs O(1) — a comparison against
//! [`RequestParser::needed`], which says exactly how many buffered bytes are required. Header
//! lines are bounded (32 bytes) so they never cost more than that. A request of n bytes costs
//! O(n) however it is split. The one contract: between calls the caller only appends to the
//! buffer (or calls [`RequestParser::reset`]).
//!
//! [`parse_request`] is the stateless form, handy for tests and one-shot use: each call re-reads
//! the headers of the partial request (skipping bulk data by its length), so a partial request of
//! k arguments costs O(k) per call.
//!
//! Nothing is allocated from an announced length: `$104857600` reserves nothing, and an array
//! header preallocates at most 1024 slots. Announcements over [`Limits`] are errors at once.
//!
//! ```
//! use bytes::BytesMut;
//! use okdb_resp::{Encoder, Limits, RequestParser};
//!
//! let mut parser = RequestParser::new(Limits::default());
//! let mut input = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n"[..]);
//! let mut output = Vec::new();
//! while let Some(args) = parser.parse(&mut input).unwrap() {
//!     if args.is_empty() {
//!         continue; // an empty line
//!     }
//!     let mut reply = Encoder::new(&mut output, false);
//!     match &args[0][..] {
//!         b"SET" => reply.ok(),
//!         _ => reply.bulk(b"v"),
//!     }
//! }
//! assert_eq!(output, b"+OK\r\n$1\r\nv\r\n");
//! ```
//!
//! ## Replies
//!
//! [`Encoder`] appends replies to a `Vec<u8>` the connection owns, so a pipeline's replies go out
//! in one write. It knows whether the client said `HELLO 3` and downgrades RESP3 types for RESP2
//! clients as Redis does (maps become flat arrays, doubles bulk strings, booleans integers).
//! Integers and lengths are formatted on the stack; `+OK` is one copy.
//!
//! ## Client side
//!
//! [`encode_command`] writes a request; [`parse_frame`] reads one reply of any RESP2 or RESP3 type
//! from the front of a byte slice and says how many bytes it used.

mod encode;
mod error;
mod frame;
mod inline;
mod request;

#[cfg(test)]
mod fuzz;

pub use encode::{encode_command, format_i64, Encoder};
pub use error::ProtocolError;
pub use frame::{parse_frame, Frame, MAX_DEPTH};
pub use inline::{split_inline, split_inline_bytes};
pub use request::{parse_request, ArgSpan, Limits, RequestParser};
