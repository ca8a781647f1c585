//! Benchmark of `sluice kustomize` against `kubectl kustomize` (written in the next step).

fn main() {}
