//! The little SDP this crate touches. Session descriptions are opaque text
//! between the media layer and the peer, with two exceptions:
//! [`set_direction`] (for [`crate::ua::Command::Hold`] and
//! [`crate::ua::Command::Unhold`]) and [`with_version`]. [`AUDIO_OFFER`] and
//! [`AUDIO_ANSWER`] describe a signaling-only call (an RTP audio stream nobody
//! sends), for the CLI and for tests.

use crate::msg::{find_crlf, is_space, lines, trim_end_bytes};

/// One audio stream (PCMU, PCMA, telephone-event) on a port nobody listens on.
macro_rules! audio {
    ($origin:literal) => {
        concat!(
            "v=0\r\no=tabphone ",
            $origin,
            " 1 IN IP4 127.0.0.1\r\ns=tabphone\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n",
            "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        )
    };
}

/// A signaling-only audio offer (session version 1).
pub const AUDIO_OFFER: &str = audio!("4242");

/// The same stream as another session's answer (session version 1).
pub const AUDIO_ANSWER: &str = audio!("4243");

/// The line ending `sdp` uses: CRLF if it has one, else LF. By bytes: a
/// `&str` search would bring in the standard library's two-way searcher.
fn eol(sdp: &str) -> &'static str {
    if find_crlf(sdp).is_some() {
        "\r\n"
    } else {
        "\n"
    }
}

/// `sdp` with the session version of its `o=` line set to `version` (RFC 3264
/// 8: each new offer or answer of a session raises it); other lines unchanged.
pub fn with_version(sdp: &str, version: u32) -> String {
    let eol = eol(sdp);
    let mut out = String::with_capacity(sdp.len() + 8);
    for line in sdp.lines() {
        match line.strip_prefix("o=") {
            Some(origin) => {
                let mut fields: Vec<String> = origin.split(' ').map(str::to_string).collect();
                if let Some(v) = fields.get_mut(2) {
                    *v = version.to_string();
                }
                out.push_str("o=");
                out.push_str(&fields.join(" "));
            }
            None => out.push_str(line),
        }
        out.push_str(eol);
    }
    out
}

/// Set the direction attribute of every media section (and drop a session-level one).
pub fn set_direction(sdp: &str, dir: &str) -> String {
    const DIRS: [&str; 4] = ["a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"];
    let eol = eol(sdp);
    let push_dir = |out: &mut String| {
        out.push_str("a=");
        out.push_str(dir);
        out.push_str(eol);
    };
    let mut out = String::with_capacity(sdp.len() + 32);
    let mut in_media = false;
    let mut pending = false;
    for line in lines(sdp) {
        if line.starts_with("m=") {
            if pending {
                push_dir(&mut out);
            }
            in_media = true;
            pending = true;
        }
        if DIRS.contains(&trim_end_bytes(line, is_space)) {
            if in_media && pending {
                push_dir(&mut out);
                pending = false;
            }
            continue;
        }
        out.push_str(line);
        out.push_str(eol);
    }
    if pending {
        push_dir(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_directions() {
        let v7 = with_version(AUDIO_OFFER, 7);
        assert!(v7.contains("\r\no=tabphone 4242 7 IN IP4 127.0.0.1\r\n"), "{v7}");
        assert_eq!(with_version(&v7, 1), AUDIO_OFFER);
        assert_ne!(AUDIO_OFFER, AUDIO_ANSWER);
        let held = set_direction(AUDIO_OFFER, "sendonly");
        assert!(held.ends_with("a=sendonly\r\n") && !held.contains("a=sendrecv"), "{held}");
        assert_eq!(set_direction(&held, "sendrecv"), AUDIO_OFFER);
        let two = "v=0\na=inactive\nm=audio 1 RTP/AVP 0\nm=video 2 RTP/AVP 96\na=recvonly\n";
        assert_eq!(
            set_direction(two, "sendonly"),
            "v=0\nm=audio 1 RTP/AVP 0\na=sendonly\nm=video 2 RTP/AVP 96\na=sendonly\n"
        );
    }
}
