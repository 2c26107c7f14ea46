import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PlazoModel
import PlazoServer
import PlazoSodium
import PlazoWire

/// `plazo submit`: posts sealed batch files to the service and keeps the signed receipts.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Send sealed batch files to the service; verify and save each signed receipt.",
        discussion: """
            Posts each file to SERVER/v1/batches. Transient failures (no connection, timeouts, HTTP \
            429 and 5xx) are retried with exponential backoff; this is safe because the service \
            answers a batch it already holds with its original receipt. Each receipt's signature is \
            verified against the service's public key and checked to name exactly the bytes sent, \
            then saved next to the batch as FILE.receipt (signed binary) and FILE.receipt.json.

            Exit status: 0 when every batch was accepted (now or before); 1 otherwise.
            """
    )

    @Option(name: .long, help: "The service's base URL, e.g. http://127.0.0.1:8080.")
    var server: String

    @Option(name: .long, help: "The service's receipt-signing public key file (service-signing.public).")
    var serviceKey: String

    @OptionGroup var tlsOptions: TLSClientOptions

    @Option(name: .long, help: "Attempts per batch for transient failures.")
    var attempts: Int = 6

    @Flag(name: .long, help: "One line per batch instead of a progress bar.")
    var plain = false

    @Argument(help: "Batch files (.plzb).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one batch file") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
    }

    func run() async throws {
        let serviceKey = try KeyFile.read(serviceKey, expecting: .serviceSigningPublic).signingPublicKey()
        let url = server.hasSuffix("/") ? server + "v1/batches" : server + "/v1/batches"
        let client = try tlsOptions.makeClient()
        let submitter = BatchSubmitter(client: client, url: url, serviceKey: serviceKey, attempts: attempts)
        var progress = Progress(total: files.count, bar: !plain && isatty(2) != 0)
        var failed = 0
        do {
            for file in files {
                let outcome = await submitter.submit(file: file)
                switch outcome {
                case let .accepted(receipt, replayed):
                    let line = replayed
                        ? "\(file): already held: the service stored these exact bytes before; its original receipt says \(receipt.accepted) of \(receipt.recordCount) records accepted, \(receipt.rejected.count) rejected (nothing new now)"
                        : "\(file): accepted \(receipt.accepted) of \(receipt.recordCount) records (\(receipt.newEvents) new, \(receipt.rejected.count) rejected)"
                    progress.done(records: Int(receipt.accepted), line: line)
                case let .refused(reason):
                    failed += 1
                    progress.done(records: 0, line: "\(file): REFUSED \(reason)", refused: true)
                }
            }
        }
        try await client.shutdown()
        progress.finish()
        print("\(files.count - failed) of \(files.count) batch(es) accepted")
        if failed > 0 { throw ExitCode.failure }
    }

    /// A progress display on standard error: a bar on a terminal, lines otherwise.
    struct Progress {
        let total: Int
        let bar: Bool
        var count = 0
        var records = 0

        /// One batch done: `refused` says whether it was refused (shown even over the bar).
        mutating func done(records n: Int, line: String, refused: Bool = false) {
            count += 1
            records += n
            if bar {
                let width = 30
                let filled = total == 0 ? width : width * count / total
                let text = "\r[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(count)/\(total) batches, \(records) records"
                FileHandle.standardError.write(Data(text.utf8))
                if refused { FileHandle.standardError.write(Data("\n\(line)\n".utf8)) }
            } else {
                FileHandle.standardError.write(Data("[\(count)/\(total)] \(line)\n".utf8))
            }
        }

        func finish() {
            if bar { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }
}

/// Posts batch files to a Plazo service, retrying transient failures, and verifies and saves each
/// signed receipt (`FILE.receipt` and `FILE.receipt.json`). Used by `plazo submit` and `plazo demo`.
struct BatchSubmitter {
    let client: HTTPClient
    /// The `/v1/batches` URL.
    let url: String
    let serviceKey: SigningPublicKey
    var attempts = 6

    enum Outcome {
        case accepted(Receipt, replayed: Bool)
        case refused(String)
    }

    /// Submits one batch file; saves its verified receipt beside it.
    func submit(file: String) async -> Outcome {
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
            return .refused("cannot read the file")
        }
        var delay: Double = 0.5
        var lastError = ""
        for attempt in 1...attempts {
            do {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/octet-stream")
                request.body = .bytes(ByteBuffer(bytes: bytes))
                let response = try await client.execute(request, timeout: .seconds(60))
                let body = try await response.body.collect(upTo: 1 << 24)
                let answer = Data(Array(buffer: body))
                switch response.status.code {
                case 200, 201:
                    guard let json = try? JSONDecoder().decode(ReceiptResponse.self, from: answer),
                        let data = Data(base64Encoded: json.signedReceipt)
                    else {
                        return .refused("the service answered without a signed receipt")
                    }
                    let receipt: Receipt
                    do {
                        receipt = try Receipt.parse(Array(data))
                        try receipt.verify(serviceKey: serviceKey, batch: bytes)
                    } catch {
                        return .refused("receipt does not verify: \(error)")
                    }
                    do {
                        try data.write(to: URL(fileURLWithPath: file + ".receipt"))
                        try Data(try PlazoJSON.encode(json, pretty: true)).write(to: URL(fileURLWithPath: file + ".receipt.json"))
                    } catch {
                        return .refused("accepted, but the receipt could not be saved: \(error.localizedDescription)")
                    }
                    return .accepted(receipt, replayed: response.status.code == 200)
                case 429, 500...599:
                    lastError = "HTTP \(response.status.code)"
                default:
                    let err = (try? JSONDecoder().decode(ErrorBody.self, from: answer))?.error
                    return .refused("\(err?.code ?? "http_\(response.status.code)"): \(err?.message ?? "")")
                }
            } catch {
                lastError = Self.explain(error, server: url)
            }
            if attempt < attempts {
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay = min(delay * 2, 30)
            }
        }
        return .refused("gave up after \(attempts) attempts: \(lastError)")
    }

    /// A network failure in words an agency can act on (a refused connection is not a "reset").
    static func explain(_ error: any Error, server: String) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("ECONNREFUSED") || text.contains("Connection refused")
            || text.contains("connect(descriptor") {
            return "cannot connect to \(server): connection refused (is the service running, and is the address right?)"
        }
        if text.contains("remoteConnectionClosed") || text.contains("connectionReset") {
            return "the service closed the connection before answering"
        }
        if text.contains("deadlineExceeded") || text.contains("timeout") { return "no answer from \(server) in time" }
        if text.contains("connectTimeout") { return "cannot connect to \(server): timed out" }
        return text
    }

}
