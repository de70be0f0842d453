//! Sending a component's answer in one piece when it is finished at once.
//!
//! A component returns its response head before it writes the body, and the
//! body arrives a moment later through the instance's own task. If hyper
//! were handed the head alone it would write it, then the body, then the
//! end of the chunked encoding: two or three writes, each waking the client.
//! Waiting briefly for the body lets most answers — every JSON answer the
//! product gives — go out as one write with a `content-length`; a body that
//! is slow or large is still streamed, after the part already read.

use std::time::Duration;

use bytes::BytesMut;
use futures::{FutureExt as _, StreamExt as _};
use http::Response;
use http_body_util::{BodyExt, BodyStream, Full, StreamBody};
use hyper::body::{Body as _, Frame};

use crate::server::Body;

/// How long the head waits for the rest of the body. Long enough for a
/// component that writes its body at once (microseconds), too short for
/// anyone to notice on one that streams.
const WAIT: Duration = Duration::from_millis(2);
/// The most that is gathered into one piece; a larger body is streamed.
const MOST: usize = 256 * 1024;

/// `response` with its body whole if the body ends within [`WAIT`] and
/// [`MOST`] bytes; otherwise the frames already read, then the rest.
pub async fn gather(response: Response<Body>) -> Response<Body> {
    let (parts, mut body) = response.into_parts();
    if body.is_end_stream() {
        return Response::from_parts(parts, body);
    }
    let mut data = BytesMut::new();
    // Armed only if the body is not already there: most are.
    let mut deadline = None;
    let unfinished = loop {
        let next = match body.frame().now_or_never() {
            Some(next) => Ok(next),
            None => {
                let deadline = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + WAIT);
                tokio::time::timeout_at(deadline, body.frame()).await
            }
        };
        match next {
            Ok(None) => {
                let whole = Full::new(data.freeze())
                    .map_err(|never| match never {})
                    .boxed_unsync();
                return Response::from_parts(parts, whole);
            }
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(chunk) => {
                    data.extend_from_slice(&chunk);
                    if data.len() > MOST {
                        break None;
                    }
                }
                // Trailers end the body; they are sent as they came.
                Err(trailers) => break Some(Ok(trailers)),
            },
            Ok(Some(Err(e))) => break Some(Err(e)),
            Err(_waited) => break None,
        }
    };
    let read = (!data.is_empty()).then(|| Ok(Frame::data(data.freeze())));
    let frames =
        futures::stream::iter(read.into_iter().chain(unfinished)).chain(BodyStream::new(body));
    Response::from_parts(parts, StreamBody::new(frames).boxed_unsync())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::BoxError;
    use bytes::Bytes;

    fn answer(body: Body) -> Response<Body> {
        Response::new(body)
    }

    fn stream(frames: Vec<Result<Frame<Bytes>, BoxError>>) -> Body {
        StreamBody::new(futures::stream::iter(frames)).boxed_unsync()
    }

    #[tokio::test]
    async fn a_body_that_ends_at_once_is_sent_whole_with_its_length() {
        let body = stream(vec![
            Ok(Frame::data(Bytes::from_static(b"{\"a\":"))),
            Ok(Frame::data(Bytes::from_static(b"1}"))),
        ]);
        let gathered = gather(answer(body)).await.into_body();
        assert_eq!(gathered.size_hint().exact(), Some(7));
        let bytes = gathered.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{\"a\":1}");
    }

    #[tokio::test]
    async fn a_body_still_writing_is_streamed_after_what_was_read() {
        let (sender, receiver) = futures::channel::mpsc::unbounded();
        sender
            .unbounded_send(Ok(Frame::data(Bytes::from_static(b"first "))))
            .unwrap();
        let body = StreamBody::new(receiver).boxed_unsync();
        let gathered = gather(answer(body)).await.into_body();
        assert_eq!(
            gathered.size_hint().exact(),
            None,
            "not finished, so not whole"
        );
        sender
            .unbounded_send(Ok(Frame::data(Bytes::from_static(b"second"))))
            .unwrap();
        drop(sender);
        let bytes = gathered.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"first second");
    }

    #[tokio::test]
    async fn trailers_and_errors_still_reach_the_client() {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-done", http::HeaderValue::from_static("yes"));
        let body = stream(vec![
            Ok(Frame::data(Bytes::from_static(b"body"))),
            Ok(Frame::trailers(trailers)),
        ]);
        let collected = gather(answer(body))
            .await
            .into_body()
            .collect()
            .await
            .unwrap();
        assert_eq!(collected.trailers().unwrap()["x-done"], "yes");
        assert_eq!(&collected.to_bytes()[..], b"body");

        let body = stream(vec![Err("the guest trapped".into())]);
        let failed = gather(answer(body)).await.into_body().collect().await;
        assert!(failed.is_err());
    }
}
