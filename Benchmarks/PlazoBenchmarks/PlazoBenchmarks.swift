import Benchmark

/// Entry point for ordo-one/benchmark: every benchmark suite of the package.
/// Run: `PLAZO_BENCHMARKS=1 swift package --scratch-path .build-bench benchmark` (add `--filter "dashboard.*"` etc.).
let benchmarks: @Sendable () -> Void = {
    samplerBenchmarks()
    ingestBenchmarks()
    dashboardBenchmarks()
    releaseBenchmarks()
}
