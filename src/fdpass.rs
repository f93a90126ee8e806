//! Descriptors over a Unix socket (SCM_RIGHTS): the one sender and receiver for the console
//! socket (terminal master, tap device), the built-in network's control socket and the network
//! namespace holder's requests. A leaf: knows nothing of what the descriptors are.

use std::io::{self, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The most descriptors one `recv` takes; more in one message are closed by the kernel.
const MAX_FDS: usize = 64;

/// Sends `data` (at least one byte) on the stream socket `sock` with `fds` attached to it;
/// what a short send left is written after.
pub fn send(sock: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    let iov = [io::IoSlice::new(data)];
    let cmsg = if fds.is_empty() { vec![] } else { vec![ControlMessage::ScmRights(fds)] };
    let n = sendmsg::<()>(sock, &iov, &cmsg, MsgFlags::empty(), None).map_err(io::Error::from)?;
    if let Some(rest) = data.get(n..).filter(|r| !r.is_empty()) {
        // SAFETY: a borrowed view of the caller's socket; ManuallyDrop leaves it open.
        let mut s = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(sock) });
        s.write_all(rest)?;
    }
    Ok(())
}

/// Reads what is waiting on `sock` into `buf` (0 bytes: the peer closed it) and the
/// descriptors that came with it, close-on-exec.
pub fn recv(sock: RawFd, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let mut iov = [io::IoSliceMut::new(buf)];
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
    let msg = recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC).map_err(io::Error::from)?;
    let mut fds = Vec::new();
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(v) = c {
            // SAFETY: the kernel just gave us these descriptors; nothing else owns them.
            fds.extend(v.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    Ok((msg.bytes, fds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn descriptors_and_data_arrive_together_and_extra_ones_are_owned() {
        let (a, b) = UnixStream::pair().unwrap();
        let (x, y) = UnixStream::pair().unwrap();
        send(a.as_raw_fd(), b"go", &[x.as_raw_fd(), y.as_raw_fd()]).unwrap();
        let mut buf = [0u8; 8];
        let (n, fds) = recv(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], fds.len()), (&b"go"[..], 2));
        // SAFETY: test: F_GETFD on a descriptor we own.
        assert_eq!(unsafe { libc::fcntl(fds[0].as_raw_fd(), libc::F_GETFD) } & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        send(a.as_raw_fd(), b"plain", &[]).unwrap();
        drop(a);
        let (n, fds) = recv(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], fds.len()), (&b"plain"[..], 0));
        assert_eq!(recv(b.as_raw_fd(), &mut buf).unwrap().0, 0, "EOF once the peer is gone");
    }
}
