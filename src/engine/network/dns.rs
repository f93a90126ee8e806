//! The DNS wire format, as far as the built-in responder of user-defined networks needs it:
//! read the question of a query, and build a reply with A records or an error code.
//! Pure functions over byte slices; the sockets live in the namespace holder (nsd.rs).

use std::net::Ipv4Addr;

pub const TYPE_A: u16 = 1;
pub const NXDOMAIN: u8 = 3;
pub const SERVFAIL: u8 = 2;
/// Seconds a client may keep an answer: short, so that a removed container stops resolving.
const TTL: u32 = 5;

/// The question of a query.
#[derive(Debug, PartialEq, Eq)]
pub struct Query {
    /// Lower case, without the trailing dot.
    pub name: String,
    pub qtype: u16,
    /// Where the question ends in the packet.
    end: usize,
}

/// Reads a standard query with one question; None for anything else (it gets no answer).
pub fn parse_query(p: &[u8]) -> Option<Query> {
    if p.len() < 12 || p[2] & 0x80 != 0 || (p[2] >> 3) & 0x0f != 0 || u16::from_be_bytes([p[4], p[5]]) != 1 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *p.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None; // compression is not used in questions
        }
        labels.push(std::str::from_utf8(p.get(i..i + len)?).ok()?.to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]);
    p.get(i + 3)?;
    Some(Query { name: labels.join("."), qtype, end: i + 4 })
}

/// A reply to `query` (the packet `q` was read from): `ips` as A records when the query asks
/// for A, none otherwise (the name exists: NOERROR with no data), or `rcode` when non-zero.
pub fn reply(query: &[u8], q: &Query, ips: &[Ipv4Addr], rcode: u8) -> Vec<u8> {
    let answers: &[Ipv4Addr] = if rcode == 0 && q.qtype == TYPE_A { ips } else { &[] };
    let mut r = Vec::with_capacity(q.end + answers.len() * 16);
    r.extend_from_slice(&query[0..2]);
    // QR, the query's opcode and RD, AA, RA, the code.
    r.push(0x80 | (query[2] & 0x79) | 0x04);
    r.push(0x80 | (rcode & 0x0f));
    r.extend_from_slice(&1u16.to_be_bytes());
    r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(&query[12..q.end]);
    for ip in answers {
        r.extend_from_slice(&[0xc0, 0x0c]); // the name: a pointer to the question's
        r.extend_from_slice(&TYPE_A.to_be_bytes());
        r.extend_from_slice(&1u16.to_be_bytes());
        r.extend_from_slice(&TTL.to_be_bytes());
        r.extend_from_slice(&4u16.to_be_bytes());
        r.extend_from_slice(&ip.octets());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            p.push(l.len() as u8);
            p.extend_from_slice(l.as_bytes());
        }
        p.push(0);
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&1u16.to_be_bytes());
        p
    }

    #[test]
    fn answers_a_queries() {
        let p = query("Web.Example", TYPE_A);
        let q = parse_query(&p).unwrap();
        assert_eq!((q.name.as_str(), q.qtype), ("web.example", TYPE_A));
        let r = reply(&p, &q, &[Ipv4Addr::new(10, 89, 1, 2)], 0);
        assert_eq!(&r[0..2], &[0x12, 0x34]);
        assert_eq!(r[2] & 0x80, 0x80, "a response");
        assert_eq!(r[2] & 0x01, 0x01, "recursion desired copied");
        assert_eq!(r[3] & 0x0f, 0);
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 1);
        assert_eq!(&r[r.len() - 4..], &[10, 89, 1, 2]);
        // AAAA of a known name: no data, no error; unknown names: NXDOMAIN.
        let p6 = query("web", 28);
        let q6 = parse_query(&p6).unwrap();
        let r6 = reply(&p6, &q6, &[Ipv4Addr::new(10, 89, 1, 2)], 0);
        assert_eq!((u16::from_be_bytes([r6[6], r6[7]]), r6[3] & 0x0f), (0, 0));
        let rn = reply(&p, &q, &[], NXDOMAIN);
        assert_eq!(rn[3] & 0x0f, NXDOMAIN);
        // Responses and truncated packets are not queries.
        let mut resp = p.clone();
        resp[2] |= 0x80;
        assert!(parse_query(&resp).is_none());
        assert!(parse_query(&p[..p.len() - 2]).is_none());
    }
}
