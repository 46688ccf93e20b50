//! A deterministic fuzz loop over every parser: valid inputs, mutated by a fixed-seed PRNG.
//!
//! Beyond "never panics", it checks properties that hold for any input:
//! * a request stream parses to the same requests (or the same error) whether it arrives in one
//!   read or in reads of random sizes, statefully or statelessly, and leaves the same tail;
//! * a parsed reply frame re-encodes to bytes that parse back to the same frame, and every proper
//!   prefix of it is "incomplete", never an error;
//! * random arguments survive `encode_command` → `parse_request`.

use bytes::{Bytes, BytesMut};

use crate::{
    encode_command, parse_frame, parse_request, split_inline, split_inline_bytes, Encoder, Frame,
    Limits, ProtocolError, RequestParser,
};

const ITERATIONS: usize = 20_000;

/// A seeded generator (fastrand), so failures reproduce.
struct Rng(fastrand::Rng);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.u64(..)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that matter to the grammars, so mutations hit interesting paths often.
const INTERESTING: &[u8] = b"\r\n*$:+-_#,(=%~>|!0123456789 \t\"'\\x{}[]()a";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = if out.is_empty() {
            0
        } else {
            rng.below(out.len() + 1)
        };
        match rng.below(8) {
            0 if at < out.len() => out[at] = rng.next() as u8,
            1 if at < out.len() => out[at] = *rng.pick(INTERESTING),
            2 => out.insert(at, *rng.pick(INTERESTING)),
            3 if at < out.len() => {
                out.remove(at);
            }
            4 => out.truncate(at),
            5 if at < out.len() => {
                let end = (at + 1 + rng.below(8)).min(out.len());
                let chunk = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, chunk);
            }
            6 => {
                let digits = rng.pick(&["-1", "0", "99999999999", "18446744073709551616", "-2"]);
                out.splice(at..at, digits.bytes());
            }
            _ if at < out.len() => out[at] ^= 1 << rng.below(8),
            _ => out.push(*rng.pick(INTERESTING)),
        }
    }
    out
}

fn request_corpus() -> Vec<Vec<u8>> {
    let commands: &[&[&[u8]]] = &[
        &[b"SET", b"key", b"value"],
        &[b"GET", b"key"],
        &[b"MSET", b"", b"a\r\nb", b"\x00\xff"],
        &[b"PING"],
        &[],
    ];
    let mut corpus: Vec<Vec<u8>> = commands
        .iter()
        .map(|args| {
            let mut out = Vec::new();
            encode_command(args, &mut out);
            out
        })
        .collect();
    for line in [
        "PING\r\n",
        "SET k v\n",
        "SET user:1 {\"name\": \"kevin\", \"tags\": [\"a\", \"b\"]}\r\n",
        "SET k '\"5\"' \"a\\x41\\n\"\n",
        "SET s set([1, 2]) b bytes('aGk=')\r\n",
        "\r\n",
    ] {
        corpus.push(line.as_bytes().to_vec());
    }
    // Pipelines of the above.
    let singles = corpus.clone();
    for i in 0..singles.len() {
        corpus.push([&singles[i][..], &singles[(i + 3) % singles.len()][..]].concat());
    }
    corpus
}

fn frame_corpus() -> Vec<Vec<u8>> {
    let bulk = |s: &str| Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    let frames = [
        Frame::Simple("OK".into()),
        Frame::Error("ERR oops".into()),
        Frame::Integer(-42),
        bulk("hello\r\n"),
        Frame::Null,
        Frame::Array(vec![Frame::Integer(1), bulk("x"), Frame::Array(vec![])]),
        Frame::Map(vec![
            (bulk("k"), Frame::Double(2.5)),
            (Frame::Null, Frame::Boolean(true)),
        ]),
        Frame::Set(vec![bulk("a"), Frame::BigNumber("-123".into())]),
        Frame::Verbatim {
            format: "txt".into(),
            text: "hi".into(),
        },
        Frame::Push(vec![bulk("message"), Frame::Double(f64::NEG_INFINITY)]),
    ];
    let mut corpus = Vec::new();
    for frame in &frames {
        for resp3 in [true, false] {
            let mut out = Vec::new();
            Encoder::new(&mut out, resp3).frame(frame);
            corpus.push(out);
        }
    }
    corpus.push(b"|1\r\n+a\r\n:1\r\n*1\r\n!3\r\nERR\r\n".to_vec());
    corpus.push(b"*3\r\n*2\r\n%1\r\n:1\r\n:2\r\n_\r\n$-1\r\n*-1\r\n".to_vec());
    corpus
}

type Outcome = (Result<Vec<Vec<Bytes>>, ProtocolError>, Bytes);

/// All requests of `input` in one read: the requests or the first error, and the unparsed tail.
fn requests_whole(input: &[u8], limits: Limits) -> Outcome {
    let mut buf = BytesMut::from(input);
    let mut parser = RequestParser::new(limits);
    let mut out = Vec::new();
    loop {
        match parser.parse(&mut buf) {
            Ok(Some(request)) => out.push(request),
            Ok(None) => return (Ok(out), buf.freeze()),
            Err(e) => return (Err(e), Bytes::new()),
        }
    }
}

/// The same, in reads of random sizes.
fn requests_chunked(rng: &mut Rng, input: &[u8], limits: Limits, stateful: bool) -> Outcome {
    let mut buf = BytesMut::new();
    let mut parser = RequestParser::new(limits);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let end = (pos + 1 + rng.below(12)).min(input.len());
        buf.extend_from_slice(&input[pos..end]);
        pos = end;
        loop {
            let parsed = if stateful {
                parser.parse(&mut buf)
            } else {
                parse_request(&mut buf, &limits)
            };
            match parsed {
                Ok(Some(request)) => out.push(request),
                Ok(None) => break,
                Err(e) => return (Err(e), Bytes::new()),
            }
        }
    }
    (Ok(out), buf.freeze())
}

fn encode(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(&mut out, true).frame(frame);
    out
}

#[test]
fn requests_survive_mutation_and_any_read_sizes() {
    let mut rng = Rng(fastrand::Rng::with_seed(0x5eed_0000_0000_0001));
    let corpus = request_corpus();
    let small = Limits {
        max_bulk: 8,
        max_args: 3,
        max_inline: 24,
    };
    for _ in 0..ITERATIONS {
        let seed = rng.pick(&corpus).clone();
        let input = mutate(&mut rng, &seed);
        let limits = if rng.below(4) == 0 {
            small
        } else {
            Limits::default()
        };
        let whole = requests_whole(&input, limits);
        let chunked = requests_chunked(&mut rng, &input, limits, true);
        assert_eq!(
            whole,
            chunked,
            "input {:?}",
            String::from_utf8_lossy(&input)
        );
        let stateless = requests_chunked(&mut rng, &input, limits, false);
        assert_eq!(
            whole,
            stateless,
            "input {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn frames_survive_mutation() {
    let mut rng = Rng(fastrand::Rng::with_seed(0x5eed_0000_0000_0002));
    let corpus = frame_corpus();
    for _ in 0..ITERATIONS {
        let seed = rng.pick(&corpus).clone();
        let input = mutate(&mut rng, &seed);
        let Ok(Some((frame, used))) = parse_frame(&input) else {
            continue;
        };
        assert!(used <= input.len());
        let again = encode(&frame);
        let (reparsed, reused) = parse_frame(&again).unwrap().unwrap();
        assert_eq!(reused, again.len());
        assert_eq!(encode(&reparsed), again);
        for _ in 0..4 {
            let end = rng.below(used);
            assert_eq!(parse_frame(&input[..end]), Ok(None), "{input:?}[..{end}]");
        }
    }
}

#[test]
fn inline_lines_survive_mutation() {
    let mut rng = Rng(fastrand::Rng::with_seed(0x5eed_0000_0000_0003));
    let corpus = request_corpus();
    for _ in 0..ITERATIONS {
        let seed = rng.pick(&corpus).clone();
        let input = mutate(&mut rng, &seed);
        let bytes = split_inline_bytes(&input);
        if let Ok(text) = std::str::from_utf8(&input) {
            // The text form agrees with the bytes form whenever both succeed.
            if let (Ok(strings), Ok(bytes)) = (split_inline(text), &bytes) {
                let as_bytes: Vec<Vec<u8>> = strings.into_iter().map(String::into_bytes).collect();
                assert_eq!(&as_bytes, bytes);
            }
        }
    }
}

#[test]
fn random_commands_round_trip() {
    let mut rng = Rng(fastrand::Rng::with_seed(0x5eed_0000_0000_0004));
    for _ in 0..ITERATIONS / 4 {
        let args: Vec<Vec<u8>> = (0..rng.below(6))
            .map(|_| (0..rng.below(20)).map(|_| rng.next() as u8).collect())
            .collect();
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let mut wire = Vec::new();
        encode_command(&refs, &mut wire);
        let mut buf = BytesMut::from(&wire[..]);
        let parsed = parse_request(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(parsed, args);
        assert!(buf.is_empty());
    }
}
