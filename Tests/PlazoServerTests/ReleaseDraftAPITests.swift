import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlazoLedger
import PlazoStore
import Testing

@testable import PlazoServer

@Suite("dry runs, drafts, publication and withdrawal over HTTP")
struct ReleaseDraftAPITests {
    @Test("a dry run and a draft spend nothing; publishing charges once; a withdrawn release disappears for readers but keeps its spend")
    func draftLifecycle() async throws {
        let f = try await APIFixture()
        try await f.setBudget("1")
        try await f.submitCases(200, chargeEvery: 3)
        let steward = APIFixture.bearer(f.steward)
        let researcher = APIFixture.bearer(f.researcher)
        let oversight = APIFixture.bearer(f.oversight)
        let spec = ByteBuffer(bytes: jsonBody(APIFixture.spec()))
        var draftObject = APIFixture.spec()
        draftObject["draft"] = true
        let draftBody = ByteBuffer(bytes: jsonBody(draftObject))
        let ledger = BudgetLedger(database: f.database)
        try await f.app().test(.router) { client in
            let ledgerBefore = try await client.execute(uri: "/v1/ledger", method: .get, headers: steward) { String(buffer: $0.body) }
            try await client.execute(uri: "/v1/releases?dry_run=true", method: .post, headers: steward, body: spec) { response in
                #expect(response.status == .ok)
                let plan = json(response.body)
                #expect(plan["dry_run"] as? Bool == true)
                #expect(plan["total_rho"] as? String == "7/100")
                let cohorts = plan["cohorts"] as? [[String: Any]]
                #expect(cohorts?.first?["remaining_after_rho"] as? String == "93/100")
                let tables = plan["tables"] as? [[String: Any]]
                #expect(tables?.count == 7)
                #expect(tables?.first?["cell_half_width"] as? Int != nil)
                #expect((plan["headline_method"] as? String)?.contains("assumed denominators") == true)
                // Nothing un-noised: no field carries a count of cases.
                #expect(!String(buffer: response.body).contains("\"200\""))
            }
            // The ledger is byte-for-byte what it was.
            #expect(try await client.execute(uri: "/v1/ledger", method: .get, headers: steward) { String(buffer: $0.body) } == ledgerBefore)

            // A misspelt flag is refused, never read as "create and spend".
            try await client.execute(uri: "/v1/releases?dry_run=yes", method: .post, headers: steward, body: spec) { response in
                #expect(response.status == .badRequest)
            }
            var stringDraft = APIFixture.spec()
            stringDraft["draft"] = "yes"
            try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: ByteBuffer(bytes: jsonBody(stringDraft))) { response in
                #expect(response.status == .unprocessableContent)
            }
            #expect(try await ledger.entries().count == 0)
            try await client.execute(uri: "/v1/releases", method: .post, headers: steward, body: draftBody) { response in
                #expect(response.status == .created)
                #expect(response.headers[.location] == "/v1/release-drafts/1")
                let d = json(response.body)
                #expect(d["status"] as? String == "draft")
                #expect(d["plan"] as? [String: Any] != nil)
            }
            #expect(try await ledger.entries().count == 0)
            try await client.execute(uri: "/v1/releases", method: .get, headers: researcher) { response in
                #expect((json(response.body)["releases"] as? [Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/release-drafts", method: .get, headers: researcher) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/release-drafts/1/publish", method: .post, headers: steward) { response in
                #expect(response.status == .created, "\(String(buffer: response.body).prefix(300))")
                #expect(response.headers[.location] == "/v1/releases/1")
            }
            try await client.execute(uri: "/v1/release-drafts/1/publish", method: .post, headers: steward) { response in
                #expect(response.status == .conflict)
            }
            #expect(try await ledger.entries().count == 1)
            try await client.execute(uri: "/v1/releases", method: .get, headers: researcher) { response in
                #expect((json(response.body)["releases"] as? [Any])?.count == 1)
            }
            try await client.execute(uri: "/v1/releases/1/withdraw", method: .post, headers: steward, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .badRequest)
                #expect((json(response.body)["error"] as? [String: Any])?["code"] as? String == "reason_required")
            }
            try await client.execute(uri: "/v1/releases/1/withdraw", method: .post, headers: steward, body: ByteBuffer(string: #"{"reason": "wrong cohorts"}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/releases", method: .get, headers: researcher) { response in
                #expect((json(response.body)["releases"] as? [Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/releases/1", method: .get, headers: researcher) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/dashboards/funnel", method: .get, headers: oversight) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/dashboards/funnel?release=1", method: .get, headers: oversight) { response in
                #expect(response.status == .notFound)
            }
            // The spend stays: the noise was drawn and seen.
            #expect(try await ledger.entries().count == 1)
            try await client.execute(uri: "/v1/ledger", method: .get, headers: steward) { response in
                let history = json(response.body)["budget_history"] as? [[String: Any]]
                #expect(history?.count == 1)
                #expect(history?.first?["changed_by"] as? String == "test steward")
            }
        }
    }
}
