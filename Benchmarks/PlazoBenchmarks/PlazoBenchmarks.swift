import Benchmark

/// Entry point for ordo-one/benchmark: every benchmark suite of the package.
/// Run: `PLAZO_BENCHMARKS=1 swift package --scratch-path .build-privacy-bench benchmark`.
let benchmarks: @Sendable () -> Void = {
    samplerBenchmarks()
    ingestBenchmarks()
    releaseBenchmarks()
}
