//! One WebSocket (RFC 7118, subprotocol `sip`; `ws://`, or `wss://` through
//! rustls): connect, then relay frames both ways until either side closes.
//! Every socket is a task tagged with a generation, so the driver can ignore
//! the late news of a socket the agent has moved on from.

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// What a socket tells the driver, tagged with its generation.
pub enum SockEvent {
    /// Connected: write through this sender.
    Opened(mpsc::UnboundedSender<WsCmd>),
    /// A text or binary frame.
    Message(Vec<u8>),
    /// Closed, by either side (no reason) or on an error (its text).
    Closed(Option<String>),
}

/// What the driver asks of an open socket.
pub enum WsCmd {
    /// Send a text frame.
    Text(String),
    /// Close the WebSocket.
    Close,
}

/// Connect to `url` and relay until closed; report on `tx` as generation `gen`.
pub async fn run(url: String, gen: u64, tx: mpsc::UnboundedSender<(u64, SockEvent)>) {
    let mut req = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send((gen, SockEvent::Closed(Some(format!("bad URL {url}: {e}")))));
            return;
        }
    };
    req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
    // Nagle's algorithm off (TCP_NODELAY): SIP sends small messages in bursts
    // (100, 180, 200 to one INVITE); with it on, a write waits for the peer's
    // delayed ACK of the previous one, ~40 ms on Linux.
    let ws = match tokio_tungstenite::connect_async_with_config(req, None, true).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            let _ = tx.send((gen, SockEvent::Closed(Some(e.to_string()))));
            return;
        }
    };
    let (mut sink, mut stream) = ws.split();
    let (wtx, mut wrx) = mpsc::unbounded_channel();
    let _ = tx.send((gen, SockEvent::Opened(wtx)));
    let reason = loop {
        tokio::select! {
            cmd = wrx.recv() => match cmd {
                Some(WsCmd::Text(t)) => {
                    if let Err(e) = sink.send(WsMessage::Text(t.into())).await {
                        break Some(e.to_string());
                    }
                }
                Some(WsCmd::Close) | None => {
                    let _ = sink.close().await;
                    break None;
                }
            },
            m = stream.next() => match m {
                Some(Ok(WsMessage::Text(t))) => { let _ = tx.send((gen, SockEvent::Message(t.as_bytes().to_vec()))); }
                Some(Ok(WsMessage::Binary(b))) => { let _ = tx.send((gen, SockEvent::Message(b.to_vec()))); }
                Some(Ok(WsMessage::Close(_))) | None => break None,
                Some(Ok(_)) => {}
                Some(Err(e)) => break Some(e.to_string()),
            },
        }
    };
    let _ = tx.send((gen, SockEvent::Closed(reason)));
}
