import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PlazoApp
import PlazoIngest
import PlazoModel
import PlazoStore
import Testing

@testable import PlazoServer

/// Nothing an oversight body or a researcher can read, no error message and no log line contains
/// an un-noised statistic or a case pseudonym.
@Suite("no raw statistics, no pseudonyms")
struct NoRawStatisticsTests {
    /// A distinctive true count: the cases of the test all sit in the same cell of every table
    /// (reported on 2025-02-10, open at the 2025-09-30 cutoff), so several cells' true value is this.
    static let truth = 4817

    /// Every number in a text written in plain decimal (`4817`, `4817.0`, `0.25`), as doubles.
    static func numbers(in text: String) -> [Double] {
        var out: [Double] = []
        var token: [UInt8] = []
        for b in text.utf8 {
            if (b >= 48 && b <= 57) || b == 46 {
                token.append(b)
            } else if !token.isEmpty {
                if let v = Double(String(decoding: token, as: UTF8.self)) { out.append(v) }
                token.removeAll(keepingCapacity: true)
            }
        }
        if let v = Double(String(decoding: token, as: UTF8.self)) { out.append(v) }
        return out
    }

    /// The maximal runs of `allowed` characters in the texts.
    static func tokens(_ texts: [String], allowed: (UInt8) -> Bool) -> Set<String> {
        var out = Set<String>()
        for text in texts {
            var token: [UInt8] = []
            for b in text.utf8 {
                if allowed(b) { token.append(b) } else if !token.isEmpty {
                    out.insert(String(decoding: token, as: UTF8.self))
                    token.removeAll(keepingCapacity: true)
                }
            }
            if !token.isEmpty { out.insert(String(decoding: token, as: UTF8.self)) }
        }
        return out
    }

    /// True when `form` is one of `tokens` or inside a longer one.
    static func appears(_ form: String, in tokens: Set<String>, long: [String]) -> Bool {
        tokens.contains(form) || long.contains { $0.contains(form) }
    }

    /// Why the statistical check is sound. Each release uses ρ = 10⁻⁶ per table, so discrete
    /// Gaussian noise with σ² = 1/(2ρ) = 500 000 (σ ≈ 707). The probability that one noisy value
    /// (a cell, or an interval end noisy ± h) lands exactly on the true count is at most the
    /// largest point mass, 1/(σ√(2π)) < 6·10⁻⁴; a release's responses hold at most ~40 values that
    /// could (the cells whose truth is 4817, their interval ends, the dashboard sums), so a release
    /// shows 4817 by chance with probability < 0.025. A raw count, though, would show in **every**
    /// release. Requiring that not all of four independent releases show it fails by chance with
    /// probability < 0.025⁴ < 4·10⁻⁷, and always catches a route that publishes the raw count.
    @Test("over four releases, the true count never shows in all of them; pseudonyms never appear in any response or log line")
    func noLeaks() async throws {
        let f = try await APIFixture()
        try await f.setBudget("1")
        let pseudonyms = try await f.submitCases(Self.truth)
        #expect(try await f.server.ingest.counts().cases == Self.truth)

        let captured = LineBox()
        var logger = Logger(label: "plazo.leak-test") { _ in CapturingLogHandler(lines: captured) }
        logger.logLevel = .trace
        let app = buildApplication(service: PlazoService(ingest: f.server.ingest), configuration: ServerConfiguration(host: "127.0.0.1", port: 0), logger: logger
        )
        let releases = 4
        let tables = [
            "t1-time_to_first_decision", "t2-attrition", "t3-dispositions", "t4-backlog", "t5-victim_update_time", "t6-victim_update_recency",
            "t7-attrition-by-state",
        ]
        let boards = ["time-to-decision", "funnel", "dispositions", "backlog", "victim-updates"]
        let (texts, showsTruth): ([String], [Bool]) = try await app.test(.router) { client in
            var texts: [String] = []
            var showsTruth: [Bool] = []
            let steward = APIFixture.bearer(f.steward)
            let researcher = APIFixture.bearer(f.researcher)
            let oversight = APIFixture.bearer(f.oversight)
            func read(_ uri: String, _ headers: HTTPFields) async throws -> String {
                let response = try await client.execute(uri: uri, method: .get, headers: headers)
                if uri.hasSuffix("/datapackage") {
                    return untar(Array(buffer: response.body)).values.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
                }
                return String(buffer: response.body)
            }
            for i in 1...releases {
                let spec = APIFixture.spec(rho: "1/1000000", title: "Fuga \(i)", replicates: 20)
                let created = try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody(spec)))
                #expect(created.status == .created)
                var seen: [String] = []
                seen.append(try await read("/v1/releases/\(i)", researcher))
                for t in tables {
                    seen.append(try await read("/v1/releases/\(i)/tables/\(t).csv", researcher))
                    seen.append(try await read("/v1/releases/\(i)/tables/\(t)-estimates.csv", researcher))
                }
                seen.append(try await read("/v1/releases/\(i)/datapackage", researcher))
                for b in boards {
                    seen.append(try await read("/v1/dashboards/\(b)?release=\(i)", oversight))
                    seen.append(try await read("/v1/dashboards/\(b)?release=\(i)&state=14&cohort=2025Q1", oversight))
                }
                showsTruth.append(seen.contains { Self.numbers(in: $0).contains(Double(Self.truth)) })
                texts += seen
            }
            // Refusals and listings, for the pseudonym check.
            texts.append(try await read("/v1/releases", researcher))
            texts.append(try await read("/v1/dashboards", oversight))
            texts.append(try await read("/v1/dashboards/funnel?offence=online_grooming", oversight))
            texts.append(try await read("/v1/releases/1/tables/t0.csv", researcher))
            texts.append(try await read("/v1/ledger", steward))
            let refused = try await client.execute(
                uri: "/v1/releases", method: .post, headers: steward,
                body: ByteBuffer(bytes: jsonBody(APIFixture.spec(rho: "1", title: "too much")))
            )
            texts.append(String(buffer: refused.body))
            return (texts, showsTruth)
        }
        #expect(showsTruth.count == releases)
        #expect(!showsTruth.allSatisfy { $0 }, "the true count \(Self.truth) appears in every release: an un-noised number is published")

        let logs = captured.all
        #expect(!logs.isEmpty)
        let everything = texts + logs
        func alphanumeric(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        let words = Self.tokens(everything, allowed: alphanumeric)
        let base64Words = Self.tokens(everything) { alphanumeric($0) || $0 == 43 || $0 == 47 || $0 == 61 }
        let longWords = words.filter { $0.count > 32 }.sorted()
        let longBase64 = base64Words.filter { $0.count > 24 }.sorted()
        var found = 0
        for p in pseudonyms {
            if Self.appears(p.hex, in: words, long: longWords) || Self.appears(p.hex.uppercased(), in: words, long: longWords)
                || Self.appears(Data(p.bytes).base64EncodedString(), in: base64Words, long: longBase64)
            {
                found += 1
            }
        }
        #expect(found == 0, "\(found) pseudonyms appear in responses or logs")
        // No log line carries the count as a number of its own.
        let leakingLines = logs.filter { Self.numbers(in: $0).contains(Double(Self.truth)) }
        #expect(leakingLines.isEmpty, "\(leakingLines)")

        // The detectors detect: a planted pseudonym and a planted count are found.
        let planted = ["{\"case\":\"\(pseudonyms[0].hex)\"}", "2025Q1,reported,4817.0,4817", "x=\(Data(pseudonyms[1].bytes).base64EncodedString())"]
        let plantedWords = Self.tokens(planted, allowed: alphanumeric)
        let plantedBase64 = Self.tokens(planted) { alphanumeric($0) || $0 == 43 || $0 == 47 || $0 == 61 }
        #expect(Self.appears(pseudonyms[0].hex, in: plantedWords, long: plantedWords.filter { $0.count > 32 }.sorted()))
        #expect(Self.appears(
            Data(pseudonyms[1].bytes).base64EncodedString(), in: plantedBase64, long: plantedBase64.filter { $0.count > 24 }.sorted()))
        #expect(Self.numbers(in: planted[1]).filter { $0 == Double(Self.truth) }.count == 2)
    }
}
