import Benchmark
import PlazoPrivacy

/// Exact samplers on libsodium randomness: samples per second at scales 1, 10 and 1,000 (σ for the
/// Gaussian), plus a non-integer rational scale. Each iteration draws 1,000 samples, so the
/// throughput metric (scaled ×1000 by `scalingFactor: .kilo`) reads in thousands of samples/s …
/// the figures reported in docs/privacy-model.md divide wall-clock time per iteration.
func samplerBenchmarks() {
    let samplesPerIteration = 1000
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .instructions],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    for scale in ["1", "10", "1000", "3/2"] {
        Benchmark("discrete Laplace, scale \(scale) (×1000 samples)", configuration: configuration) { benchmark in
            let sampler = try DiscreteLaplaceSampler(scale: Rational(parsing: scale))
            var bits = try RandomBits.secure()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                var acc: Int64 = 0
                for _ in 0..<samplesPerIteration { acc &+= try sampler.sample(using: &bits) }
                blackHole(acc)
            }
        }
    }

    for sigma in ["1", "10", "1000", "3/2"] {
        Benchmark("discrete Gaussian, sigma \(sigma) (×1000 samples)", configuration: configuration) { benchmark in
            let s = try Rational(parsing: sigma)
            let sampler = try DiscreteGaussianSampler(sigmaSquared: s.multiplied(by: s))
            var bits = try RandomBits.secure()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                var acc: Int64 = 0
                for _ in 0..<samplesPerIteration { acc &+= try sampler.sample(using: &bits) }
                blackHole(acc)
            }
        }
    }

    Benchmark("Bernoulli(exp(-1/3)) (×1000 trials)", configuration: configuration) { benchmark in
        let sampler = try BernoulliExpSampler(gamma: Rational(1, 3))
        var bits = try RandomBits.secure()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var acc = 0
            for _ in 0..<samplesPerIteration where sampler.sample(using: &bits) { acc &+= 1 }
            blackHole(acc)
        }
    }
}
