//! Spec ingestion: raw bytes → `Document` with every operation's input
//! schema built, i.e. everything the deck needs to describe every operation.
//!
//! Inputs: the five services' specs of `tests/specs` (always there, their
//! prose left out as the loader leaves it out of the originals), and the
//! large GitHub specs of `@octokit/openapi@23.0.2` (`api.github.com.json`, 13 MB,
//! 1,223 operations; `ghec.deref.json`, 78 MB, 1,471 operations, fully
//! dereferenced) when `bench/fetch-octokit.sh` has cached them in
//! `bench-cache/`. Without the cache those two are skipped with a note saying
//! how to fetch them. `bench/ingest.sh` prints load time and peak RSS beside
//! Python's `json.load` on the same files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opdeck::spec::{LoadOptions, load};

fn ingest(bytes: &[u8]) -> usize {
    let doc = load(bytes, "bench", &LoadOptions::default()).expect("spec loads");
    doc.operations.iter().map(|o| o.input_schema().as_object().map_or(0, |m| m.len())).sum()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bench(c: &mut Criterion) {
    let specs = root().join("tests/specs");
    let mut inputs: Vec<(String, PathBuf)> = [
        "seald-dashboard-v2.openapi.yaml",
        "dracoon-4.42.openapi.json",
        "selfprivacy-1.2.0.openapi.yaml",
        "wildduck-1.46.1.openapi.json",
        "kitsu-zou-1.0.97.openapi.json",
    ]
    .into_iter()
    .map(|f| (f.to_owned(), specs.join(f)))
    .collect();
    let cache = root().join("bench-cache/octokit");
    for f in ["api.github.com.json", "ghec.deref.json"] {
        let path = cache.join(f);
        if path.is_file() {
            inputs.push((f.to_owned(), path));
        } else {
            eprintln!("skipping {f}: not cached; run bench/fetch-octokit.sh to fetch it");
        }
    }
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, path) in inputs {
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("skipping {name}: cannot read {}", path.display());
            continue;
        };
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(&name, |b| b.iter(|| ingest(&bytes)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
