//! The queue from a connection's handler to one channel task.
//!
//! The handler runs inside russh's session loop, which is also what sends
//! the channel's output; if the handler waited for the channel task to take
//! input while that task waited for its output to be sent, both would wait
//! forever. So pushing never waits: the inbox holds a bounded amount of
//! input, and data beyond it is dropped and marked with one
//! [`ChannelEvent::Overflow`], which the terminal turns into a discarded
//! line, never a half-run one.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;

/// Longest command accepted through SSH exec.
pub(super) const MAX_EXEC_BYTES: usize = 64 * 1024;

/// What the connection handler forwards to a channel task.
#[derive(Debug)]
pub enum ChannelEvent {
    Pty {
        cols: u32,
    },
    Shell,
    Exec(Vec<u8>),
    Data(Vec<u8>),
    Resize {
        cols: u32,
    },
    Eof,
    /// Input arrived faster than the channel took it and some was dropped
    /// here: `ended` if a line end was among it, `continues` if input after
    /// the last such line end was dropped too (what follows starts mid-line).
    Overflow {
        ended: bool,
        continues: bool,
    },
}

/// Input bytes a channel may have waiting: room for a PIN line and a
/// whole note's text behind it, sent at once through SSH exec.
const MAX_BYTES: usize = 160 * 1024;
/// Events a channel may have waiting.
const MAX_EVENTS: usize = 256;
/// Events a channel reading a file may have waiting: its packets are
/// joined into chunks of this size.
const MAX_FILE_EVENTS: usize = 4 * 1024;
/// The chunks a file's packets are joined into.
const FILE_CHUNK: usize = 64 * 1024;

/// Whether an exec command is one that reads a whole file from its input.
fn reads_file(command: &[u8]) -> bool {
    std::str::from_utf8(command)
        .ok()
        .and_then(|line| shell_words::split(line).ok())
        .is_some_and(|words| words.first().is_some_and(|w| w == "import"))
}

#[derive(Debug, Default)]
pub struct Inbox {
    state: Mutex<State>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct State {
    events: VecDeque<ChannelEvent>,
    bytes: usize,
    /// More input bytes than [`MAX_BYTES`] this channel may have waiting
    /// (a file to import), if any.
    room: Option<usize>,
    closed: bool,
}

impl Inbox {
    /// Queues an event without waiting; input that does not fit is dropped.
    pub fn push(&self, event: ChannelEvent) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.closed {
            return;
        }
        let mut event = event;
        if let ChannelEvent::Exec(command) = &mut event {
            // Longer commands are refused whole; a byte more tells so.
            command.truncate(MAX_EXEC_BYTES + 1);
            // A command that reads a file from its input (`import`): the
            // client sends the file right behind the command, before the
            // channel task has even read it, so the room is made here.
            if reads_file(command) {
                state.room = Some(crate::interchange::MAX_IMPORT_BYTES + MAX_EXEC_BYTES);
            }
        }
        let size = match &event {
            // An empty packet carries nothing: it takes no room in the queue.
            ChannelEvent::Data(d) if d.is_empty() => return,
            ChannelEvent::Data(d) => d.len(),
            _ => 0,
        };
        let (room, events) = match state.room {
            // Room for a file: its packets, whatever their size.
            Some(room) => (room, MAX_FILE_EVENTS),
            None => (MAX_BYTES, MAX_EVENTS),
        };
        let full = state.bytes + size > room || state.events.len() >= events;
        match event {
            ChannelEvent::Data(mut dropped) if full => {
                let has_end = dropped.iter().any(|b| matches!(b, b'\n' | b'\r'));
                let open_tail = !matches!(dropped.last(), Some(b'\n' | b'\r'));
                dropped.fill(0);
                match state.events.back_mut() {
                    Some(ChannelEvent::Overflow { ended, continues }) => {
                        *ended |= has_end;
                        if has_end || !open_tail {
                            *continues = open_tail;
                        }
                    }
                    _ => state.events.push_back(ChannelEvent::Overflow {
                        ended: has_end,
                        continues: open_tail,
                    }),
                }
            }
            // Requests a client may repeat; past the bound they are noise.
            ChannelEvent::Resize { .. }
            | ChannelEvent::Pty { .. }
            | ChannelEvent::Shell
            | ChannelEvent::Exec(_)
                if state.events.len() >= MAX_EVENTS => {}
            // Reading a file: small packets join the one before, so that
            // the queue holds the file in few events. A packet joins only
            // where there is room already: a buffer that grew would leave
            // a copy of its bytes behind.
            ChannelEvent::Data(mut bytes) if state.room.is_some() => {
                state.bytes += size;
                match state.events.back_mut() {
                    Some(ChannelEvent::Data(last)) if last.capacity() - last.len() >= size => {
                        last.extend_from_slice(&bytes);
                    }
                    _ => {
                        let mut joined = Vec::with_capacity(FILE_CHUNK.max(size));
                        joined.extend_from_slice(&bytes);
                        state.events.push_back(ChannelEvent::Data(joined));
                    }
                }
                bytes.fill(0);
            }
            event => {
                state.bytes += size;
                state.events.push_back(event);
            }
        }
        drop(state);
        self.ready.notify_one();
    }

    /// Marks the end of input: after what is queued, `recv` returns `None`.
    pub fn close(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.ready.notify_one();
    }

    /// The next event, or `None` once the inbox is closed and empty.
    pub async fn recv(&self) -> Option<ChannelEvent> {
        loop {
            {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(event) = state.events.pop_front() {
                    if let ChannelEvent::Data(d) = &event {
                        state.bytes -= d.len();
                    }
                    return Some(event);
                }
                if state.closed {
                    return None;
                }
            }
            self.ready.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn input_past_the_bound_is_dropped_and_marked_once() {
        let inbox = Inbox::default();
        for _ in 0..100 {
            inbox.push(ChannelEvent::Data(vec![b'x'; 4096]));
        }
        inbox.push(ChannelEvent::Eof);
        inbox.close();

        let (mut bytes, mut overflows) = (0, 0);
        while let Some(event) = inbox.recv().await {
            match event {
                ChannelEvent::Data(d) => bytes += d.len(),
                ChannelEvent::Overflow { .. } => overflows += 1,
                _ => {}
            }
        }
        assert_eq!(bytes, MAX_BYTES);
        assert_eq!(overflows, 1);
    }

    #[tokio::test]
    async fn a_file_behind_an_import_command_waits_whole_in_few_events() {
        let inbox = Inbox::default();
        inbox.push(ChannelEvent::Exec(b"import --format chrome-csv".to_vec()));
        let sent: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
        for packet in sent.chunks(700) {
            inbox.push(ChannelEvent::Data(packet.to_vec()));
            inbox.push(ChannelEvent::Data(Vec::new()));
        }
        inbox.push(ChannelEvent::Eof);
        inbox.close();
        let (mut received, mut events) = (Vec::new(), 0);
        while let Some(event) = inbox.recv().await {
            events += 1;
            match event {
                ChannelEvent::Data(d) => received.extend_from_slice(&d),
                ChannelEvent::Overflow { .. } => panic!("input was dropped"),
                _ => {}
            }
        }
        assert_eq!(received, sent);
        assert!(events < 100, "{events} events for 2 MB");
        // Any other command keeps the small bound.
        let other = Inbox::default();
        other.push(ChannelEvent::Exec(b"note add --name x".to_vec()));
        other.push(ChannelEvent::Data(vec![b'x'; MAX_BYTES + 1]));
        other.close();
        let mut overflowed = false;
        while let Some(event) = other.recv().await {
            overflowed |= matches!(event, ChannelEvent::Overflow { .. });
        }
        assert!(overflowed);
    }

    #[tokio::test]
    async fn a_dropped_line_end_is_remembered() {
        let inbox = Inbox::default();
        inbox.push(ChannelEvent::Data(vec![b'x'; MAX_BYTES]));
        inbox.push(ChannelEvent::Data(b"abc\rde".to_vec()));
        inbox.push(ChannelEvent::Data(b"f\n".to_vec()));
        let _ = inbox.recv().await;
        assert!(matches!(
            inbox.recv().await,
            Some(ChannelEvent::Overflow {
                ended: true,
                continues: false
            })
        ));
    }

    #[tokio::test]
    async fn room_freed_by_the_reader_takes_input_again() {
        let inbox = Inbox::default();
        inbox.push(ChannelEvent::Data(vec![0; MAX_BYTES]));
        inbox.push(ChannelEvent::Data(vec![1]));
        assert!(matches!(inbox.recv().await, Some(ChannelEvent::Data(_))));
        assert!(matches!(
            inbox.recv().await,
            Some(ChannelEvent::Overflow {
                ended: false,
                continues: true
            })
        ));
        inbox.push(ChannelEvent::Data(vec![2]));
        assert!(matches!(inbox.recv().await, Some(ChannelEvent::Data(d)) if d == [2]));
    }
}
