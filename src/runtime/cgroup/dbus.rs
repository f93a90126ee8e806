//! A minimal D-Bus client for one conversation with systemd: connect to a unix socket,
//! authenticate (EXTERNAL), `Hello`, subscribe to `JobRemoved`, `StartTransientUnit`, and
//! wait for the job. Little-endian marshalling of the few types that needs (the D-Bus
//! specification's wire format); used only on the systemd path, never on cgroupfs ones.

use super::systemd::{Prop, SystemdBus};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

const SYSTEMD: &str = "org.freedesktop.systemd1";
const SYSTEMD_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// The unix socket path of a bus address (`unix:path=/run/user/1000/bus,guid=...`).
pub fn unix_path(address: &str) -> Option<PathBuf> {
    address.split(';').find_map(|a| {
        let rest = a.strip_prefix("unix:")?;
        rest.split(',').find_map(|kv| kv.strip_prefix("path=")).map(PathBuf::from)
    })
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Byte(u8),
    Bool(bool),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    Str(String),
    Array(Vec<Value>),
    Struct(Vec<Value>),
    Variant(String, Box<Value>),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Marshals into a buffer whose offset 0 is 8-aligned in the message.
#[derive(Default)]
pub struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    fn pad(&mut self, n: usize) {
        while !self.buf.len().is_multiple_of(n) {
            self.buf.push(0);
        }
    }
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.pad(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// s and o.
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    pub fn sig(&mut self, s: &str) {
        self.buf.push(s.len() as u8);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }
    /// An array whose elements align to `align`; `f` writes them.
    pub fn array(&mut self, align: usize, f: impl FnOnce(&mut Enc)) {
        self.pad(4);
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.pad(align);
        let start = self.buf.len();
        f(self);
        let len = (self.buf.len() - start) as u32;
        self.buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
    pub fn prop(&mut self, name: &str, v: &Prop) {
        self.pad(8);
        self.str(name);
        match v {
            Prop::Str(s) => {
                self.sig("s");
                self.str(s);
            }
            Prop::Bool(b) => {
                self.sig("b");
                self.u32(u32::from(*b));
            }
            Prop::U32s(list) => {
                self.sig("au");
                self.array(4, |e| list.iter().for_each(|x| e.u32(*x)));
            }
        }
    }
}

/// A message: its type (1 call, 2 return, 3 error, 4 signal), header fields and body.
#[derive(Debug, Default, Clone)]
pub struct Message {
    pub kind: u8,
    pub serial: u32,
    pub path: String,
    pub interface: String,
    pub member: String,
    pub error: String,
    pub destination: String,
    pub reply_to: u32,
    pub signature: String,
    pub body: Vec<Value>,
}

/// Serialises a message (flags 0), `body` already marshalled with `signature`.
pub fn encode(m: &Message, body: &[u8]) -> Vec<u8> {
    let mut e = Enc::default();
    e.u8(b'l');
    e.u8(m.kind);
    e.u8(0);
    e.u8(1);
    e.u32(body.len() as u32);
    e.u32(m.serial);
    e.array(8, |e| {
        let mut field = |code: u8, sig: &str, val: &str| {
            if val.is_empty() {
                return;
            }
            e.pad(8);
            e.u8(code);
            e.sig(sig);
            if sig == "g" { e.sig(val) } else { e.str(val) }
        };
        field(1, "o", &m.path);
        field(2, "s", &m.interface);
        field(3, "s", &m.member);
        field(4, "s", &m.error);
        field(6, "s", &m.destination);
        field(8, "g", &m.signature);
        if m.reply_to != 0 {
            e.pad(8);
            e.u8(5);
            e.sig("u");
            e.u32(m.reply_to);
        }
    });
    e.pad(8);
    e.buf.extend_from_slice(body);
    e.buf
}

/// Reads values from a buffer (offsets relative to the message start).
struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    fn align(&mut self, n: usize) {
        self.pos = self.pos.div_ceil(n) * n;
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self.buf.get(self.pos..self.pos + n).ok_or("truncated D-Bus message")?;
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        self.align(4);
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        self.align(8);
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn string(&mut self, len: usize) -> Result<String, String> {
        let s = self.take(len)?;
        self.take(1)?;
        String::from_utf8(s.to_vec()).map_err(|_| "bad UTF-8 in a D-Bus string".to_string())
    }
    /// One complete type of `sig` at its start; returns the value and the rest of `sig`.
    fn value<'s>(&mut self, sig: &'s str) -> Result<(Value, &'s str), String> {
        let (c, rest) = sig.split_at(1);
        let v = match c {
            "y" => Value::Byte(self.take(1)?[0]),
            "b" => Value::Bool(self.u32()? != 0),
            "u" => Value::U32(self.u32()?),
            "i" => Value::I32(self.u32()? as i32),
            "t" => Value::U64(self.u64()?),
            "x" => Value::I64(self.u64()? as i64),
            "s" | "o" => {
                let n = self.u32()? as usize;
                Value::Str(self.string(n)?)
            }
            "g" => {
                let n = self.take(1)?[0] as usize;
                Value::Str(self.string(n)?)
            }
            "v" => {
                let n = self.take(1)?[0] as usize;
                let s = self.string(n)?;
                let (inner, _) = self.value(&s)?;
                Value::Variant(s, Box::new(inner))
            }
            "a" => {
                let n = self.u32()? as usize;
                let elem = one_type(rest)?;
                self.align(alignment(elem));
                let end = self.pos + n;
                let mut items = Vec::new();
                while self.pos < end {
                    items.push(self.value(elem)?.0);
                }
                return Ok((Value::Array(items), &rest[elem.len()..]));
            }
            "(" | "{" => {
                self.align(8);
                let close = if c == "(" { ')' } else { '}' };
                let mut inner = rest;
                let mut items = Vec::new();
                while !inner.starts_with(close) {
                    let (v, r) = self.value(inner)?;
                    items.push(v);
                    inner = r;
                }
                return Ok((Value::Struct(items), &inner[1..]));
            }
            other => return Err(format!("unsupported D-Bus type {other}")),
        };
        Ok((v, rest))
    }
}

/// The first complete type of a signature.
fn one_type(sig: &str) -> Result<&str, String> {
    let b = sig.as_bytes();
    let mut depth = 0i32;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'a' => continue,
            b'(' | b'{' => depth += 1,
            b')' | b'}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return Ok(&sig[..=i]);
        }
    }
    Err(format!("bad D-Bus signature {sig}"))
}

fn alignment(sig: &str) -> usize {
    match sig.as_bytes().first() {
        Some(b't' | b'x' | b'(' | b'{' | b'd') => 8,
        Some(b'y' | b'g' | b'v') => 1,
        _ => 4,
    }
}

/// Parses one whole message; None when `buf` holds less than one.
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, String> {
    if buf.len() < 16 {
        return Ok(None);
    }
    if buf[0] != b'l' {
        return Err("big-endian D-Bus messages are not supported".into());
    }
    let le = |i: usize| u32::from_le_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]) as usize;
    let (body_len, fields_len) = (le(4), le(12));
    let header_end = (16 + fields_len).div_ceil(8) * 8;
    let total = header_end + body_len;
    if buf.len() < total {
        return Ok(None);
    }
    let mut m = Message { kind: buf[1], serial: le(8) as u32, ..Default::default() };
    let mut d = Dec { buf: &buf[..total], pos: 12 };
    if let (Value::Array(fields), _) = d.value("a(yv)")? {
        for f in fields {
            let Value::Struct(parts) = f else { continue };
            let (Some(Value::Byte(code)), Some(Value::Variant(_, v))) = (parts.first(), parts.get(1)) else { continue };
            let s = v.as_str().unwrap_or_default().to_string();
            match (code, v.as_ref()) {
                (1, _) => m.path = s,
                (2, _) => m.interface = s,
                (3, _) => m.member = s,
                (4, _) => m.error = s,
                (6, _) => m.destination = s,
                (8, _) => m.signature = s,
                (5, Value::U32(n)) => m.reply_to = *n,
                _ => {}
            }
        }
    }
    d.pos = header_end;
    let mut sig = m.signature.clone();
    let mut rest = sig.as_str();
    while !rest.is_empty() {
        let (v, r) = d.value(rest)?;
        m.body.push(v);
        rest = r;
    }
    sig.clear();
    Ok(Some((m, total)))
}

/// A connection to a bus (or directly to systemd's private socket).
pub struct Connection {
    sock: UnixStream,
    serial: u32,
    inbox: Vec<u8>,
    /// Signals that arrived while waiting for a reply.
    pending: Vec<Message>,
}

impl Connection {
    pub fn open(path: &Path) -> Result<Connection, String> {
        let sock = UnixStream::connect(path).map_err(|e| format!("cannot connect to {}: {e}", path.display()))?;
        Connection::over(sock)
    }

    /// Authenticates on a connected socket and says Hello.
    pub fn over(sock: UnixStream) -> Result<Connection, String> {
        let _ = sock.set_read_timeout(Some(std::time::Duration::from_secs(30)));
        let mut c = Connection { sock, serial: 0, inbox: Vec::new(), pending: Vec::new() };
        let uid = nix::unistd::geteuid().as_raw().to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        c.send_raw(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())?;
        let line = c.read_line()?;
        if !line.starts_with("OK ") {
            return Err(format!("D-Bus authentication refused: {}", line.trim()));
        }
        c.send_raw(b"BEGIN\r\n")?;
        c.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "", &[])?;
        Ok(c)
    }

    fn send_raw(&mut self, b: &[u8]) -> Result<(), String> {
        self.sock.write_all(b).map_err(|e| format!("D-Bus write: {e}"))
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while !out.ends_with(b"\r\n") {
            match self.sock.read(&mut b) {
                Ok(1) => out.push(b[0]),
                Ok(_) => return Err("the D-Bus peer closed the connection".into()),
                Err(e) => return Err(format!("D-Bus read: {e}")),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn next(&mut self) -> Result<Message, String> {
        loop {
            if let Some((m, used)) = decode(&self.inbox)? {
                self.inbox.drain(..used);
                return Ok(m);
            }
            let mut chunk = [0u8; 4096];
            match self.sock.read(&mut chunk) {
                Ok(0) => return Err("the D-Bus peer closed the connection".into()),
                Ok(n) => self.inbox.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("D-Bus read: {e}")),
            }
        }
    }

    /// A method call; returns the reply's body, or the error as "NAME: message".
    pub fn call(
        &mut self,
        dest: &str,
        path: &str,
        iface: &str,
        member: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<Vec<Value>, String> {
        self.serial += 1;
        let m = Message {
            kind: 1,
            serial: self.serial,
            path: path.into(),
            interface: iface.into(),
            member: member.into(),
            destination: dest.into(),
            signature: signature.into(),
            ..Default::default()
        };
        let bytes = encode(&m, body);
        self.send_raw(&bytes)?;
        loop {
            let r = self.next()?;
            match r.kind {
                2 if r.reply_to == m.serial => return Ok(r.body),
                3 if r.reply_to == m.serial => {
                    let text = r.body.first().and_then(Value::as_str).unwrap_or_default();
                    return Err(format!("{}: {text}", r.error));
                }
                4 => self.pending.push(r),
                _ => {}
            }
        }
    }

    /// Waits for systemd's JobRemoved of `job`; its result ("done" or why not).
    fn job_result(&mut self, job: &str) -> Result<String, String> {
        loop {
            let m = match self.pending.is_empty() {
                true => self.next()?,
                false => self.pending.remove(0),
            };
            if m.kind == 4 && m.member == "JobRemoved" && m.body.get(1).and_then(Value::as_str) == Some(job) {
                return Ok(m.body.get(3).and_then(Value::as_str).unwrap_or_default().to_string());
            }
        }
    }
}

impl SystemdBus for Connection {
    fn start_transient_unit(&mut self, name: &str, props: &[(&str, Prop)]) -> Result<(), String> {
        let mut rule = Enc::default();
        rule.str(&format!(
            "type='signal',sender='{SYSTEMD}',path='{SYSTEMD_PATH}',interface='{MANAGER}',member='JobRemoved'"
        ));
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", &rule.buf)?;
        self.call(SYSTEMD, SYSTEMD_PATH, MANAGER, "Subscribe", "", &[])?;
        let mut e = Enc::default();
        e.str(name);
        e.str("fail");
        e.array(8, |e| props.iter().for_each(|(k, v)| e.prop(k, v)));
        e.array(8, |_| {});
        let reply = self.call(SYSTEMD, SYSTEMD_PATH, MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))", &e.buf)?;
        let job = reply.first().and_then(Value::as_str).ok_or("StartTransientUnit returned no job")?.to_string();
        match self.job_result(&job)?.as_str() {
            "done" => Ok(()),
            other => Err(format!("the job of {name} ended with \"{other}\" (see journalctl --user -u {name})")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(unix_path("unix:path=/run/user/1000/bus"), Some(PathBuf::from("/run/user/1000/bus")));
        assert_eq!(unix_path("unix:abstract=/x,guid=1;unix:path=/b,guid=2"), Some(PathBuf::from("/b")));
        assert_eq!(unix_path("tcp:host=x"), None);
    }

    #[test]
    fn hello_matches_the_specification_bytes() {
        // A Hello call as every D-Bus client sends it (serial 1), byte for byte.
        let m = Message {
            kind: 1,
            serial: 1,
            path: "/org/freedesktop/DBus".into(),
            interface: "org.freedesktop.DBus".into(),
            member: "Hello".into(),
            destination: "org.freedesktop.DBus".into(),
            ..Default::default()
        };
        let b = encode(&m, &[]);
        assert_eq!(&b[..16], &[b'l', 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0x6d, 0, 0, 0]);
        assert_eq!(b.len(), 128);
        assert_eq!(&b[16..24], &[1, 1, b'o', 0, 21, 0, 0, 0]);
        let (back, used) = decode(&b).unwrap().unwrap();
        assert_eq!(used, b.len());
        assert_eq!((back.member.as_str(), back.destination.as_str()), ("Hello", "org.freedesktop.DBus"));
    }

    /// A fake systemd on the other end of a socket pair: checks the conversation and the
    /// StartTransientUnit call, answers as systemd does.
    #[test]
    fn start_transient_unit_against_a_fake_peer() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let peer = std::thread::spawn(move || {
            let mut s = theirs;
            let mut got = Vec::new();
            let mut b = [0u8; 1];
            while !got.ends_with(b"\r\n") {
                s.read_exact(&mut b).unwrap();
                got.push(b[0]);
            }
            assert!(got.starts_with(b"\0AUTH EXTERNAL "), "{got:?}");
            s.write_all(b"OK 0123456789abcdef0123456789abcdef\r\n").unwrap();
            let mut inbox = Vec::new();
            let mut calls = Vec::new();
            let mut serial = 100;
            loop {
                let mut chunk = [0u8; 4096];
                let n = s.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                inbox.extend_from_slice(&chunk[..n]);
                if inbox.starts_with(b"BEGIN\r\n") {
                    inbox.drain(..7);
                }
                while let Some((m, used)) = decode(&inbox).unwrap() {
                    inbox.drain(..used);
                    serial += 1;
                    let reply = |sig: &str, body: &[u8]| {
                        encode(
                            &Message {
                                kind: 2,
                                serial,
                                reply_to: m.serial,
                                signature: sig.into(),
                                ..Default::default()
                            },
                            body,
                        )
                    };
                    let mut e = Enc::default();
                    let out = match m.member.as_str() {
                        "Hello" => {
                            e.str(":1.42");
                            reply("s", &e.buf)
                        }
                        "StartTransientUnit" => {
                            e.str("/org/freedesktop/systemd1/job/7");
                            let mut out = reply("o", &e.buf);
                            let mut sigbody = Enc::default();
                            sigbody.u32(7);
                            sigbody.str("/org/freedesktop/systemd1/job/7");
                            sigbody.str("kiste-abc.scope");
                            sigbody.str("done");
                            out.extend(encode(
                                &Message {
                                    kind: 4,
                                    serial: serial + 1,
                                    path: SYSTEMD_PATH.into(),
                                    interface: MANAGER.into(),
                                    member: "JobRemoved".into(),
                                    signature: "uoss".into(),
                                    ..Default::default()
                                },
                                &sigbody.buf,
                            ));
                            out
                        }
                        _ => reply("", &[]),
                    };
                    calls.push(m);
                    s.write_all(&out).unwrap();
                }
            }
            calls
        });
        let mut c = Connection::over(ours).unwrap();
        let props = super::super::systemd::scope_props("user.slice", "kiste-abc.scope", 4242);
        c.start_transient_unit("kiste-abc.scope", &props).unwrap();
        drop(c);
        let calls = peer.join().unwrap();
        let members: Vec<&str> = calls.iter().map(|m| m.member.as_str()).collect();
        assert_eq!(members, ["Hello", "AddMatch", "Subscribe", "StartTransientUnit"]);
        let start = &calls[3];
        assert_eq!(start.signature, "ssa(sv)a(sa(sv))");
        assert_eq!(start.body[0], Value::Str("kiste-abc.scope".into()));
        assert_eq!(start.body[1], Value::Str("fail".into()));
        let Value::Array(props) = &start.body[2] else { panic!("{:?}", start.body) };
        let find = |k: &str| {
            props.iter().find_map(|p| match p {
                Value::Struct(v) if v[0] == Value::Str(k.into()) => Some(v[1].clone()),
                _ => None,
            })
        };
        assert_eq!(find("PIDs"), Some(Value::Variant("au".into(), Box::new(Value::Array(vec![Value::U32(4242)])))));
        assert_eq!(find("Delegate"), Some(Value::Variant("b".into(), Box::new(Value::Bool(true)))));
        assert_eq!(find("Slice"), Some(Value::Variant("s".into(), Box::new(Value::Str("user.slice".into())))));
        assert_eq!(start.body[3], Value::Array(vec![]));
    }
}
