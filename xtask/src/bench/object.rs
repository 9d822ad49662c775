//! The object storage section of `cargo xtask bench`: fileio-object against
//! object_store called directly, side by side in one run, on object_store's
//! `ThrottledStore` over `InMemory`, a stand-in for S3 with [`GET_LATENCY`] per request
//! and [`NS_PER_BYTE`] per byte of a response (about 100 MB/s a connection).
//!
//! - `zipf4k-t64`: Zipf(0.99) 4 KiB reads from 64 tasks; fileio (cache, default
//!   coherence) against `get_range` for every read. Operations per second.
//! - `seq1m`: the whole object in 1 MiB reads through fileio (read-ahead) against one
//!   streaming GET. MB/s.
//! - `hit4k`: the time of one cached 4 KiB read of an object under the default
//!   `Interval` coherence against one of a local file under `Exclusive`, on one task.
//!
//! With `--s3` the first two also run against moto, a local S3-compatible server, on an
//! 8 MiB object (`MOTO_SIZE`).
//!
//! The object is 16 MiB with `--quick`, 64 MiB by default and 256 MiB with `--full`, so
//! that the default run stays short; each side runs for the preset's repetition time
//! (at least half a second); fileio's random reads after a warm-up of two spans per
//! 16 MiB of object (at least two), which lets its cache take in the hot blocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fileio_core::{AsyncFile, AsyncStream, Coherence, RangeCache};
use fileio_object::ObjectOptions;
use fileio_object::object_store::memory::InMemory;
use fileio_object::object_store::path::Path;
use fileio_object::object_store::throttle::{ThrottleConfig, ThrottledStore};
use fileio_object::object_store::{ObjectStore, ObjectStoreExt};
use futures_lite::StreamExt;

use super::measure::{Rng, Zipf};
use super::{Plan, Preset};

/// What one GET costs before its first byte.
const GET_LATENCY: Duration = Duration::from_millis(20);
/// What each byte of a response costs (100 MB/s a connection).
const NS_PER_BYTE: u64 = 10;
/// The object's size on moto, whatever the preset: moto copies the whole object to
/// answer a ranged GET, in one Python process, so a GET costs time in proportion to
/// the object's size (about 50 ms at 64 MiB on the reference machine).
#[cfg(feature = "s3")]
const MOTO_SIZE: u64 = 8 * MIB;
/// Tasks of the random-read case.
const TASKS: usize = 64;
const MIB: u64 = 1 << 20;

/// One row of the section: fileio's figure, the baseline's, their ratio and the
/// ratio the issue asks for.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ObjectRow {
    /// `throttled` (`ThrottledStore` over `InMemory`) or `moto` (`--s3`).
    pub(crate) store: String,
    pub(crate) case: String,
    pub(crate) unit: String,
    pub(crate) fileio: f64,
    pub(crate) baseline_name: String,
    pub(crate) baseline: f64,
    /// fileio against the baseline, as the target states it (higher is better for
    /// rates; for times, the baseline's time over fileio's inverted: fileio / baseline).
    pub(crate) ratio: f64,
    pub(crate) target: String,
    pub(crate) met: bool,
}

fn object_size(preset: Preset) -> u64 {
    match preset {
        Preset::Quick => 16 * MIB,
        Preset::Default => 64 * MIB,
        Preset::Full => 256 * MIB,
    }
}

/// Runs the selected cases; an empty list when the filters select none.
pub(crate) fn run(plan: &Plan) -> Result<Vec<ObjectRow>, String> {
    let ids = ["object/zipf4k-t64", "object/seq1m", "object/hit4k"];
    if !ids.iter().any(|id| plan.selects(id)) {
        return Ok(Vec::new());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("object bench: runtime: {e}"))?;
    let span = plan.rep_time.max(Duration::from_millis(500));
    let size = object_size(plan.preset);
    println!(
        "\nobject storage: ThrottledStore over InMemory, {} ms a GET, {} ns a byte, {} MiB object, {} ms per side",
        GET_LATENCY.as_millis(),
        NS_PER_BYTE,
        size / MIB,
        span.as_millis()
    );
    rt.block_on(async {
        let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let data: Vec<u8> = (0..size).map(|i| (i as u8).wrapping_mul(29)).collect();
        inner
            .put(&Path::from("bench/object"), data.into())
            .await
            .map_err(|e| format!("object bench: put: {e}"))?;
        let store: Arc<dyn ObjectStore> = Arc::new(ThrottledStore::new(
            inner,
            ThrottleConfig {
                wait_get_per_call: GET_LATENCY,
                wait_get_per_byte: Duration::from_nanos(NS_PER_BYTE),
                ..ThrottleConfig::default()
            },
        ));
        let mut rows = Vec::new();
        if plan.selects(ids[0]) {
            rows.push(zipf(&store, "throttled", size, span).await?);
        }
        if plan.selects(ids[1]) {
            rows.push(sequential(&store, "throttled", size).await?);
        }
        if plan.selects(ids[2]) {
            rows.push(hit(&store, span).await?);
        }
        if plan.s3 {
            rows.extend(against_s3(plan, span).await?);
        }
        for r in &rows {
            println!(
                "  {:<9} {:<12} fileio {:>10.1} {:<7} {:<24} {:>10.1}  ratio {:>6.2} (target {}) {}",
                r.store,
                r.case,
                r.fileio,
                r.unit,
                r.baseline_name,
                r.baseline,
                r.ratio,
                r.target,
                if r.met { "met" } else { "NOT met" }
            );
        }
        Ok(rows)
    })
}

/// Reads per second from [`TASKS`] tasks for `span`, each read at a Zipf offset.
async fn zipf_rate<F, Fut>(size: u64, span: Duration, read: F) -> Result<f64, String>
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let zipf = Arc::new(Zipf::new(size / 4096, 0.99));
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + span;
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let (zipf, done, read) = (Arc::clone(&zipf), Arc::clone(&done), read.clone());
            tokio::spawn(async move {
                let mut rng = Rng::new(0x9e37_79b9 + t as u64);
                while Instant::now() < until {
                    read(zipf.sample(&mut rng) * 4096).await?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    let started = Instant::now();
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

async fn zipf(
    store: &Arc<dyn ObjectStore>,
    label: &str,
    size: u64,
    span: Duration,
) -> Result<ObjectRow, String> {
    let cache = RangeCache::builder()
        .capacity(size)
        .build()
        .map_err(|e| e.to_string())?;
    let file = ObjectOptions::new()
        .cache(cache)
        .open(Arc::clone(store), "bench/object")
        .await
        .map_err(|e| e.to_string())?;
    let read_file = move |at: u64| {
        let file = file.clone();
        async move {
            file.read_at(at, 4096)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    // Warm-up until the cache holds the hot blocks (every cold block costs a GET, so a
    // larger object needs longer), then the measured span.
    let warm = span * u32::try_from((size / (16 * MIB)).clamp(2, 16)).unwrap_or(2);
    zipf_rate(size, warm, read_file.clone()).await?;
    let fileio = zipf_rate(size, span, read_file).await?;
    let direct = Arc::clone(store);
    let baseline = zipf_rate(size, span, move |at: u64| {
        let store = Arc::clone(&direct);
        async move {
            store
                .get_range(&Path::from("bench/object"), at..at + 4096)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await?;
    let ratio = fileio / baseline;
    Ok(ObjectRow {
        store: label.into(),
        case: "zipf4k-t64".into(),
        unit: "ops/s".into(),
        fileio,
        baseline_name: "get_range per read".into(),
        baseline,
        ratio,
        target: ">= 20x".into(),
        met: ratio >= 20.0,
    })
}

async fn sequential(
    store: &Arc<dyn ObjectStore>,
    label: &str,
    size: u64,
) -> Result<ObjectRow, String> {
    let mb = size as f64 / 1e6;
    let mut fileio = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..3 {
        let mut file: AsyncFile = ObjectOptions::new()
            .no_cache()
            .open(Arc::clone(store), "bench/object")
            .await
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut got = 0;
        loop {
            let chunk = file.read(MIB as usize).await.map_err(|e| e.to_string())?;
            if chunk.is_empty() {
                break;
            }
            got += chunk.len() as u64;
        }
        if got != size {
            return Err(format!("object bench: read {got} of {size} bytes"));
        }
        fileio.push(mb / started.elapsed().as_secs_f64());
        let started = Instant::now();
        let mut stream = store
            .get(&Path::from("bench/object"))
            .await
            .map_err(|e| e.to_string())?
            .into_stream();
        let mut got = 0;
        while let Some(chunk) = stream.next().await {
            got += chunk.map_err(|e| e.to_string())?.len() as u64;
        }
        if got != size {
            return Err(format!("object bench: streamed {got} of {size} bytes"));
        }
        baseline.push(mb / started.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (fileio, baseline) = (median(&mut fileio), median(&mut baseline));
    let ratio = fileio / baseline;
    Ok(ObjectRow {
        store: label.into(),
        case: "seq1m".into(),
        unit: "MB/s".into(),
        fileio,
        baseline_name: "one streaming GET".into(),
        baseline,
        ratio,
        target: ">= 0.8x".into(),
        met: ratio >= 0.8,
    })
}

/// Nanoseconds per read of `read` over 4 KiB offsets of a 1 MiB hot range, for `span`.
async fn ns_per_hit(file: &AsyncFile, span: Duration) -> Result<f64, String> {
    let mut rng = Rng::new(7);
    // Warm: every block cached.
    for at in (0..MIB).step_by(4096) {
        file.read_at(at, 4096).await.map_err(|e| e.to_string())?;
    }
    let until = Instant::now() + span;
    let started = Instant::now();
    let mut n = 0u64;
    while Instant::now() < until {
        for _ in 0..1000 {
            file.read_at(rng.below(MIB / 4096) * 4096, 4096)
                .await
                .map_err(|e| e.to_string())?;
        }
        n += 1000;
    }
    Ok(started.elapsed().as_nanos() as f64 / n as f64)
}

async fn hit(store: &Arc<dyn ObjectStore>, span: Duration) -> Result<ObjectRow, String> {
    let object = ObjectOptions::new()
        .cache(RangeCache::builder().build().map_err(|e| e.to_string())?)
        .open(Arc::clone(store), "bench/object")
        .await
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("local.dat");
    std::fs::write(&path, vec![7u8; MIB as usize]).map_err(|e| e.to_string())?;
    let local = AsyncFile::options()
        .coherence(Coherence::Exclusive)
        .cache(RangeCache::builder().build().map_err(|e| e.to_string())?)
        .open(&path)
        .await
        .map_err(|e| e.to_string())?;
    // The same task and runtime for both, alternating, the best of three each.
    let (mut o, mut l) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        o = o.min(ns_per_hit(&object, span / 3).await?);
        l = l.min(ns_per_hit(&local, span / 3).await?);
    }
    let ratio = o / l;
    Ok(ObjectRow {
        store: "throttled".into(),
        case: "hit4k".into(),
        unit: "ns/read".into(),
        fileio: o,
        baseline_name: "local file, Exclusive".into(),
        baseline: l,
        ratio,
        target: "<= 2x".into(),
        met: ratio <= 2.0,
    })
}

/// The random and sequential cases against a local S3-compatible server (moto, started
/// as `cargo xtask ci` starts it, or the one [`ENDPOINT_VAR`](crate::s3::ENDPOINT_VAR)
/// names), with the object uploaded first. No rows, after a note, without a server.
#[cfg(feature = "s3")]
async fn against_s3(plan: &Plan, span: Duration) -> Result<Vec<ObjectRow>, String> {
    let size = MOTO_SIZE;
    let server = crate::s3::start()?;
    let endpoint = match (&server, std::env::var(crate::s3::ENDPOINT_VAR)) {
        (Some(server), _) => server.endpoint.clone(),
        (None, Ok(endpoint)) => endpoint,
        (None, Err(_)) => {
            println!("  moto: no S3-compatible server, skipped");
            return Ok(Vec::new());
        }
    };
    crate::s3::create_bucket(&endpoint, "fileio-bench")?;
    let store: Arc<dyn ObjectStore> = Arc::new(
        fileio_object::object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_allow_http(true)
            .with_bucket_name("fileio-bench")
            .with_region("us-east-1")
            .with_access_key_id("bench")
            .with_secret_access_key("bench")
            .build()
            .map_err(|e| format!("object bench: S3 client: {e}"))?,
    );
    let data: Vec<u8> = (0..size).map(|i| (i as u8).wrapping_mul(29)).collect();
    store
        .put(&Path::from("bench/object"), data.into())
        .await
        .map_err(|e| format!("object bench: put to moto: {e}"))?;
    let mut rows = Vec::new();
    if plan.selects("object/zipf4k-t64") {
        rows.push(zipf(&store, "moto", size, span).await?);
    }
    if plan.selects("object/seq1m") {
        rows.push(sequential(&store, "moto", size).await?);
    }
    drop(server);
    Ok(rows)
}

/// Without the `s3` feature: `--s3` needs a harness built with it.
#[cfg(not(feature = "s3"))]
async fn against_s3(_: &Plan, _: Duration) -> Result<Vec<ObjectRow>, String> {
    Err(
        "`--s3`: this harness was built without the `s3` feature (run `cargo xtask bench --s3`)"
            .into(),
    )
}

/// The section of `report.md`; empty without rows.
pub(crate) fn markdown(rows: &[ObjectRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n## Object storage\n\nfileio-object on `ThrottledStore` over `InMemory` ({} ms a GET, {} ns a byte) \
         (`throttled`), and with `--s3` on moto, a local S3-compatible server, against \
         object_store called directly, in the same run.\n\n\
         | store | case | unit | fileio | baseline | baseline value | ratio | target |\n|---|---|---|--:|---|--:|--:|---|\n",
        GET_LATENCY.as_millis(),
        NS_PER_BYTE
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {:.1} | {} | {:.1} | {:.2} | {} {} |\n",
            r.store,
            r.case,
            r.unit,
            r.fileio,
            r.baseline_name,
            r.baseline,
            r.ratio,
            r.target,
            if r.met { "(met)" } else { "(not met)" }
        ));
    }
    s
}
