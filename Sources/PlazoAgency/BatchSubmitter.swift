import Foundation
import PlazoModel
import PlazoSodium
import PlazoWire

/// How batches reach the service: one `POST /v1/batches` of the sealed bytes. The HTTP client
/// itself lives with the caller (`plazo submit` uses AsyncHTTPClient), so that this module knows
/// nothing of HTTP libraries and the submitter can be tested without a network.
public protocol BatchTransport: Sendable {
    /// Posts `batch` and returns the answer's status code and body; throws on a network failure
    /// (no connection, no answer in time), which the submitter retries.
    func post(batch: [UInt8]) async throws -> (status: Int, body: [UInt8])
    /// A network failure in words an agency can act on (used in ``SubmitRefusal/gaveUp(attempts:lastError:)``).
    func explain(_ error: any Error) -> String
}

/// What became of one batch file: accepted (now, or before: `replayed`), with its verified
/// receipt saved beside it, or refused, and why.
public enum SubmitOutcome: Sendable {
    /// The service holds the batch; the receipt verified against the service key and names the
    /// exact bytes sent. `replayed`: it held these bytes before and answered with the original receipt.
    case accepted(Receipt, replayed: Bool)
    /// Not accepted (or not provably so).
    case refused(SubmitRefusal)

    /// True for ``refused(_:)``.
    public var isRefused: Bool {
        if case .refused = self { return true }
        return false
    }
}

/// Why a batch file was not (provably) accepted. ``description`` is the sentence `plazo submit` prints.
public enum SubmitRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be read.
    case unreadableFile
    /// The service answered success without a signed receipt.
    case noSignedReceipt
    /// The receipt did not parse, was not signed by the service key, or names other bytes.
    case receiptDoesNotVerify(String)
    /// Accepted, but the receipt could not be written beside the batch.
    case receiptNotSaved(String)
    /// The service refused the batch (a 4xx answer): its error code and sentence.
    case refusedByService(code: String, message: String)
    /// Transient failures (network, HTTP 429 and 5xx) on every attempt; the last one in words.
    case gaveUp(attempts: Int, lastError: String)

    /// The refusal in words.
    public var description: String {
        switch self {
        case .unreadableFile: "cannot read the file"
        case .noSignedReceipt: "the service answered without a signed receipt"
        case let .receiptDoesNotVerify(why): "receipt does not verify: \(why)"
        case let .receiptNotSaved(why): "accepted, but the receipt could not be saved: \(why)"
        case let .refusedByService(code, message): "\(code): \(message)"
        case let .gaveUp(attempts, lastError): "gave up after \(attempts) attempts: \(lastError)"
        }
    }
}

/// Posts batch files to a Plazo service, retrying transient failures with exponential backoff
/// (safe: the service answers a batch it already holds with its original receipt), and verifies
/// and saves each signed receipt beside the file (`FILE.receipt`, signed binary, and
/// `FILE.receipt.json`). Used by `plazo submit` and `plazo demo`.
public struct BatchSubmitter: Sendable {
    /// The way to the service.
    public let transport: any BatchTransport
    /// The service's receipt-signing public key.
    public let serviceKey: SigningPublicKey
    /// Attempts per batch for transient failures (at least 1).
    public var attempts: Int

    /// A submitter over `transport` that verifies receipts against `serviceKey`.
    public init(transport: any BatchTransport, serviceKey: SigningPublicKey, attempts: Int = 6) {
        self.transport = transport
        self.serviceKey = serviceKey
        self.attempts = max(1, attempts)
    }

    /// Submits one batch file; saves its verified receipt beside it.
    public func submit(file: String) async -> SubmitOutcome {
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
            return .refused(.unreadableFile)
        }
        var delay: Double = 0.5
        var lastError = ""
        for attempt in 1...attempts {
            do {
                let (status, body) = try await transport.post(batch: bytes)
                let answer = Data(body)
                switch status {
                case 200, 201:
                    return accept(answer, batch: bytes, file: file, replayed: status == 200)
                case 429, 500...599:
                    lastError = "HTTP \(status)"
                default:
                    let err = (try? JSONDecoder().decode(ErrorBody.self, from: answer))?.error
                    return .refused(.refusedByService(code: err?.code ?? "http_\(status)", message: err?.message ?? ""))
                }
            } catch {
                lastError = transport.explain(error)
            }
            if attempt < attempts {
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay = min(delay * 2, 30)
            }
        }
        return .refused(.gaveUp(attempts: attempts, lastError: lastError))
    }

    /// A success answer: its receipt must verify for exactly `batch`; then it is saved.
    func accept(_ answer: Data, batch: [UInt8], file: String, replayed: Bool) -> SubmitOutcome {
        guard let json = try? JSONDecoder().decode(ReceiptResponse.self, from: answer),
              let data = Data(base64Encoded: json.signedReceipt)
        else { return .refused(.noSignedReceipt) }
        let receipt: Receipt
        do {
            receipt = try Receipt.parse(Array(data))
            try receipt.verify(serviceKey: serviceKey, batch: batch)
        } catch {
            return .refused(.receiptDoesNotVerify("\(error)"))
        }
        do {
            try data.write(to: URL(fileURLWithPath: file + ".receipt"))
            try Data(try PlazoJSON.encode(json, pretty: true)).write(to: URL(fileURLWithPath: file + ".receipt.json"))
        } catch {
            return .refused(.receiptNotSaved(error.localizedDescription))
        }
        return .accepted(receipt, replayed: replayed)
    }
}
