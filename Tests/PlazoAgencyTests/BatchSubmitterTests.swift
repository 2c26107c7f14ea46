import Foundation
import PlazoModel
import PlazoSodium
import PlazoWire
import Synchronization
import Testing

@testable import PlazoAgency

/// A scripted service: answers each post with the next scripted answer and records what it got.
final class ScriptedTransport: BatchTransport {
    enum Step: Sendable {
        case answer(Int, [UInt8])
        case networkFailure
    }

    struct Failure: Error {}

    private let steps: Mutex<[Step]>
    private let received = Mutex<[[UInt8]]>([])

    init(_ steps: [Step]) { self.steps = Mutex(steps) }

    var posts: Int { received.withLock { $0.count } }

    func post(batch: [UInt8]) async throws -> (status: Int, body: [UInt8]) {
        received.withLock { $0.append(batch) }
        let step = steps.withLock { $0.isEmpty ? Step.networkFailure : $0.removeFirst() }
        switch step {
        case let .answer(status, body): return (status, body)
        case .networkFailure: throw Failure()
        }
    }

    func explain(_ error: any Error) -> String { "connection refused" }
}

/// `BatchSubmitter` without a network: what it does with each kind of answer.
@Suite("batch submitter")
struct BatchSubmitterTests {
    let service: SigningKeyPair
    let directory: URL

    init() throws {
        service = try SigningKeyPair.generate()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("plazo-submitter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A batch file of arbitrary bytes (the submitter never opens a batch: it posts the bytes and
    /// checks that the receipt names them).
    func batchFile(_ bytes: [UInt8]) throws -> String {
        let path = directory.appendingPathComponent("batch-\(UUID().uuidString).plazo").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The service's success answer for `bytes`, signed by `key`.
    func receiptAnswer(for bytes: [UInt8], signedBy key: SigningKeyPair) throws -> [UInt8] {
        var receipt = Receipt(
            batchID: try BatchID.random(), batchDigest: Receipt.digest(of: bytes), agencyID: 7, receivedAt: 1_764_000_000,
            recordCount: 3, accepted: 3, newEvents: 3, rejected: [], serviceKeyID: KeyID.of(key.publicKey))
        try receipt.sign(with: key)
        return try PlazoJSON.encode(ReceiptResponse(receipt, bytes: receipt.encoded(), replayed: false))
    }

    @Test("a verified receipt is accepted and saved beside the file; a 200 is a replay")
    func accepted() async throws {
        let bytes: [UInt8] = Array("sealed batch".utf8)
        let file = try batchFile(bytes)
        let answer = try receiptAnswer(for: bytes, signedBy: service)
        for (status, replayed) in [(201, false), (200, true)] {
            let submitter = BatchSubmitter(transport: ScriptedTransport([.answer(status, answer)]), serviceKey: service.publicKey, attempts: 1)
            guard case let .accepted(receipt, wasReplayed) = await submitter.submit(file: file) else {
                Issue.record("not accepted")
                return
            }
            #expect(wasReplayed == replayed)
            #expect(receipt.batchDigest == Receipt.digest(of: bytes))
            #expect(FileManager.default.fileExists(atPath: file + ".receipt"))
            #expect(FileManager.default.fileExists(atPath: file + ".receipt.json"))
        }
    }

    @Test("a receipt signed by another key, or for other bytes, is refused: the batch is not provably accepted")
    func receiptsThatDoNotVerify() async throws {
        let bytes: [UInt8] = Array("sealed batch".utf8)
        let impostor = try SigningKeyPair.generate()
        for answer in [try receiptAnswer(for: bytes, signedBy: impostor), try receiptAnswer(for: Array("other".utf8), signedBy: service)] {
            let file = try batchFile(bytes)
            let submitter = BatchSubmitter(transport: ScriptedTransport([.answer(201, answer)]), serviceKey: service.publicKey, attempts: 1)
            guard case let .refused(.receiptDoesNotVerify(why)) = await submitter.submit(file: file) else {
                Issue.record("a receipt that does not verify was not refused")
                continue
            }
            #expect(!why.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: file + ".receipt"), "nothing saved")
        }
        let file = try batchFile(bytes)
        let noReceipt = BatchSubmitter(transport: ScriptedTransport([.answer(201, Array("{}".utf8))]), serviceKey: service.publicKey, attempts: 1)
        #expect(await noReceipt.submit(file: file).refusal == .noSignedReceipt)
    }

    @Test("a 4xx is final with the service's code and sentence; 5xx, 429 and network failures are retried, then given up")
    func refusalsAndRetries() async throws {
        let bytes: [UInt8] = Array("sealed batch".utf8)
        let file = try batchFile(bytes)
        let error = try PlazoJSON.encode(ErrorBody(code: "unknown_agency", message: "agency 7 is not registered"))
        let refusing = ScriptedTransport([.answer(400, error), .answer(201, try receiptAnswer(for: bytes, signedBy: service))])
        let refused = await BatchSubmitter(transport: refusing, serviceKey: service.publicKey, attempts: 3).submit(file: file)
        #expect(refused.refusal == .refusedByService(code: "unknown_agency", message: "agency 7 is not registered"))
        #expect(refusing.posts == 1, "a refusal is not retried")

        // Transient failures, then success: accepted on the third attempt (backoff 0.5 s, 1 s).
        let flaky = ScriptedTransport([.networkFailure, .answer(503, []), .answer(201, try receiptAnswer(for: bytes, signedBy: service))])
        let outcome = await BatchSubmitter(transport: flaky, serviceKey: service.publicKey, attempts: 3).submit(file: file)
        #expect(!outcome.isRefused)
        #expect(flaky.posts == 3)

        // Always failing: gives up after exactly `attempts`, naming the last failure.
        let down = ScriptedTransport([.answer(429, []), .networkFailure])
        let gaveUp = await BatchSubmitter(transport: down, serviceKey: service.publicKey, attempts: 2).submit(file: file)
        #expect(gaveUp.refusal == .gaveUp(attempts: 2, lastError: "connection refused"))
        #expect(down.posts == 2)

        let missing = await BatchSubmitter(transport: ScriptedTransport([]), serviceKey: service.publicKey).submit(file: file + ".missing")
        #expect(missing.refusal == .unreadableFile)
    }
}

extension SubmitOutcome {
    /// The refusal, if refused.
    var refusal: SubmitRefusal? {
        if case let .refused(r) = self { return r }
        return nil
    }
}
