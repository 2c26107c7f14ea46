import ArgumentParser
#if canImport(CoreFoundation)
// timespec and clock_gettime: with ZIPFoundation in the build graph, the Clang importer attributes
// them to CoreFoundation, which MemberImportVisibility then asks to see imported.
import CoreFoundation
#endif
import Foundation
#if canImport(CoreFoundation)
import CoreFoundation  // timespec and clock_gettime, once a dependency (Yams) makes them resolve there
#endif
import PlazoPrivacy

/// `plazo noise ...`: tools for auditing the noise samplers.
struct NoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise",
        abstract: "Audit the exact noise samplers.",
        subcommands: [Sample.self, Bench.self]
    )

    /// The two noise distributions, as named on the command line.
    enum Mechanism: String, ExpressibleByArgument, CaseIterable {
        case gaussian, laplace
    }

    /// Options shared by `sample` and `bench`.
    struct Distribution: ParsableArguments {
        @Option(help: "gaussian (discrete Gaussian) or laplace (discrete Laplace).")
        var mechanism: Mechanism

        @Option(help: ArgumentHelp(
            "Noise scale, exact rational (3/2, 1.5, 10): b for laplace, σ for gaussian (σ² = scale²).",
            valueName: "rational"))
        var scale: String?

        @Option(name: .customLong("sigma-squared"),
                help: ArgumentHelp("gaussian only: σ² directly, exact rational (instead of --scale).", valueName: "rational"))
        var sigmaSquared: String?

        /// The scale as a JSON number when it is an integer (as compare.sh asks), else a JSON string.
        var scaleLabelForJSON: String {
            guard let scale else { return "\"σ²=\(sigmaSquared ?? "")\"" }
            return Int(scale).map(String.init) ?? "\"\(scale)\""
        }

        /// Builds the sampler, refusing bad or ambiguous parameters.
        func sampler() throws -> any NoiseSource {
            switch mechanism {
            case .laplace:
                if sigmaSquared != nil { throw ValidationError("--sigma-squared applies to gaussian only") }
                guard let scale else { throw ValidationError("--scale is required for laplace") }
                return try LaplaceSource(sampler: DiscreteLaplaceSampler(scale: Rational(parsing: scale)))
            case .gaussian:
                let s2: Rational
                switch (scale, sigmaSquared) {
                case let (scale?, nil):
                    let sigma = try Rational(parsing: scale)
                    s2 = try sigma.multiplied(by: sigma)
                case let (nil, v?): s2 = try Rational(parsing: v)
                default: throw ValidationError("give exactly one of --scale (σ) or --sigma-squared for gaussian")
                }
                return try GaussianSource(sampler: DiscreteGaussianSampler(sigmaSquared: s2))
            }
        }
    }

    /// `plazo noise sample`: prints samples, one integer per line, for external distribution tests.
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print N exact noise samples (one integer per line) from libsodium randomness.")

        @OptionGroup var distribution: Distribution

        @Option(name: .shortAndLong, help: "Number of samples.")
        var n: Int = 1

        func validate() throws {
            if n < 0 { throw ValidationError("-n must be ≥ 0") }
        }

        func run() throws {
            let source = try distribution.sampler()
            var bits = try RandomBits.secure()  // production randomness only
            let out = FileHandle.standardOutput
            var text = ""
            text.reserveCapacity(1 << 17)
            var remaining = n
            while remaining > 0 {
                let chunk = min(remaining, 8192)
                for _ in 0..<chunk {
                    text += String(try source.sample(using: &bits))
                    text += "\n"
                }
                out.write(Data(text.utf8))
                text.removeAll(keepingCapacity: true)
                remaining -= chunk
            }
        }
    }

    /// `plazo noise bench`: samples per second in this build (use a release build).
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure samples per second of a sampler (build with -c release for meaningful figures).")

        @OptionGroup var distribution: Distribution

        @Option(name: .shortAndLong, help: "Number of samples.")
        var n: Int = 5_000_000

        @Flag(name: .long, help: "Print one JSON line (for Benchmarks/compare.sh).")
        var json = false

        func run() throws {
            let source = try distribution.sampler()
            var bits = try RandomBits.secure()
            var checksum: Int64 = 0
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = Self.threadCPUSeconds()
            for _ in 0..<n { checksum &+= try source.sample(using: &bits) }
            let cpu = Self.threadCPUSeconds() - cpuStart
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if json {
                print(#"{"metric":"sampler","implementation":"plazo","mechanism":"\#(distribution.mechanism.rawValue)","scale":\#(distribution.scaleLabelForJSON),"samples_per_s":\#(Double(n) / cpu),"wall_samples_per_s":\#(Double(n) / seconds)}"#)
                return
            }
            // CPU time of this thread: the per-core rate, insensitive to other processes on the machine.
            print("\(distribution.mechanism.rawValue) \(source.label): \(n) samples, wall \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(n) / seconds)) samples/s; cpu \(String(format: "%.3f", cpu)) s = \(String(format: "%.0f", Double(n) / cpu)) samples/s per core (checksum \(checksum))")
        }

        static func threadCPUSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
    }
}

/// A sampler behind one interface for the CLI.
protocol NoiseSource {
    var label: String { get }
    func sample(using bits: inout RandomBits) throws(PrivacyError) -> Int64
}

struct LaplaceSource: NoiseSource {
    let sampler: DiscreteLaplaceSampler
    var label: String { "scale \(sampler.scale)" }
    func sample(using bits: inout RandomBits) throws(PrivacyError) -> Int64 { try sampler.sample(using: &bits) }
}

struct GaussianSource: NoiseSource {
    let sampler: DiscreteGaussianSampler
    var label: String { "σ² \(sampler.sigmaSquared)" }
    func sample(using bits: inout RandomBits) throws(PrivacyError) -> Int64 { try sampler.sample(using: &bits) }
}
