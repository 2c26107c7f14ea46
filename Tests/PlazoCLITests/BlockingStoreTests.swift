import Foundation
import GRDB
import PlazoStore
import Synchronization
import Testing

/// Store calls never hold the service's Swift concurrency threads (issue 23, item 1): a handler
/// waiting for the store suspends (SQLite's writes queue on GRDB's writer, PostgreSQL's on the
/// network), so `plazo serve` keeps answering everything that does not need the store.
///
/// Through the real binary, because what is measured is the server process's cooperative pool
/// (one thread per core): in the test process the other suites, running in parallel, hold that
/// pool themselves. Every client here is a plain thread with a blocking socket, for the same reason.
@Suite("A store that waits does not stall plazo serve")
struct BlockingStoreTests {
    /// Setup: the test holds the store's writer through a connection of its own (as another
    /// process or a long transaction would), and `2 × cores + 2` steward writes (`POST /v1/tokens`)
    /// arrive: each waits for the writer. Then `/healthz`.
    ///
    /// With store calls on the cooperative pool, every one of the server's threads would be stuck
    /// in a write, and `/healthz` would get no answer until the writer is released; the writer is
    /// held until `/healthz` answers or 20 s pass, so the old behaviour fails the 10 s bound (no
    /// answer at all). With the async store it answers at once (a few ms here; printed). Then the
    /// writer is released and every write lands: 201 each, and the store holds every token.
    @Test("while the writer is held elsewhere, more waiting writes than server threads leave /healthz answering; then every write lands")
    func waitingWritesDoNotStallTheService() async throws {
        let dir = NSTemporaryDirectory() + "plazo-blocking-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect(try PlazoProcess.run(["keys", "service", "--out", "keys"], in: dir).status == 0)
        let steward = try await PlazoProcess.run(["tokens", "create", "--role", "steward", "--name", "Custodia"], in: dir).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try await ServerProcess(directory: dir)
        defer { server.stop() }
        let database = try await AppDatabase.open(location: dir + "/plazo.sqlite")
        let writes = 2 * ProcessInfo.processInfo.activeProcessorCount + 2

        let outcome = await PlazoProcess.onThread {
            let held = Mutex(false), release = DispatchSemaphore(value: 0)
            // Held through GRDB's synchronous API on a thread of its own: it is the other process
            // (another connection, another file lock holder) the service's writes wait for.
            let holder = Thread {
                _ = try? database.sqlite!.write { db in
                    // A write statement takes SQLite's write lock even when it changes no row.
                    try db.execute(sql: "UPDATE api_token SET name = name WHERE id = -1")
                    held.withLock { $0 = true }
                    _ = release.wait(timeout: .now() + 20)
                }
            }
            holder.start()
            while !held.withLock({ $0 }) { usleep(10_000) }

            let statuses = Mutex<[Int]>([])
            let done = DispatchGroup()
            for i in 0..<writes {
                done.enter()
                Thread {
                    let body = #"{"name":"espera \#(i)","role":"oversight"}"#
                    let status = Self.status(of: Self.exchange(
                        port: server.port,
                        "POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(steward)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)",
                        timeout: 60))
                    statuses.withLock { $0.append(status) }
                    done.leave()
                }.start()
            }
            // Every write has reached the server and waits for the writer.
            usleep(500_000)
            let started = ContinuousClock.now
            let health = Self.status(of: Self.exchange(port: server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: 10))
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            release.signal()
            done.wait()
            return (health, seconds, statuses.withLock { $0 })
        }
        print("healthz: \(outcome.0) in \(String(format: "%.4f", outcome.1)) s while \(writes) writes waited for the writer")
        #expect(outcome.0 == 200, "healthz gave no answer while writes waited (status \(outcome.0) after \(outcome.1) s)")
        #expect(outcome.1 < 10)
        #expect(outcome.2.count == writes && outcome.2.allSatisfy { $0 == 201 }, "\(outcome.2)")
        let names: [String] = try await database.read { db in try await db.column("SELECT name FROM api_token") }
        #expect(names.filter { $0.hasPrefix("espera ") }.count == writes)
    }

    /// Sends `request` on a new blocking socket to 127.0.0.1:`port` and reads until the server
    /// closes it (or `timeout` seconds pass without data): the response, or "" on failure.
    static func exchange(port: Int, _ request: String, timeout: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "" }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { return "" }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }

    /// The status code of a raw HTTP/1.1 response (0 when there is none).
    static func status(of response: String) -> Int {
        let parts = response.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
    }
}
