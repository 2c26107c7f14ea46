import Foundation
import GRDB
import PlazoModel
import PlazoSodium
import PlazoWire
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Operations (issue 14): a service that cannot be starved, keeps queries and tokens out of its
/// log, and speaks TLS. Through the real binary.
@Suite("Operations through the plazo binary", .serialized)
struct OperationsTests {
    func workspace() throws -> String {
        let dir = NSTemporaryDirectory() + "plazo-ops-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try PlazoProcess.run(["keys", "service", "--out", "keys"], in: dir).status == 0)
        return dir
    }

    /// A connection to the server on loopback, at the socket level.
    static func connect(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if ok != 0 { close(fd); return nil }
        return fd
    }

    static func healthz(_ url: String, timeout: Double = 5) async -> (ok: Bool, seconds: Double) {
        let started = Date()
        var request = URLRequest(url: URL(string: url + "/healthz")!)
        request.timeoutInterval = timeout
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return (false, Date().timeIntervalSince(started)) }
        return ((response as? HTTPURLResponse)?.statusCode == 200, Date().timeIntervalSince(started))
    }

    /// Starvation is about answering at all while the connections are held: the header deadline
    /// is set far beyond the test (60 s) so that an answer cannot come from half-open connections
    /// being freed. The latency is printed, not asserted against a second: the suites run in
    /// parallel, and timed assertions under that load would be flaky (it is about 0.01 s on an idle
    /// machine).
    @Test("400 half-open connections do not starve /healthz")
    func halfOpenConnections() async throws {
        let dir = try workspace()
        let server = try await ServerProcess(directory: dir, extra: ["--header-timeout", "60"])
        defer { server.stop() }
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        // Half-open: each sends the start of a request head and never finishes it.
        for _ in 0..<400 {
            guard let fd = Self.connect(server.port) else { break }
            _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n".withCString { write(fd, $0, strlen($0)) }
            sockets.append(fd)
        }
        #expect(sockets.count == 400)
        let answer = await Self.healthz(server.url)
        print("healthz with 400 half-open connections held: \(answer.ok ? "answered" : "no answer") in \(String(format: "%.3f", answer.seconds)) s")
        #expect(answer.ok, "healthz did not answer while 400 half-open connections were held")
    }

    /// Issue 23: with an open-file limit of 256 the connection cap is 192. 400 sockets that send
    /// nothing used to fill it and keep `/healthz` out until the idle timeout; now a new
    /// connection at the cap sheds the longest-idle one. The deadlines are set far beyond the test
    /// (60 s), so the answer cannot come from the idle sockets' deadlines.
    ///
    /// On a quiet machine `/healthz` answers in 0.01–0.15 s (printed). The assertion allows 20 s:
    /// the suites run in parallel, and under CI's load the server process first works through the
    /// ~200 queued connections (3.4 s seen in a CI rehearsal). 20 s is still a third of the 60 s
    /// deadlines, so the old behaviour (no answer until a deadline frees a slot) fails it.
    @Test("open-file limit 256, 400 idle sockets that send nothing: /healthz answers long before any deadline frees a slot")
    func idleSocketsAtTheCap() async throws {
        let dir = try workspace()
        let server = try await ServerProcess(
            directory: dir, extra: ["--header-timeout", "60", "--idle-timeout", "60"], openFileLimit: 256)
        defer { server.stop() }
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<400 {
            guard let fd = Self.connect(server.port) else { break }
            sockets.append(fd)
        }
        #expect(sockets.count == 400)
        // Let the server accept what it will of them.
        try await Task.sleep(for: .milliseconds(500))
        let answer = await Self.healthz(server.url, timeout: 20)
        print("healthz with 400 idle sockets at open-file limit 256: \(answer.ok ? "answered" : "no answer") in \(String(format: "%.3f", answer.seconds)) s")
        #expect(answer.ok, "healthz did not answer while 400 idle sockets were held at open-file limit 256")
        #expect(answer.seconds < 20, "healthz took \(answer.seconds) s")
        // The service is still whole: its own files open (the store answers a metrics scrape on loopback).
        var metrics = URLRequest(url: URL(string: server.url + "/metrics")!)
        metrics.timeoutInterval = 5
        let scraped = try? await URLSession.shared.data(for: metrics)
        let text = scraped.map { String(decoding: $0.0, as: UTF8.self) } ?? ""
        let shed = text.split(separator: "\n").first { $0.hasPrefix("plazo_connections_shed_total ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect((shed ?? 0) > 0, "\(text.prefix(300))")
    }

    /// Whether `fd` has something to read (or its end) within `milliseconds`. Looks without
    /// blocking and sleeps between looks: a blocking poll would hold one of the test process's
    /// few concurrency threads, which the suites running beside this one need (a replica test's
    /// connection killer starved that way).
    static func readable(_ fd: Int32, within milliseconds: Int) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        while true {
            var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&probe, 1, 0) > 0 { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whether the peer has closed `fd` (end of file or reset) within `milliseconds`.
    static func closedByPeer(_ fd: Int32, within milliseconds: Int) async -> Bool {
        guard await readable(fd, within: milliseconds) else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return read(fd, &buffer, buffer.count) <= 0
    }

    /// One request on a raw socket, its response read (the connection stays open: keep-alive).
    static func request(_ fd: Int32, _ path: String) async -> String {
        _ = "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n".withCString { write(fd, $0, strlen($0)) }
        guard await readable(fd, within: 5000) else { return "" }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    @Test("at the connection cap, the kept-alive idle connection is shed first, before older silent ones")
    func shedKeptAliveFirst() async throws {
        let dir = try workspace()
        let server = try await ServerProcess(directory: dir, extra: ["--max-connections", "4", "--header-timeout", "60", "--idle-timeout", "60"])
        defer { server.stop() }
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        // The oldest: silent. Then one that had its answer and is kept alive. Then two more silent ones.
        let silent = try #require(Self.connect(server.port))
        sockets.append(silent)
        try await Task.sleep(for: .milliseconds(100))
        let keptAlive = try #require(Self.connect(server.port))
        sockets.append(keptAlive)
        #expect(await Self.request(keptAlive, "/healthz").hasPrefix("HTTP/1.1 200"))
        for _ in 0..<2 { sockets.append(try #require(Self.connect(server.port))) }
        try await Task.sleep(for: .milliseconds(200))
        // The fifth: answered at once; the kept-alive connection gave way, the older silent one did not.
        let fifth = try #require(Self.connect(server.port))
        sockets.append(fifth)
        #expect(await Self.request(fifth, "/healthz").hasPrefix("HTTP/1.1 200"))
        // Generous under the parallel suites' load; the deadlines (60 s) cannot be what closes it.
        #expect(await Self.closedByPeer(keptAlive, within: 10000), "the kept-alive idle connection was not shed")
        #expect(await Self.closedByPeer(silent, within: 200) == false, "an older silent connection was shed before the kept-alive one")
    }

    /// When every connection at the cap is in the middle of a request, a new one waits in the
    /// listen queue (or is served at once within the roster's small overshoot, when a connection
    /// was idle at the moment the server decided to accept); as soon as one of them has its answer
    /// (idle, kept alive), a waiting client is accepted and the idle one shed for it.
    @Test("at the cap with every connection busy, a waiting client is taken as soon as one goes idle")
    func waitingClientTakenWhenOneGoesIdle() async throws {
        let dir = try workspace()
        let server = try await ServerProcess(directory: dir, extra: ["--max-connections", "2", "--body-timeout", "60", "--header-timeout", "60"])
        defer { server.stop() }
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        // Two uploads whose bodies have not arrived: both connections are busy.
        let head = "POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 8\r\n\r\n"
        for _ in 0..<2 {
            let fd = try #require(Self.connect(server.port))
            sockets.append(fd)
            _ = head.withCString { write(fd, $0, strlen($0)) }
        }
        try await Task.sleep(for: .milliseconds(300))
        let waiting = try #require(Self.connect(server.port))
        sockets.append(waiting)
        _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".withCString { write(waiting, $0, strlen($0)) }
        let servedAtOnce = await Self.readable(waiting, within: 500)
        print("with both connections at the cap busy, a third was \(servedAtOnce ? "served at once (overshoot)" : "left waiting")")
        // The first upload ends (a malformed batch: refused, and its connection kept alive).
        _ = "garbage!".withCString { write(sockets[0], $0, 8) }
        let started = Date()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let answered = await Self.readable(waiting, within: 20000) && read(waiting, &buffer, buffer.count) > 0
        let seconds = Date().timeIntervalSince(started)
        print("the waiting client was answered \(String(format: "%.3f", seconds)) s after a connection went idle")
        #expect(answered && String(decoding: buffer.prefix(12), as: UTF8.self) == "HTTP/1.1 200")
        // About 0.01 s on a quiet machine; the bound only has to stay below the 60 s deadlines
        // that would otherwise free a slot, with room for the parallel suites' load.
        #expect(seconds < 20, "the waiting client was not taken when a connection went idle")
    }

    @Test("a socket that sends nothing is closed at the header deadline, counted from its accept")
    func silentSocketDeadline() async throws {
        let dir = try workspace()
        let server = try await ServerProcess(directory: dir, extra: ["--header-timeout", "1", "--idle-timeout", "60"])
        defer { server.stop() }
        let fd = try #require(Self.connect(server.port))
        defer { close(fd) }
        let started = Date()
        var closedAfter: Double?
        while Date().timeIntervalSince(started) < 8 {
            if await Self.readable(fd, within: 200) {
                var buffer = [UInt8](repeating: 0, count: 64)
                if read(fd, &buffer, 64) <= 0 { closedAfter = Date().timeIntervalSince(started); break }
            }
        }
        print("a silent socket was closed after \(closedAfter.map { String(format: "%.2f", $0) } ?? "never") s (deadline 1 s)")
        #expect(closedAfter != nil, "a socket that sent nothing for 8 s was still open (header deadline 1 s)")
        #expect((closedAfter ?? 0) >= 0.9, "closed before its deadline")
    }

    @Test("a trickled request head is cut off at its deadline")
    func headerDeadline() async throws {
        let dir = try workspace()
        let server = try await ServerProcess(directory: dir, extra: ["--header-timeout", "1"])
        defer { server.stop() }
        let fd = try #require(Self.connect(server.port))
        defer { close(fd) }
        // A valid request head, one header line every 300 ms: never idle, never finished.
        _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n".withCString { write(fd, $0, strlen($0)) }
        var closedAfter: Double?
        let started = Date()
        var events: [String] = []
        while Date().timeIntervalSince(started) < 8 {
            let sent = "X-Slow: 1\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { closedAfter = Date().timeIntervalSince(started); events.append("send \(sent)"); break }
            var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&probe, 1, 300) > 0 {
                var buffer = [UInt8](repeating: 0, count: 512)
                let n = read(fd, &buffer, 512)
                events.append("read \(n)")
                if n <= 0 { closedAfter = Date().timeIntervalSince(started); break }
            }
        }
        #expect(closedAfter != nil, "a connection trickling its head for 8 s was still open (deadline 1 s): \(events)")
    }

    @Test("the log has no query string and no token, and counts only at debug level")
    func logHygiene() async throws {
        let dir = try workspace()
        let logPath = dir + "/serve.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let server = try await ServerProcess(directory: dir, logLevel: "info", stderr: log)
        let planted = "plz_PLANTEDsecretTOKENvalue000000000000000000"
        var request = URLRequest(url: URL(string: server.url + "/v1/dashboards?access_token=\(planted)&state=09")!)
        request.setValue("Bearer \(planted)", forHTTPHeaderField: "Authorization")
        _ = try? await URLSession.shared.data(for: request)
        _ = await Self.healthz(server.url)
        await server.stop()
        try log.close()
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(text.contains("http.path=/v1/dashboards"), "the request was logged")
        #expect(!text.contains("PLANTED") && !text.contains("access_token") && !text.contains("state=09"))
        #expect(!text.contains("events=") && !text.contains("cases="), "no count at info level")
    }

    @Test("HTTPS with a certificate and key; plazo submit trusts a given CA file")
    func tls() async throws {
        let dir = try workspace()
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", dir + "/tls.key", "-out", dir + "/tls.crt",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            Issue.record("openssl is needed to make a test certificate")
            return
        }
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        let server = try await ServerProcess(directory: dir, extra: ["--tls-cert", "tls.crt", "--tls-key", "tls.key"])
        defer { server.stop() }
        let https = "https://127.0.0.1:\(server.port)"
        // A client that trusts the CA file gets through; one that does not is refused by TLS.
        let batch = dir + "/empty.plzb"
        try Data([0]).write(to: URL(fileURLWithPath: batch))
        let trusted = try await PlazoProcess.run(
            ["submit", "--server", https, "--service-key", "keys/service-signing.public", "--ca-file", "tls.crt", "--plain", "--attempts", "1", "empty.plzb"], in: dir)
        #expect(trusted.err.contains("malformed") || trusted.err.contains("bad_") || trusted.err.contains("REFUSED"), "\(trusted.err)")
        #expect(!trusted.err.contains("certificate") && !trusted.err.contains("handshake"), "\(trusted.err)")
        let untrusted = try await PlazoProcess.run(
            ["submit", "--server", https, "--service-key", "keys/service-signing.public", "--plain", "--attempts", "1", "empty.plzb"], in: dir)
        #expect(untrusted.status == 1)
        #expect(untrusted.err.lowercased().contains("certificate") || untrusted.err.lowercased().contains("handshake") || untrusted.err.contains("SSL"), "\(untrusted.err)")
        // Plain HTTP on the TLS port is not served.
        let plain = await Self.healthz("http://127.0.0.1:\(server.port)")
        #expect(!plain.ok)
    }

    @Test("SIGTERM during ingest: in-flight requests finish, exit 0, no error lines, every acknowledged batch is stored; the snapshot written at the stop is what the next start loads")
    func sigtermDuringIngest() async throws {
        let dir = try workspace()
        await #expect(try PlazoProcess.run(["keys", "agency", "--out", "agency"], in: dir).status == 0)
        await #expect(try PlazoProcess.run(["agencies", "add", "--name", "Fiscalía", "--type", "state_prosecutor", "--public-key", "agency/agency-signing.public"], in: dir).status == 0)
        let signer = try KeyFile.read(dir + "/agency/agency-signing.secret", expecting: .agencySigningSecret).signingKeyPair()
        let service = try KeyFile.read(dir + "/keys/service-box.public", expecting: .serviceBoxPublic).boxPublicKey()
        try FileManager.default.createDirectory(atPath: dir + "/outbox", withIntermediateDirectories: true)
        var files: [String] = []
        let now = Int64(Date().timeIntervalSince1970)
        for b in 0..<80 {
            let events = (0..<2000).map { i in
                CaseEvent(pseudonym: CasePseudonym(low: UInt64(b * 2000 + i), high: 3), type: .reportReceived,
                          day: Day(year: 2024, month: 1, day: 1)!.adding(days: i % 300), agencyType: .stateProsecutor)
            }
            let path = dir + "/outbox/b\(b).plzb"
            try Data(try BatchSealer.seal(events: events, agencyID: 1, batchID: BatchID.random(), createdAt: now, signer: signer, service: service))
                .write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let logPath = dir + "/serve.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let server = try await ServerProcess(directory: dir, logLevel: "info", stderr: log)
        let submit = Process()
        submit.executableURL = URL(fileURLWithPath: PlazoProcess.binary)
        submit.arguments = ["submit", "--server", server.url, "--service-key", "keys/service-signing.public", "--plain", "--attempts", "1"] + files
        submit.currentDirectoryURL = URL(fileURLWithPath: dir)
        submit.standardOutput = FileHandle.nullDevice
        submit.standardError = FileHandle.nullDevice
        try submit.run()
        var stored = 0
        let deadline = Date().addingTimeInterval(60)
        repeat {
            try await Task.sleep(for: .milliseconds(3))
            let observer = try DatabaseQueue(path: dir + "/plazo.sqlite")
            stored = try await observer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM batch") ?? 0 }
            try observer.close()
        } while stored < 15 && Date() < deadline
        kill(server.process.processIdentifier, SIGTERM)
        #expect(await server.exited(within: 30), "the server did not stop within 30 s of SIGTERM")
        if server.process.isRunning { await server.kill9() }
        // The agency's client has nothing more to learn (a receipt file is written only after a
        // whole answer): stop it.
        if submit.isRunning { submit.terminate() }
        submit.waitUntilExit()
        try log.close()
        #expect(server.process.terminationStatus == 0)
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(!text.contains(" error "), "error lines at shutdown: \(text.split(separator: "\n").filter { $0.contains(" error ") }.prefix(3))")
        // Every batch the agency holds a receipt for is in the store.
        let acknowledged = files.filter { FileManager.default.fileExists(atPath: $0 + ".receipt") }
        #expect(acknowledged.count >= 15, "\(acknowledged.count) acknowledged")
        let db = try DatabaseQueue(path: dir + "/plazo.sqlite")
        let held = try await db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM batch") ?? 0 }
        #expect(held >= acknowledged.count)
        for file in acknowledged {
            let id = try BatchHeader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file)))).batchID
            let found = try await db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM batch WHERE batch_id = ?", arguments: [Data(id.bytes)]) ?? 0 }
            #expect(found == 1, "acknowledged batch \(file) is missing")
        }

        // The clean stop wrote the case-index snapshot at the last stored batch (mode 0600); the
        // next start loads it, replays no batch, and has nothing new to write when it stops.
        let last = try await db.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM batch") ?? 0 }
        try db.close()
        #expect(text.contains("case-index snapshot written"), "no snapshot written at shutdown")
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/plazo.sqlite.index-snapshot")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let againPath = dir + "/serve-again.log"
        FileManager.default.createFile(atPath: againPath, contents: nil)
        let againLog = try FileHandle(forWritingTo: URL(fileURLWithPath: againPath))
        let again = try await ServerProcess(directory: dir, logLevel: "info", stderr: againLog)
        await again.stop()
        try againLog.close()
        #expect(again.process.terminationStatus == 0)
        let againText = try String(contentsOfFile: againPath, encoding: .utf8)
        #expect(againText.contains("snapshot at batch #\(last) loaded") && againText.contains("0 later batch(es) replayed"), "\(againText)")
        #expect(againText.contains("case-index snapshot up to date"), "\(againText)")
    }
}
