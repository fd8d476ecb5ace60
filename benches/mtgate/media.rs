//! `cargo bench --bench mtgate -- --only media`: media throughput and memory (issue 15).
//!
//! One `mtgate sandbox` and one `mtgate serve`, as in the main bench. A 200 MiB file is
//! streamed (generated on the fly, never held by the bench) as a multipart upload over a raw
//! HTTP/1.1 connection while the service's VmRSS is sampled every 10 ms; then the file is
//! downloaded back through `GET /v1/messages/{peer}/{id}/media` and its SHA-256 compared.
//! Reports upload and download MiB/s and the service's RSS idle, peak while uploading, and the
//! kernel's high-water mark. Written to `target/bench/media.json`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cpu::{self, PerOp, Pids};
use crate::procs::{Error, Sandbox, Service};
use crate::rss;

/// The upload's size.
pub const FILE_BYTES: u64 = 200 * 1024 * 1024;
/// Bytes written to the socket at a time.
const CHUNK: usize = 64 * 1024;
const BOUNDARY: &str = "mtgate-bench-media";

#[derive(Debug, Serialize)]
pub struct MediaReport {
    pub file_mib: u64,
    pub upload_s: f64,
    pub upload_mib_s: f64,
    pub download_s: f64,
    pub download_mib_s: f64,
    pub idle_rss_kb: u64,
    /// Highest VmRSS sampled while the upload ran.
    pub upload_peak_rss_kb: u64,
    /// The kernel's VmHWM after both transfers (peak since the process started).
    pub hwm_kb: u64,
    pub peak_over_idle_mib: f64,
    pub download_identical: bool,
    /// CPU seconds each process spent on the upload and on the download (µs fields: per
    /// transfer), to tell a CPU-bound box from a slow path.
    pub upload_cpu: Option<PerOp>,
    pub download_cpu: Option<PerOp>,
}

pub async fn run(logs: &Path) -> Result<MediaReport, Error> {
    let sandbox = Sandbox::start(logs).await?;
    let service = Service::start(&sandbox.info, logs, 0).await?;
    let pid = service.pid().ok_or("mtgate serve has no pid")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss::read(pid)?;
    eprintln!("media bench: service idle RSS {} kB", idle.rss_kb);

    let peak = Arc::new(AtomicU64::new(idle.rss_kb));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Ok(now) = rss::read(pid) {
                    peak.fetch_max(now.rss_kb, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let pids = Pids {
        bench: std::process::id(),
        service: pid,
        sandbox: sandbox.pid().ok_or("mtgate sandbox has no pid")?,
    };
    let peer = sandbox.info.world.user.clone();
    let before = pids.snapshot();
    let started = Instant::now();
    let (id, sent_sha) = upload(&service, &peer).await?;
    let upload_cpu = cpu::per_op(before, pids.snapshot(), 1);
    let upload_s = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;
    eprintln!("media bench: 200 MiB uploaded in {upload_s:.2} s (message {id})");

    let before = pids.snapshot();
    let started = Instant::now();
    let (got_bytes, got_sha) = download(&service, &peer, id).await?;
    let download_s = started.elapsed().as_secs_f64();
    let download_cpu = cpu::per_op(before, pids.snapshot(), 1);
    let after = rss::read(pid)?;
    service.stop().await;
    drop(sandbox);

    let mib = FILE_BYTES as f64 / (1024.0 * 1024.0);
    let upload_peak_rss_kb = peak.load(Ordering::Relaxed);
    Ok(MediaReport {
        file_mib: FILE_BYTES / (1024 * 1024),
        upload_s,
        upload_mib_s: mib / upload_s,
        download_s,
        download_mib_s: mib / download_s,
        idle_rss_kb: idle.rss_kb,
        upload_peak_rss_kb,
        hwm_kb: after.hwm_kb,
        peak_over_idle_mib: (upload_peak_rss_kb.saturating_sub(idle.rss_kb)) as f64 / 1024.0,
        download_identical: got_bytes == FILE_BYTES && got_sha == sent_sha,
        upload_cpu,
        download_cpu,
    })
}

/// Pseudo-random bytes, the same for the same position (xorshift per 8-byte word).
fn fill(buf: &mut [u8], offset: u64) {
    for (i, word) in buf.chunks_mut(8).enumerate() {
        let mut x = (offset / 8 + i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        word.copy_from_slice(&bytes[..word.len()]);
    }
}

/// Streams the multipart upload; the new message's id and the SHA-256 of what was sent.
async fn upload(service: &Service, peer: &str) -> Result<(i64, String), Error> {
    let json = serde_json::json!({"peer": peer, "media": {"kind": "document"}});
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{json}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let length = head.len() as u64 + FILE_BYTES + tail.len() as u64;
    let address = service.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n{head}",
        service.api_key
    );
    stream.write_all(request.as_bytes()).await?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut sent = 0u64;
    while sent < FILE_BYTES {
        let n = CHUNK.min((FILE_BYTES - sent) as usize);
        fill(&mut buf[..n], sent);
        sha.update(&buf[..n]);
        stream.write_all(&buf[..n]).await?;
        sent += n as u64;
    }
    stream.write_all(tail.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer);
    let (status_line, rest) = answer.split_once("\r\n").ok_or("no HTTP answer")?;
    if !status_line.contains(" 201 ") {
        return Err(format!("upload answered {status_line}: {rest}").into());
    }
    let body = rest
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .ok_or("no body")?;
    let message: serde_json::Value = serde_json::from_str(body.trim())?;
    let id = message["id"].as_i64().ok_or("no message id")?;
    Ok((id, hex(&sha.finalize())))
}

/// Reads the file back chunk by chunk; its length and SHA-256.
async fn download(service: &Service, peer: &str, id: i64) -> Result<(u64, String), Error> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let mut response = http
        .get(format!(
            "{}/v1/messages/{peer}/{id}/media",
            service.base_url
        ))
        .bearer_auth(&service.api_key)
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(format!("download answered {}", response.status()).into());
    }
    let mut sha = Sha256::new();
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await? {
        total += chunk.len() as u64;
        sha.update(&chunk);
    }
    Ok((total, hex(&sha.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The table printed after the run.
pub fn render(report: &MediaReport) -> String {
    format!(
        "media ({} MiB file)\n\
         | what | value |\n|---|---|\n\
         | upload throughput | {:.1} MiB/s ({:.2} s) |\n\
         | download throughput | {:.1} MiB/s ({:.2} s) |\n\
         | service RSS idle | {:.1} MiB |\n\
         | service RSS peak while uploading | {:.1} MiB (idle + {:.1} MiB; target idle + 32) |\n\
         | service VmHWM after both | {:.1} MiB |\n\
         | download byte-identical | {} |\n\
         | CPU s (bench / service / sandbox), upload | {} |\n\
         | CPU s (bench / service / sandbox), download | {} |\n",
        report.file_mib,
        report.upload_mib_s,
        report.upload_s,
        report.download_mib_s,
        report.download_s,
        report.idle_rss_kb as f64 / 1024.0,
        report.upload_peak_rss_kb as f64 / 1024.0,
        report.peak_over_idle_mib,
        report.hwm_kb as f64 / 1024.0,
        report.download_identical,
        cpu_seconds(report.upload_cpu),
        cpu_seconds(report.download_cpu),
    )
}

fn cpu_seconds(cpu: Option<PerOp>) -> String {
    cpu.map_or("n/a".into(), |c| {
        format!(
            "{:.1} / {:.1} / {:.1}",
            c.bench_us / 1e6,
            c.service_us / 1e6,
            c.sandbox_us / 1e6
        )
    })
}
