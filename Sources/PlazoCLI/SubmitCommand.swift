import ArgumentParser
import AsyncHTTPClient
import Foundation
import PlazoAgency
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
        let submitter = BatchSubmitter(transport: HTTPBatchTransport(client: client, url: url), serviceKey: serviceKey, attempts: attempts)
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
