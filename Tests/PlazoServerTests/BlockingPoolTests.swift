import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PlazoApp
import PlazoStore
import Synchronization
import Testing

@testable import PlazoServer

/// Store calls never hold Swift's cooperative threads (issue 23, item 1): a handler waiting for the
/// store suspends, and its wait happens on the blocking pool (`Blocking.run`), so the service keeps
/// answering everything that does not need the store.
@Suite("store calls off the cooperative pool")
struct BlockingPoolTests {
    /// Setup: another connection holds the store's writer for `held` seconds (a long transaction of
    /// another process, or of another replica on PostgreSQL). Meanwhile more steward writes arrive
    /// than the cooperative pool has threads (one per core): each waits for the writer.
    ///
    /// Were their waits on the cooperative pool, every one of its threads would be stuck and
    /// `/healthz` could only answer once the writer is released, after about `held` seconds. On the
    /// blocking pool it answers at once. The time is taken from before the test's own 0.3 s pause
    /// (less the pause), since a starved pool delays the test's task as well. The bound, `held / 2`,
    /// is far from both: under the heaviest parallel test load seen here a `/healthz` answer takes
    /// well under 100 ms, and the stuck case at least `held` less the 0.3 s head start.
    @Test("while the writer is held elsewhere, more waiting writes than cores leave /healthz answering at once; every write then lands")
    func waitingWritesDoNotStarveTheService() async throws {
        let f = try APIFixture()
        let held = 4.0
        let waiting = 2 * ProcessInfo.processInfo.activeProcessorCount + 2
        let before = try f.tokens.list(includeRevoked: true).count

        // The writer, held from a plain thread (not a cooperative one) through a second connection.
        let holding = Atomic<Bool>(false)
        let holder = Thread { [database = f.database] in
            _ = try? database.write { db in
                // A write statement takes SQLite's write lock even when it changes no row; on
                // PostgreSQL the transaction already holds the writer lock of every replica.
                try db.execute("UPDATE api_token SET name = name WHERE id = -1")
                holding.store(true, ordering: .sequentiallyConsistent)
                Thread.sleep(forTimeInterval: held)
            }
        }
        holder.start()
        while !holding.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(10)) }

        let (health, statuses): (Duration, [HTTPResponse.Status]) = try await f.app().test(.router) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for i in 0..<waiting {
                    group.addTask {
                        try await client.execute(
                            uri: "/v1/tokens", method: .post, headers: APIFixture.bearer(f.steward),
                            body: ByteBuffer(string: #"{"name":"espera \#(i)","role":"oversight"}"#)
                        ).status
                    }
                }
                // Give every write time to reach the store and wait there. The clock starts before
                // the pause: a starved pool would delay this task's own resumption too, so a clock
                // started after it would miss the wait.
                let started = ContinuousClock.now
                try await Task.sleep(for: .milliseconds(300))
                let answer = try await client.execute(uri: "/healthz", method: .get)
                let health = ContinuousClock.now - started - .milliseconds(300)
                #expect(answer.status == .ok)
                var statuses: [HTTPResponse.Status] = []
                for try await status in group { statuses.append(status) }
                return (health, statuses)
            }
        }
        print("healthz answered in \(health) while \(waiting) writes waited for a writer held \(held) s")
        #expect(health < .seconds(held / 2))
        #expect(statuses.count == waiting && statuses.allSatisfy { $0 == .created })
        #expect(try f.tokens.list(includeRevoked: true).count == before + waiting)
    }
}
