//! Compressing layer tars for blobs that leave the machine, on every core: gzip as one member
//! whose deflate stream is made of blocks compressed in parallel (each primed with the 32 KiB
//! before it and ended with a sync flush, as pigz does), zstd as one frame per block. The
//! output depends only on the input, the algorithm and the level — not on the thread count —
//! so the same layer compresses to the same digest. Knows nothing of layers or registries.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, mpsc};

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// As recorded in the database and named on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    pub fn from_name(s: &str) -> Option<Compression> {
        match s {
            "none" | "uncompressed" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The compression a layer media type says (OCI or Docker).
    pub fn from_media_type(mt: &str) -> Option<Compression> {
        if mt.ends_with("+zstd") {
            Some(Compression::Zstd)
        } else if mt.ends_with("+gzip") || mt.ends_with(".tar.gzip") || mt == DOCKER_LAYER {
            Some(Compression::Gzip)
        } else if mt.ends_with(".tar") {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// The layer media type in an OCI manifest, or in a Docker one (`docker`); Docker's
    /// schema 2 has no zstd type.
    pub fn media_type(self, docker: bool) -> Option<&'static str> {
        match (self, docker) {
            (Compression::None, false) => Some("application/vnd.oci.image.layer.v1.tar"),
            (Compression::Gzip, false) => Some("application/vnd.oci.image.layer.v1.tar+gzip"),
            (Compression::Zstd, false) => Some("application/vnd.oci.image.layer.v1.tar+zstd"),
            (Compression::None, true) => Some("application/vnd.docker.image.rootfs.diff.tar"),
            (Compression::Gzip, true) => Some(DOCKER_LAYER),
            (Compression::Zstd, true) => None,
        }
    }

    /// zstd's usual 3; gzip 2, which zlib-rs compresses about twice as fast as 6 into blobs
    /// a few percent larger (about what Podman's default gives, on a faster deflate).
    pub fn default_level(self) -> i32 {
        match self {
            Compression::Zstd => 3,
            _ => 2,
        }
    }
}

const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Input bytes per block compressed by one thread.
const BLOCK: usize = 1 << 20;
/// Within a block, the unit judged random (stored) or not (compressed).
const PIECE: usize = 64 << 10;
/// Deflate's window: the bytes of the previous block a block may refer to.
const WINDOW: usize = 32 << 10;
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

struct Job {
    index: u64,
    data: Vec<u8>,
    dict: Vec<u8>,
    last: bool,
}

struct Done {
    index: u64,
    out: io::Result<Vec<u8>>,
}

/// A writer that compresses what it is given into `out` (see the module comment).
pub struct ParallelWriter<W: Write> {
    out: W,
    algo: Compression,
    block: Vec<u8>,
    jobs: Option<mpsc::SyncSender<Job>>,
    results: mpsc::Receiver<Done>,
    workers: Vec<std::thread::JoinHandle<()>>,
    next_index: u64,
    next_write: u64,
    pending: BTreeMap<u64, io::Result<Vec<u8>>>,
    in_flight: usize,
    max_in_flight: usize,
    crc: flate2::Crc,
    tail: Vec<u8>,
}

impl<W: Write> ParallelWriter<W> {
    /// `level` as gzip (1-9) or zstd (1-22) count it; None is `default_level`.
    pub fn new(mut out: W, algo: Compression, level: Option<i32>) -> io::Result<ParallelWriter<W>> {
        let level = level.unwrap_or(algo.default_level());
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 16);
        let (jobs, job_rx) = mpsc::sync_channel::<Job>(threads * 2);
        let (done_tx, results) = mpsc::channel();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut workers = Vec::new();
        if algo != Compression::None {
            for _ in 0..threads {
                let (rx, tx) = (job_rx.clone(), done_tx.clone());
                workers.push(std::thread::spawn(move || worker(&rx, &tx, algo, level)));
            }
        }
        if algo == Compression::Gzip {
            out.write_all(&GZIP_HEADER)?;
        }
        Ok(ParallelWriter {
            out,
            algo,
            block: Vec::with_capacity(BLOCK),
            jobs: Some(jobs),
            results,
            workers,
            next_index: 0,
            next_write: 0,
            pending: BTreeMap::new(),
            in_flight: 0,
            max_in_flight: threads * 3,
            crc: flate2::Crc::new(),
            tail: Vec::new(),
        })
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        if self.algo == Compression::Gzip {
            self.crc.update(&data);
        }
        let dict = std::mem::take(&mut self.tail);
        if self.algo == Compression::Gzip {
            self.tail = data[data.len().saturating_sub(WINDOW)..].to_vec();
        }
        let job = Job { index: self.next_index, data, dict, last };
        self.next_index += 1;
        self.in_flight += 1;
        let sender = self.jobs.as_ref().ok_or_else(|| io::Error::other("compressor already finished"))?;
        sender.send(job).map_err(|_| io::Error::other("a compression thread ended"))?;
        self.drain(self.max_in_flight)
    }

    /// Writes finished blocks in order, waiting while more than `limit` are in flight.
    fn drain(&mut self, limit: usize) -> io::Result<()> {
        loop {
            while let Ok(d) = self.results.try_recv() {
                self.pending.insert(d.index, d.out);
            }
            while let Some(out) = self.pending.remove(&self.next_write) {
                self.out.write_all(&out?)?;
                self.next_write += 1;
                self.in_flight -= 1;
            }
            if self.in_flight < limit || self.in_flight == 0 {
                return Ok(());
            }
            let d = self.results.recv().map_err(|_| io::Error::other("a compression thread ended"))?;
            self.pending.insert(d.index, d.out);
        }
    }

    /// Compresses what is left, ends the stream and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.algo == Compression::None {
            let block = std::mem::take(&mut self.block);
            self.out.write_all(&block)?;
        } else if !self.block.is_empty() || self.algo == Compression::Gzip || self.next_index == 0 {
            // Gzip ends with a final deflate block; zstd needs at least one frame.
            self.submit(true)?;
        }
        self.jobs = None;
        self.drain(1)?;
        if self.algo == Compression::Gzip {
            self.out.write_all(&self.crc.sum().to_le_bytes())?;
            self.out.write_all(&self.crc.amount().to_le_bytes())?;
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (BLOCK - self.block.len()).min(buf.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == BLOCK {
            if self.algo == Compression::None {
                self.out.write_all(&self.block)?;
                self.block.clear();
            } else {
                self.submit(false)?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn worker(jobs: &Mutex<mpsc::Receiver<Job>>, done: &mpsc::Sender<Done>, algo: Compression, level: i32) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let out = match algo {
            Compression::Gzip => deflate_block(&job.data, &job.dict, level, job.last),
            Compression::Zstd => zstd_frame(&job.data, level),
            Compression::None => Ok(job.data),
        };
        if done.send(Done { index: job.index, out }).is_err() {
            return;
        }
    }
}

/// True when a block's bytes look random (already compressed data, random files): deflate
/// would search it for matches in vain, so it is stored as it is.
fn incompressible(data: &[u8]) -> bool {
    if data.len() < 4096 {
        return false;
    }
    // Byte entropy close to 8 bits: nothing for deflate to find.
    let mut counts = [0u64; 256];
    for b in data {
        counts[*b as usize] += 1;
    }
    let n = data.len() as f64;
    let bits: f64 = counts.iter().filter(|c| **c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum();
    bits > 7.97
}

/// Raw deflate of one block: primed with `dict`, ended by a sync flush (or the final block).
/// Runs of pieces that look random are stored rather than searched for matches in vain; each
/// run is its own deflate stream (primed with the 32 KiB before it, ended by a sync flush),
/// which concatenate into one.
fn deflate_block(data: &[u8], dict: &[u8], level: i32, last: bool) -> io::Result<Vec<u8>> {
    use flate2::FlushCompress;
    let level = level.clamp(0, 9) as u32;
    let mut out = Vec::with_capacity(data.len() / 2 + 4096);
    // (start, end, level) of each run of pieces with one level.
    let mut runs: Vec<(usize, usize, u32)> = Vec::new();
    for (k, piece) in data.chunks(PIECE).enumerate() {
        let want = if incompressible(piece) { 0 } else { level };
        let start = k * PIECE;
        match runs.last_mut() {
            Some(r) if r.2 == want => r.1 = start + piece.len(),
            _ => runs.push((start, start + piece.len(), want)),
        }
    }
    if runs.is_empty() {
        runs.push((0, 0, level));
    }
    let count = runs.len();
    for (k, (start, end, lvl)) in runs.into_iter().enumerate() {
        let mut c = flate2::Compress::new(flate2::Compression::new(lvl), false);
        let before = if start == 0 { dict } else { &data[start.saturating_sub(WINDOW)..start] };
        if !before.is_empty() && lvl > 0 {
            c.set_dictionary(before).map_err(io::Error::other)?;
        }
        let flush = if last && k + 1 == count { FlushCompress::Finish } else { FlushCompress::Sync };
        run(&mut c, &data[start..end], &mut out, flush)?;
    }
    Ok(out)
}

/// Feeds `input` to the compressor until it has taken it all and, for a flush, written
/// everything out (for `Finish`, the end of the stream).
fn run(c: &mut flate2::Compress, input: &[u8], out: &mut Vec<u8>, flush: flate2::FlushCompress) -> io::Result<()> {
    use flate2::{FlushCompress, Status};
    let start = c.total_in();
    loop {
        let consumed = (c.total_in() - start) as usize;
        if out.capacity() - out.len() < 1024 {
            let more = out.capacity().max(64 << 10);
            out.reserve(more);
        }
        let st = c.compress_vec(&input[consumed..], out, flush).map_err(io::Error::other)?;
        let all_in = (c.total_in() - start) as usize == input.len();
        let room = out.len() < out.capacity();
        let done = match flush {
            FlushCompress::Finish => st == Status::StreamEnd,
            FlushCompress::None => all_in,
            _ => all_in && room,
        };
        if done {
            return Ok(());
        }
    }
}

fn zstd_frame(data: &[u8], level: i32) -> io::Result<Vec<u8>> {
    let mut c = zstd::bulk::Compressor::new(level)?;
    c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
    c.compress(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(len: usize) -> Vec<u8> {
        // Compressible but not trivial: text-like with a counter.
        let mut v = Vec::with_capacity(len);
        let mut i = 0u64;
        while v.len() < len {
            v.extend_from_slice(format!("line {i} of the sample layer {}\n", i * 7919 % 1013).as_bytes());
            i += 1;
        }
        v.truncate(len);
        v
    }

    fn compress(data: &[u8], algo: Compression, level: Option<i32>) -> Vec<u8> {
        let mut w = ParallelWriter::new(Vec::new(), algo, level).unwrap();
        // Odd write sizes cross block boundaries.
        for chunk in data.chunks(77_777) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn gzip_and_zstd_round_trip_and_are_deterministic() {
        for len in [0, 10, BLOCK - 1, BLOCK, 3 * BLOCK + 12345] {
            let data = sample(len);
            let gz = compress(&data, Compression::Gzip, None);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
            assert!(back == data, "gzip round trip of {len} bytes");
            // One member: a plain (not multi-member) decoder reads it all.
            assert_eq!(gz, compress(&data, Compression::Gzip, None), "same input, same bytes");
            let zs = compress(&data, Compression::Zstd, None);
            let back = zstd::stream::decode_all(&zs[..]).unwrap();
            assert!(back == data, "zstd round trip of {len} bytes");
            assert_eq!(zs, compress(&data, Compression::Zstd, None));
            assert_eq!(compress(&data, Compression::None, None), data);
        }
    }

    #[test]
    fn the_dictionary_keeps_the_ratio_of_one_stream() {
        let data = sample(4 * BLOCK);
        let ours = compress(&data, Compression::Gzip, Some(6)).len();
        let mut serial = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        serial.write_all(&data).unwrap();
        let serial = serial.finish().unwrap().len();
        assert!(ours < serial + serial / 50 + 64, "parallel {ours} bytes vs serial {serial}");
    }

    #[test]
    fn random_blocks_are_stored_and_still_round_trip() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let random: Vec<u8> = (0..2 * BLOCK)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(incompressible(&random) && !incompressible(&sample(BLOCK)));
        let gz = compress(&random, Compression::Gzip, None);
        assert!(gz.len() < random.len() + random.len() / 100);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert!(back == random);
        // Random and text pieces in turns, within blocks and across them.
        let text = sample(2 * BLOCK);
        let mixed: Vec<u8> = random
            .chunks(PIECE)
            .zip(text.chunks(PIECE))
            .enumerate()
            .flat_map(|(i, (r, t))| if i % 3 == 0 { r.to_vec() } else { t.to_vec() })
            .collect();
        let gz = compress(&mixed, Compression::Gzip, None);
        assert!(gz.len() < mixed.len() / 2, "the text pieces are compressed");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert!(back == mixed);
    }

    #[test]
    fn media_types() {
        assert_eq!(
            Compression::from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::from_media_type(DOCKER_LAYER), Some(Compression::Gzip));
        assert_eq!(
            Compression::from_media_type("application/vnd.docker.image.rootfs.diff.tar"),
            Some(Compression::None)
        );
        assert_eq!(Compression::Zstd.media_type(true), None);
    }
}
