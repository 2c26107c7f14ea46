import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PlazoModel
import PlazoServer
import PlazoSodium
import PlazoWire

/// `plazo receipt fetch|verify`: an agency gets a receipt back from the service, or checks one it
/// holds, without building request signatures by hand.
struct ReceiptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Fetch a batch's signed receipt again, or verify a stored receipt offline.",
        subcommands: [Fetch.self, Verify.self]
    )

    /// What a receipt says, in a few lines.
    static func describe(_ r: Receipt) -> String {
        let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(r.receivedAt)))
        var out = "batch \(r.batchID.hex) from agency \(r.agencyID.rawValue), received \(when)\n"
        out += "  records \(r.recordCount): \(r.accepted) accepted (\(r.newEvents) new events), \(r.rejected.count) rejected\n"
        for rejected in r.rejected.prefix(20) { out += "    record \(rejected.index): \(rejected.reason.code)\n" }
        if r.rejected.count > 20 { out += "    ... and \(r.rejected.count - 20) more\n" }
        out += "  signed by service key \(r.serviceKeyID.hex)"
        return out
    }

    /// `plazo receipt fetch BATCH_ID|FILE.plzb`.
    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch the signed receipt of a batch this agency sent (the request is signed with the agency key).",
            discussion: """
                BATCH is a batch id (32 hex digits) or a batch file: with a file, the receipt is also \
                checked to name exactly its bytes and saved beside it as FILE.receipt. The receipt's \
                signature is always verified against the service's public key.
                """
        )

        @Argument(help: "A batch id (32 hex digits) or a sealed batch file (.plzb).")
        var batch: String

        @Option(name: .long, help: "The service's base URL, e.g. http://127.0.0.1:8080.")
        var server: String

        @Option(name: .long, help: "This agency's id in the service registry.")
        var agencyID: UInt32

        @OptionGroup var tlsOptions: TLSClientOptions

        @Option(name: .long, help: "The agency's signing secret key file (any registered key of the agency).")
        var signingKey: String

        @Option(name: .long, help: "The service's receipt-signing public key file (service-signing.public).")
        var serviceKey: String

        func run() async throws {
            let signer = try KeyFile.read(signingKey, expecting: .agencySigningSecret).signingKeyPair()
            let servicePublic = try KeyFile.read(serviceKey, expecting: .serviceSigningPublic).signingPublicKey()
            var batchBytes: [UInt8]?
            let batchID: BatchID
            if let id = BatchID(hex: batch.lowercased()) {
                batchID = id
            } else {
                guard let data = FileManager.default.contents(atPath: batch) else {
                    throw ValidationError("\(batch) is neither a batch id (32 hex digits) nor a readable batch file")
                }
                batchBytes = Array(data)
                do { batchID = try BatchHeader.parse(Array(data)).batchID } catch {
                    throw ValidationError("\(batch) is not a sealed batch: \(error)")
                }
            }
            let base = server.hasSuffix("/") ? String(server.dropLast()) : server
            let time = Int64(Date().timeIntervalSince1970)
            var request = HTTPClientRequest(url: "\(base)/v1/batches/\(batchID.hex)/receipt")
            request.headers.add(name: "Authorization", value: try AgencyRequestSignature.header(agencyID: agencyID, key: signer, batchID: batchID, time: time))
            let client = try tlsOptions.makeClient()
            defer { _ = client.shutdown() }
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await client.execute(request, timeout: .seconds(30))
                body = try await response.body.collect(upTo: 1 << 24)
            } catch {
                throw ValidationError(HTTPBatchTransport.explain(error, server: base))
            }
            let answer = try? JSONDecoder().decode(ReceiptResponse.self, from: Data(Array(buffer: body)))
            guard response.status.code == 200, let signed = answer?.signedReceipt, let data = Data(base64Encoded: signed) else {
                let problem = try? JSONDecoder().decode(ErrorBody.self, from: Data(Array(buffer: body)))
                throw ValidationError("the service refused: \(problem?.error.code ?? "http_\(response.status.code)"): \(problem?.error.message ?? "")")
            }
            let receipt = try Receipt.parse(Array(data))
            try receipt.verify(serviceKey: servicePublic, batch: batchBytes)
            print(ReceiptCommand.describe(receipt))
            print("  signature verified\(batchBytes == nil ? "" : "; names exactly the bytes of \(batch)")")
            if batchBytes != nil {
                try data.write(to: URL(fileURLWithPath: batch + ".receipt"))
                print("  saved \(batch).receipt")
            }
        }
    }

    /// `plazo receipt verify FILE.receipt`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a stored receipt offline: the service's signature and, given the batch, that it names those bytes.",
            discussion: "Exit status: 0 when the receipt verifies; 1 otherwise."
        )

        @Argument(help: "A signed receipt file (FILE.plzb.receipt).")
        var receipt: String

        @Option(name: .long, help: "The service's receipt-signing public key file (service-signing.public).")
        var serviceKey: String

        @Option(name: .long, help: "The batch file the receipt is for (default: the receipt's name without .receipt, if it exists).")
        var batch: String?

        func run() throws {
            let servicePublic = try KeyFile.read(serviceKey, expecting: .serviceSigningPublic).signingPublicKey()
            guard let data = FileManager.default.contents(atPath: receipt) else { throw ValidationError("cannot read \(receipt)") }
            let parsed = try Receipt.parse(Array(data))
            var batchPath = batch
            if batchPath == nil, receipt.hasSuffix(".receipt") {
                let guess = String(receipt.dropLast(".receipt".count))
                if FileManager.default.fileExists(atPath: guess) { batchPath = guess }
            }
            let bytes = try batchPath.map { path -> [UInt8] in
                guard let d = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                return Array(d)
            }
            do { try parsed.verify(serviceKey: servicePublic, batch: bytes) } catch {
                print("NOT VALID: \(error)")
                throw ExitCode.failure
            }
            print(ReceiptCommand.describe(parsed))
            print("  signature verified\(batchPath.map { "; names exactly the bytes of \($0)" } ?? " (no batch file given: its digest was not checked)")")
        }
    }
}
