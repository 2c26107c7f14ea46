// swift-tools-version: 6.1
//
// Plazo: privacy-preserving justice statistics.
// The module graph follows the data (see docs/architecture.md):
//   CSodium -> PlazoSodium -> PlazoWire -> PlazoAgency / PlazoCases -> PlazoStore -> PlazoLedger -> ... -> PlazoCLI
// A module never imports one further along the path.

import Foundation
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

var products: [Product] = [
    .executable(name: "plazo", targets: ["PlazoCLI"]),
]

var dependencies: [Package.Dependency] = [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.0"),
    // Named directly because PlazoServer and PlazoCLI import their modules (NIOCore, NIOPosix, HTTPTypes);
    // Hummingbird brings the same versions.
    .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    // The PostgreSQL backend (several replicas on one database): the wire protocol client.
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
]

var targets: [Target] = [
    // The one C module: libsodium 1.0.18 through pkg-config. Only PlazoSodium may import it.
    .systemLibrary(
        name: "CSodium",
        pkgConfig: "libsodium",
        providers: [.apt(["libsodium-dev"])]
    ),
    // The Swift face of libsodium: sealed boxes, Ed25519, BLAKE2b, CSPRNG, constant-time compare, secret memory.
    .target(name: "PlazoSodium", dependencies: ["CSodium"], swiftSettings: strict),
    // The event vocabulary v1 (specs/events.md): codes, days, the fixed-width record. No dependencies.
    .target(name: "PlazoModel", swiftSettings: strict),
    // Seeded, deterministic, non-cryptographic generators (SplitMix64, xoshiro256**) for simulations,
    // synthetic data and tests. They never protect anything: keys and privacy noise come from libsodium.
    .target(name: "PlazoRandom", swiftSettings: strict),
    // Formats that cross a trust boundary: key files, the batch wire format v1 (specs/batch-format.md).
    .target(name: "PlazoWire", dependencies: ["PlazoSodium", "PlazoModel"], swiftSettings: strict),
    // The agency toolkit: CSV exports, normalisation, pseudonyms, splitting into sealed batches.
    .target(
        name: "PlazoAgency",
        dependencies: ["PlazoWire", "PlazoModel", "PlazoSodium", .product(name: "Yams", package: "Yams")],
        swiftSettings: strict
    ),
    // Case state: a deterministic function of the set of events of one case.
    // Prefetch hints for the case index (a static inline C function: Swift has none).
    .target(name: "CPlazoPrefetch"),
    .target(name: "PlazoCases", dependencies: ["PlazoModel", "CPlazoPrefetch"], swiftSettings: strict),
    // Differential privacy: exact samplers, mechanisms, accounting, accuracy. Pure; randomness from PlazoSodium.
    .target(name: "PlazoPrivacy", dependencies: ["PlazoSodium", "PlazoRandom"], swiftSettings: strict),
    // The store: the batch log, agency registry, tokens, the budget ledger's rows and releases, written
    // once against a small SQL interface with two engines: embedded SQLite (GRDB, the default) and
    // PostgreSQL (postgres-nio) for several replicas on one database. It knows no privacy rule.
    .target(
        name: "PlazoStore",
        dependencies: [
            "PlazoModel", "PlazoWire", "PlazoSodium",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: strict
    ),
    // The privacy-budget ledger: its rules (budgets, balances, shortfalls, raises, rounding into
    // units) as pure functions, applied to the store's ledger rows in one transaction per change.
    .target(name: "PlazoLedger", dependencies: ["PlazoPrivacy", "PlazoModel", "PlazoStore"], swiftSettings: strict),
    // The receive pipeline: verification order, replay rules, one transaction per batch, receipts.
    .target(
        name: "PlazoIngest",
        dependencies: [
            "PlazoWire", "PlazoModel", "PlazoSodium", "PlazoCases", "PlazoStore",
            .product(name: "Logging", package: "swift-log"),
        ],
        swiftSettings: strict
    ),
    // Releases: specs, exact noise on tabulated cells, post-processing, intervals, immutable storage,
    // CSV and Data Package export (zip with deflate through ZIPFoundation, or tar).
    .target(
        name: "PlazoReleases",
        dependencies: [
            "PlazoCases", "PlazoPrivacy", "PlazoStore", "PlazoLedger", "PlazoModel", "PlazoRandom",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ],
        swiftSettings: strict
    ),
    // The application layer: one service owning the store, ingest, the case index, releases and
    // the snapshot and follower policy. The server and the CLI call it; nothing else wires them.
    .target(
        name: "PlazoApp",
        dependencies: [
            "PlazoIngest", "PlazoReleases", "PlazoStore", "PlazoCases", "PlazoModel", "PlazoWire", "PlazoSodium",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ],
        swiftSettings: strict
    ),
    // The oversight dashboards as a product: queries, answers from published releases, the
    // bilingual (Spanish first) text, SVG charts and CSV. Plain values in, typed values and bytes
    // out: no HTTP.
    .target(name: "PlazoDashboards", dependencies: ["PlazoReleases", "PlazoCases", "PlazoModel"], swiftSettings: strict),
    // The HTTP service (Hummingbird 2): routes, error bodies, metrics, request logging.
    .target(
        name: "PlazoServer",
        dependencies: [
            "PlazoApp", "PlazoIngest", "PlazoStore", "PlazoWire", "PlazoModel", "PlazoSodium", "PlazoPrivacy", "PlazoReleases",
            "PlazoCases", "PlazoLedger", "PlazoDashboards",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ],
        // The web page at `/`, compiled into the binary (`PackageResources.*`): no files to deploy.
        resources: [
            .embedInCode("Web/index.html"), .embedInCode("Web/dashboard.js"), .embedInCode("Web/dashboard.css"),
        ],
        swiftSettings: strict
    ),
    // Synthetic agency exports for demos, tests and benchmarks (deterministic for a seed).
    .target(name: "PlazoSynth", dependencies: ["PlazoModel", "PlazoRandom"], swiftSettings: strict),
    // The `plazo` command.
    .executableTarget(
        name: "PlazoCLI",
        dependencies: [
            "PlazoSodium", "PlazoModel", "PlazoWire", "PlazoAgency", "PlazoCases", "PlazoPrivacy", "PlazoStore",
            "PlazoIngest", "PlazoServer", "PlazoSynth", "PlazoReleases", "PlazoApp", "PlazoLedger",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ],
        swiftSettings: strict
    ),

    .testTarget(name: "PlazoRandomTests", dependencies: ["PlazoRandom"], swiftSettings: strict),
    .testTarget(name: "PlazoSodiumTests", dependencies: ["PlazoSodium"], swiftSettings: strict),
    .testTarget(name: "PlazoModelTests", dependencies: ["PlazoModel"], swiftSettings: strict),
    .testTarget(name: "PlazoWireTests", dependencies: ["PlazoWire", "PlazoSodium", "PlazoModel"], swiftSettings: strict),
    .testTarget(name: "PlazoAgencyTests", dependencies: ["PlazoAgency", "PlazoWire", "PlazoSodium", "PlazoModel"], swiftSettings: strict),
    .testTarget(name: "PlazoCasesTests", dependencies: ["PlazoCases", "PlazoModel", "PlazoRandom"], swiftSettings: strict),
    .testTarget(name: "PlazoPrivacyTests", dependencies: ["PlazoPrivacy"], swiftSettings: strict),
    .testTarget(
        name: "PlazoStoreTests",
        dependencies: ["PlazoStore", .product(name: "GRDB", package: "GRDB.swift")],
        swiftSettings: strict
    ),
    .testTarget(
        name: "PlazoLedgerTests",
        dependencies: ["PlazoLedger", "PlazoStore", "PlazoPrivacy", "PlazoModel"],
        swiftSettings: strict
    ),
    .testTarget(
        name: "PlazoReleasesTests",
        dependencies: [
            "PlazoReleases", "PlazoCases", "PlazoPrivacy", "PlazoStore", "PlazoLedger", "PlazoModel", "PlazoRandom",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ],
        swiftSettings: strict
    ),
    .testTarget(name: "PlazoSynthTests", dependencies: ["PlazoSynth", "PlazoAgency", "PlazoModel", "PlazoSodium"], swiftSettings: strict),
    .testTarget(
        name: "PlazoIngestTests",
        dependencies: [
            "PlazoIngest", "PlazoStore", "PlazoWire", "PlazoModel", "PlazoSodium", "PlazoCases", "PlazoRandom",
            .product(name: "GRDB", package: "GRDB.swift"),
        ],
        swiftSettings: strict
    ),
    .testTarget(name: "PlazoDashboardsTests", dependencies: ["PlazoDashboards", "PlazoModel"], swiftSettings: strict),
    .testTarget(
        name: "PlazoServerTests",
        dependencies: [
            "PlazoServer", "PlazoApp", "PlazoIngest", "PlazoStore", "PlazoWire", "PlazoModel", "PlazoSodium", "PlazoPrivacy",
            "PlazoCases", "PlazoReleases", "PlazoLedger",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ],
        swiftSettings: strict
    ),
    // The tests that run the `plazo` executable (end to end, operations, tokens, replicas). They
    // depend on PlazoCLI so that SwiftPM builds the binary before them, and find it beside the
    // test bundle under the name the command declares.
    .testTarget(
        name: "PlazoCLITests",
        dependencies: [
            "PlazoCLI", "PlazoIngest", "PlazoStore", "PlazoLedger", "PlazoWire", "PlazoModel", "PlazoSodium", "PlazoCases",
            "PlazoReleases",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ],
        swiftSettings: strict
    ),
]

// Benchmarks are compiled only when asked for (PLAZO_BENCHMARKS=1), so `swift test` never builds them.
if ProcessInfo.processInfo.environment["PLAZO_BENCHMARKS"] == "1" {
    dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"])
    )
    targets.append(
        .executableTarget(
            name: "PlazoBenchmarks",
            dependencies: [
                "PlazoSodium", "PlazoModel", "PlazoWire", "PlazoAgency", "PlazoPrivacy",
                "PlazoCases", "PlazoStore", "PlazoIngest", "PlazoServer", "PlazoReleases", "PlazoApp", "PlazoLedger",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Benchmarks/PlazoBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
    // The Plazo side of Benchmarks/compare.sh: prints one JSON line per measurement.
    targets.append(
        .executableTarget(
            name: "plazo-perf",
            dependencies: [
                "PlazoSodium", "PlazoModel", "PlazoWire", "PlazoCases", "PlazoStore", "PlazoIngest", "PlazoServer", "PlazoSynth",
                "PlazoPrivacy", "PlazoReleases", "PlazoRandom", "PlazoApp", "PlazoLedger",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Benchmarks/PlazoPerf"
        )
    )
}

let package = Package(
    name: "Plazo",
    platforms: [.macOS(.v14)],
    products: products,
    dependencies: dependencies,
    targets: targets
)
