import AsyncHTTPClient
import Benchmark
import Foundation
import Hummingbird
import Logging
import NIOCore
import PlazoApp
import PlazoCases
import PlazoIngest
import PlazoModel
import PlazoServer
import PlazoSodium
import PlazoStore
import PlazoWire

/// The ingest hot path, each iteration one batch of 10,000 records (so events/s = 10,000 ×
/// iterations/s):
/// - "raw crypto_box_seal_open": libsodium opening the same sealed payload, nothing else — the
///   reference the in-memory path is compared with;
/// - "ingest in memory": verify (Ed25519) + open + decode + validate + apply to the case index;
/// - "ingest durable via HTTP": POST to a real Hummingbird server on loopback, stored in SQLite
///   (WAL, synchronous=FULL) in one transaction per batch, receipt signed.
func ingestBenchmarks() {
    let records = 10_000
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .microseconds,
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 10_000
    )

    /// Distinct batches, each of `records` events over a large population of cases.
    func makeBatches(_ count: Int, signer: SigningKeyPair, service: BoxPublicKey, agencyID: AgencyID) throws -> [[UInt8]] {
        let now = Int64(Date().timeIntervalSince1970)
        var rng: UInt64 = 0x5EED
        return try (0..<count).map { b in
            let events = (0..<records).map { i -> CaseEvent in
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                let type: EventType = [.reportReceived, .investigationOpened, .chargeFiled, .victimInformed][i % 4]
                return CaseEvent(
                    pseudonym: CasePseudonym(low: rng >> 12 % 5_000_000, high: UInt64(b % 3)), type: type,
                    detail: type == .victimInformed ? 1 : 0, day: Day(rawValue: UInt16(8000 + (rng >> 40) % 1500)),
                    attributes: type == .reportReceived
                        ? CaseAttributes(offence: .onlineGrooming, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 9)!, channel: .hotline)
                        : .unknown,
                    agencyType: .stateProsecutor
                )
            }
            return try BatchSealer.seal(events: events, agencyID: agencyID, batchID: BatchID.random(), createdAt: now, signer: signer, service: service)
        }
    }

    Benchmark("ingest: raw crypto_box_seal_open of a 10k-record payload", configuration: configuration) { benchmark in
        let service = try BoxKeyPair.generate()
        let batch = try makeBatches(1, signer: SigningKeyPair.generate(), service: service.publicKey, agencyID: 1)[0]
        let header = try BatchHeader.parse(batch)
        var plain = [UInt8](repeating: 0, count: Int(header.payloadLength) - SealedBox.overhead)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try batch.withUnsafeBytes { b in
                try plain.withUnsafeMutableBytes { p in
                    try SealedBox.open(UnsafeRawBufferPointer(rebasing: b[64..<(64 + Int(header.payloadLength))]), into: p, with: service)
                }
            }
            blackHole(plain[40])
        }
    }

    Benchmark("ingest: in memory, verify+open+decode+validate+apply, 10k-record batch", configuration: configuration) { benchmark in
        let service = try BoxKeyPair.generate()
        let agency = try SigningKeyPair.generate()
        let batches = try makeBatches(32, signer: agency, service: service.publicKey, agencyID: 1)
        let key = agency.publicKey
        let opener = BatchOpener(serviceKeys: [service]) { (_, _) throws(BatchError) in key }
        var index = CaseIndex(expectedCases: 400_000)
        var events: [CaseEvent] = []
        events.reserveCapacity(records)
        var plain = [UInt8](repeating: 0, count: BatchFormat.payloadHeaderSize + records * EventRecord.byteCount)
        let now = Int64(Date().timeIntervalSince1970)
        let latest = Day(unixSeconds: now)!.adding(days: 1)
        var n = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let batch = batches[n % batches.count]
            n += 1
            events.removeAll(keepingCapacity: true)
            try batch.withUnsafeBytes { b in
                let header = try opener.authenticate(b, now: now)
                try plain.withUnsafeMutableBytes { p in
                    try opener.openPayload(b, header: header, into: p)
                    BatchOpener.decodeRecords(
                        UnsafeRawBufferPointer(p), count: Int(header.recordCount), latestDay: latest,
                        accept: { _, e in events.append(e) }, reject: { _, _ in }
                    )
                }
            }
            blackHole(index.apply(events, from: AgencyID(1)))
        }
    }

    Benchmark(
        "ingest: durable via HTTP into SQLite, 10k-record batch",
        configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident], timeUnits: .milliseconds, warmupIterations: 2, maxDuration: .seconds(10), maxIterations: 200)
    ) { benchmark in
        let dir = NSTemporaryDirectory() + "plazo-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try BoxKeyPair.generate()
        let agency = try SigningKeyPair.generate()
        let database = try AppDatabase.open(path: dir + "/plazo.sqlite")
        let agencyID = try await AgencyRegistry(database).add(name: "bench", type: .stateProsecutor, publicKey: agency.publicKey, now: 0).id
        let ingest = try await IngestService(database: database, serviceKeys: [service], receiptKey: SigningKeyPair.generate())
        let batches = try makeBatches(benchmark.scaledIterations.count + 4, signer: agency, service: service.publicKey, agencyID: agencyID)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(service: PlazoService(ingest: ingest), configuration: .init(host: "127.0.0.1", port: 0), logger: logger) { port in
            portContinuation.yield(port)
        }
        let serverTask = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = portStream.makeAsyncIterator()
        let port = await iterator.next()!
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var n = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/batches")
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: batches[n]))
            n += 1
            let response = try await client.execute(request, timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            precondition(response.status.code == 201, "batch refused: \(response.status)")
        }
        benchmark.stopMeasurement()
        try await client.shutdown()
        serverTask.cancel()
    }
}
