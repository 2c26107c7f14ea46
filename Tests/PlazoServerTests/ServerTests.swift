import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PlazoApp
import PlazoIngest
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire
import Testing

@testable import PlazoServer

/// The real application over a fresh store with one registered agency.
struct ServerFixture {
    let directory: String
    let service: BoxKeyPair
    let receiptKey: SigningKeyPair
    let agency: SigningKeyPair
    let other: SigningKeyPair
    let agencyID: UInt32
    let otherID: UInt32
    let ingest: IngestService

    /// - Parameter onSQLite: a SQLite store whatever engine the suite runs on (tests of the HTTP
    ///   layer alone, whose timing the in-process PostgreSQL fixture of a loaded parallel run would
    ///   only blur).
    init(onSQLite: Bool = false) async throws {
        directory = NSTemporaryDirectory() + "plazo-server-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        service = try BoxKeyPair.generate()
        receiptKey = try SigningKeyPair.generate()
        agency = try SigningKeyPair.generate()
        other = try SigningKeyPair.generate()
        let database = onSQLite
            ? try AppDatabase.open(path: directory + "/plazo.sqlite")
            : try await AppDatabase.open(location: AppDatabase.testLocation(in: directory))
        let now = Int64(Date().timeIntervalSince1970)
        agencyID = try await AgencyRegistry(database).add(name: "Fiscalía Jalisco", type: .stateProsecutor, publicKey: agency.publicKey, now: now).id.rawValue
        otherID = try await AgencyRegistry(database).add(name: "Línea de denuncia", type: .hotline, publicKey: other.publicKey, now: now).id.rawValue
        ingest = try await IngestService(database: database, serviceKeys: [service], receiptKey: receiptKey)
    }

    func app() -> some ApplicationProtocol {
        var logger = Logger(label: "plazo.test")
        logger.logLevel = .warning
        return buildApplication(service: PlazoService(ingest: ingest), configuration: ServerConfiguration(host: "127.0.0.1", port: 0), logger: logger)
    }

    func batch(cases: Range<UInt64> = 0..<3, signer: SigningKeyPair? = nil, agencyID: UInt32? = nil, batchID: BatchID? = nil) throws -> [UInt8] {
        let events = cases.map { c in
            CaseEvent(
                pseudonym: CasePseudonym(low: c, high: 77), type: .reportReceived, day: Day(year: 2025, month: 3, day: 1)!,
                attributes: CaseAttributes(offence: .onlineGrooming, ageBand: .age10to12, sex: .male, state: MexicanState(rawValue: 14)!, channel: .hotline),
                agencyType: .stateProsecutor
            )
        }
        return try BatchSealer.seal(
            events: events, agencyID: AgencyID(agencyID ?? self.agencyID), batchID: batchID ?? BatchID.random(),
            createdAt: Int64(Date().timeIntervalSince1970), signer: signer ?? agency, service: service.publicKey
        )
    }

    func authorization(batchID: BatchID, key: SigningKeyPair? = nil, agencyID: UInt32? = nil, time: Int64? = nil) throws -> String {
        try AgencyRequestSignature.header(
            agencyID: agencyID ?? self.agencyID, key: key ?? agency, batchID: batchID, time: time ?? Int64(Date().timeIntervalSince1970)
        )
    }
}

func json(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
}

func errorCode(_ buffer: ByteBuffer) -> String? {
    (json(buffer)["error"] as? [String: Any])?["code"] as? String
}

@Suite("HTTP service")
struct ServerTests {
    @Test("a batch is accepted with 201 and a signed receipt, replayed with 200, and an id reuse is 409")
    func submitAndReplay() async throws {
        let f = try await ServerFixture()
        let id = try BatchID.random()
        let bytes = try f.batch(batchID: id)
        try await f.app().test(.router) { client in
            var firstReceipt = ""
            try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: bytes)) { response in
                #expect(response.status == .created)
                let body = json(response.body)
                #expect(body["batch_id"] as? String == id.hex)
                #expect(body["replayed"] as? Bool == false)
                let receipt = body["receipt"] as? [String: Any]
                #expect(receipt?["accepted"] as? Int == 3)
                #expect(receipt?["new_events"] as? Int == 3)
                firstReceipt = body["signed_receipt"] as? String ?? ""
                let signed = try Receipt.parse(Array(Data(base64Encoded: firstReceipt)!))
                try signed.verify(serviceKey: f.receiptKey.publicKey, batch: bytes)
            }
            try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: bytes)) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["replayed"] as? Bool == true)
                #expect(json(response.body)["signed_receipt"] as? String == firstReceipt)
            }
            try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: try f.batch(cases: 5..<6, batchID: id))) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "batch_id_reused")
            }
        }
        #expect(try await f.ingest.counts() == (1, 3, 3))
    }

    @Test("garbage, flipped bytes, unknown agencies and oversized bodies get precise 4xx errors and store nothing")
    func refusals() async throws {
        let f = try await ServerFixture()
        let good = try f.batch()
        var tampered = good
        tampered[300] ^= 0x40
        let flipped = tampered
        try await f.app().test(.router) { client in
            let cases: [([UInt8], HTTPResponse.Status, String)] = [
                (Array("hello, is this the prosecutor's office?".utf8), .unprocessableContent, "truncated"),
                ([UInt8](repeating: 0x41, count: 400), .unprocessableContent, "bad_magic"),
                (flipped, .forbidden, "bad_signature"),
                (try f.batch(agencyID: 4242), .forbidden, "unknown_agency"),
                (try f.batch(signer: f.other), .forbidden, "unknown_signing_key"),
                ([UInt8](repeating: 0, count: BatchFormat.maxBatchSize + 1), .contentTooLarge, "too_large"),
            ]
            for (body, status, code) in cases {
                try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: body)) { response in
                    #expect(response.status == status, "\(code)")
                    #expect(errorCode(response.body) == code)
                    let message = (json(response.body)["error"] as? [String: Any])?["message"] as? String
                    #expect(message?.isEmpty == false)
                }
            }
            try await client.execute(uri: "/v1/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response.body) == "not_found")
            }
        }
        #expect(try await f.ingest.counts() == (0, 0, 0))
    }

    @Test("a receipt is returned only to the agency that sent the batch, with a valid fresh signature")
    func receiptRetrieval() async throws {
        let f = try await ServerFixture()
        let id = try BatchID.random()
        let bytes = try f.batch(batchID: id)
        try await f.app().test(.router) { client in
            _ = try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: bytes))
            let uri = "/v1/batches/\(id.hex)/receipt"
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(errorCode(response.body) == "missing_authorization")
            }
            try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer nonsense"]) { response in
                #expect(response.status == .unauthorized)
                #expect(errorCode(response.body) == "malformed_authorization")
            }
            let stale = try f.authorization(batchID: id, time: Int64(Date().timeIntervalSince1970) - 3600)
            try await client.execute(uri: uri, method: .get, headers: [.authorization: stale]) { response in
                #expect(response.status == .forbidden)
                #expect(errorCode(response.body) == "stale_request_time")
            }
            // Signed for another batch id: the signature does not cover this request.
            let wrong = try f.authorization(batchID: BatchID.random())
            try await client.execute(uri: uri, method: .get, headers: [.authorization: wrong]) { response in
                #expect(response.status == .forbidden)
                #expect(errorCode(response.body) == "bad_request_signature")
            }
            let otherAgency = try f.authorization(batchID: id, key: f.other, agencyID: f.otherID)
            try await client.execute(uri: uri, method: .get, headers: [.authorization: otherAgency]) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response.body) == "unknown_batch")
            }
            try await client.execute(uri: uri, method: .get, headers: [.authorization: try f.authorization(batchID: id)]) { response in
                #expect(response.status == .ok)
                let signed = try Receipt.parse(Array(Data(base64Encoded: json(response.body)["signed_receipt"] as! String)!))
                try signed.verify(serviceKey: f.receiptKey.publicKey, batch: bytes)
            }
            try await client.execute(uri: "/v1/batches/not-hex/receipt", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("health and metrics answer; metrics count batches by outcome and reason")
    func healthAndMetrics() async throws {
        let f = try await ServerFixture()
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["status"] as? String == "ok")
            }
            _ = try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: try f.batch()))
            _ = try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: [UInt8](repeating: 1, count: 300)))
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"plazo_batches_total{outcome="accepted"} 1"#))
                #expect(text.contains(#"plazo_batches_total{outcome="rejected",reason="bad_magic"} 1"#))
                #expect(text.contains(#"plazo_events_total{outcome="new"} 3"#))
                #expect(text.contains("plazo_ingest_duration_seconds_bucket"))
                // The index's size (issue 23): three cases, one event each.
                #expect(text.contains("plazo_index_cases 3.0\n"), "\(text)")
                #expect(text.contains("plazo_index_events 3.0\n"), "\(text)")
                // No case data: none of the submitted pseudonyms appears (a check for the digits "77"
                // alone failed whenever a latency sum happened to contain them).
                for c: UInt64 in 0..<3 { #expect(!text.contains(CasePseudonym(low: c, high: 77).hex)) }
            }
        }
    }

    @Test("over a real socket: a 413 comes from Content-Length, before the body is read")
    func liveContentLength() async throws {
        // The early 413 is the HTTP layer's; on PostgreSQL, in the whole parallel suite, the
        // in-process fixture took long enough that the client's write of the oversized body raced
        // the server's close (`I/O on closed channel`) or its 20 s read timeout.
        let f = try await ServerFixture(onSQLite: true)
        try await f.app().test(.live) { client in
            try await client.execute(
                uri: "/v1/batches", method: .post,
                headers: [.contentLength: "\(BatchFormat.maxBatchSize + 10)"],
                body: ByteBuffer(bytes: [UInt8](repeating: 0, count: BatchFormat.maxBatchSize + 10))
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(errorCode(response.body) == "too_large")
            }
            try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(bytes: try f.batch())) { response in
                #expect(response.status == .created)
            }
        }
    }
}
